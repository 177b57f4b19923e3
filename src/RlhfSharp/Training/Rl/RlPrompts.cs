using RlhfSharp.Checkpoints;
using RlhfSharp.Configuration;
using RlhfSharp.Data;
using RlhfSharp.Tokenization;
using RlhfSharp.Training.Supervised;

namespace RlhfSharp.Training.Rl;

/// <summary>The RL prompts as the policy sees them, and the response length chosen beside them.</summary>
/// <param name="MaxNewTokens">the response length (the configured one, or the default that fits).</param>
/// <param name="PromptIds">rendered ids of every prompt that fits the context with <paramref name="MaxNewTokens"/>.</param>
/// <param name="SourceIndex">for each kept prompt, its index in the sources' prompt list.</param>
public sealed record RenderedPrompts(int MaxNewTokens, IReadOnlyList<IReadOnlyList<int>> PromptIds, IReadOnlyList<int> SourceIndex)
{
    /// <summary>A per-rollout metrics callback that is given indices into the caller's prompts, wrapped so the trainer
    /// can call it with indices into the kept prompts; null stays null.</summary>
    public Func<long[], int[][], IReadOnlyDictionary<string, double>>? InSourceIndices(Func<long[], int[][], IReadOnlyDictionary<string, double>>? metrics) =>
        metrics is null ? null : (indices, responses) => metrics(indices.Select(i => (long)SourceIndex[(int)i]).ToArray(), responses);
}

/// <summary>
/// What the RL phases (PPO, GRPO, RLOO) do with prompts before training: render them with the policy folder's chat
/// format and its generation prompt, choose the response length, and drop prompts that leave it no room.
/// </summary>
public static class RlPrompts
{
    /// <summary>The response length used when none is configured and the context allows.</summary>
    public const int DefaultMaxNewTokens = 64;

    /// <summary>The prompt ids the policy continues: its turns (or one user turn) and the generation prompt, no extra
    /// BOS (a chat template writes its own).</summary>
    public static IReadOnlyList<int> RenderPromptIds(Prompt prompt, ModelFolder folder)
    {
        var ids = folder.Tokenizer.Encode(RenderPrompt(prompt, folder.ChatFormat));
        ChatExampleEncoder.CheckVocab(ids, folder.Config.VocabSize, prompt.Source ?? "prompt");
        return ids;
    }

    /// <summary>The prompt text: its turns (or one user turn) and the generation prompt.</summary>
    public static string RenderPrompt(Prompt prompt, IChatFormat format) =>
        format.Render(prompt.Messages is { Count: > 0 } turns ? ChatExampleEncoder.ToMessages(turns) : [new ChatMessage("user", prompt.Text)],
            addGenerationPrompt: true);

    /// <summary>
    /// The response length: <paramref name="configured"/>, or when none is given, 64 if the longest prompt still fits
    /// the context with it, else what is left after the longest prompt but at least half the context (and the choice
    /// is noted). A configured length that leaves no room is a <see cref="ConfigError"/> of <paramref name="phase"/>.
    /// </summary>
    public static int ResponseLength(string phase, int? configured, int contextLength, IReadOnlyList<IReadOnlyList<int>> prompts, Action<string> note)
    {
        if (configured is int given)
        {
            if (given >= contextLength)
                throw new ConfigError(phase, "max_new_tokens", $"{given} leaves no room for a prompt in the policy's context of {contextLength} tokens");
            return given;
        }
        int leftAfterLongest = contextLength - (prompts.Count == 0 ? 0 : prompts.Max(p => p.Count));
        if (DefaultMaxNewTokens <= leftAfterLongest) return DefaultMaxNewTokens;
        int chosen = Math.Max(1, Math.Min(DefaultMaxNewTokens, Math.Max(leftAfterLongest, contextLength / 2)));
        if (chosen < DefaultMaxNewTokens)
            note($"max_new_tokens {chosen}: the default {DefaultMaxNewTokens} does not fit the policy's context of {contextLength} tokens beside the prompts");
        return chosen;
    }

    /// <summary>Renders every prompt, chooses the response length, and keeps the prompts that fit beside it (noting how
    /// many were skipped); none fitting is a user error.</summary>
    public static RenderedPrompts Prepare(string phase, IReadOnlyList<Prompt> prompts, ModelFolder folder, int? configuredMaxNewTokens, Action<string> note)
    {
        var rendered = prompts.Select(p => RenderPromptIds(p, folder)).ToList();
        int maxNewTokens = ResponseLength(phase, configuredMaxNewTokens, folder.ContextLength, rendered, note);
        int room = folder.ContextLength - maxNewTokens;
        var kept = Enumerable.Range(0, rendered.Count).Where(i => rendered[i].Count > 0 && rendered[i].Count <= room).ToList();
        if (kept.Count < rendered.Count)
            note($"skipped {rendered.Count - kept.Count} of {rendered.Count} prompts that do not fit the context of {folder.ContextLength} tokens with max_new_tokens {maxNewTokens}");
        if (kept.Count == 0)
            throw new UserError($"{phase}: none of the {rendered.Count} prompts fits the policy's context of {folder.ContextLength} tokens with max_new_tokens {maxNewTokens}");
        return new RenderedPrompts(maxNewTokens, kept.Select(i => rendered[i]).ToList(), kept);
    }

    /// <summary>Checks a reward-model folder before anything is loaded: it exists, and it holds the policy's tokenizer
    /// (the reward model scores the policy's token ids, so both must be trained from the same tokenizer).</summary>
    public static void CheckRewardFolder(string rewardFolder, string policyFolder)
    {
        if (!Directory.Exists(rewardFolder)) throw new UserError($"{rewardFolder}: reward model folder not found");
        var policyTokenizer = Path.Combine(policyFolder, TokenizerConfigFile.TokenizerJson);
        var rewardTokenizer = Path.Combine(rewardFolder, TokenizerConfigFile.TokenizerJson);
        if (File.Exists(policyTokenizer) && File.Exists(rewardTokenizer)
            && !File.ReadAllBytes(policyTokenizer).AsSpan().SequenceEqual(File.ReadAllBytes(rewardTokenizer)))
            throw new UserError($"{rewardFolder}: its tokenizer.json differs from the policy's ({policyFolder}); the reward model scores the policy's token ids, so it must be trained from the same tokenizer");
    }

    /// <summary>Loads a reward model checked by <see cref="CheckRewardFolder"/>; its vocabulary must cover the policy's.</summary>
    public static Models.ScalarHeadModel LoadRewardModel(string rewardFolder, ModelFolder policy, TorchSharp.torch.Device device, TorchSharp.torch.ScalarType? dtype)
    {
        var reward = HfModelLoader.LoadScalarHead(rewardFolder, device, dtype);
        if (reward.Config.VocabSize < policy.Config.VocabSize)
        {
            reward.Dispose();
            throw new UserError($"{rewardFolder}: vocab_size {reward.Config.VocabSize} is smaller than the policy's {policy.Config.VocabSize}; the reward model must share the policy's tokenizer");
        }
        return reward;
    }
}
