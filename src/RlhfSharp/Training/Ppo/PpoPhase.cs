using System.Diagnostics;
using RlhfSharp.Checkpoints;
using RlhfSharp.Configuration;
using RlhfSharp.Data;
using RlhfSharp.Devices;
using RlhfSharp.Models;
using RlhfSharp.Tokenization;
using RlhfSharp.Training.Core;
using RlhfSharp.Training.Supervised;
using TorchSharp;

namespace RlhfSharp.Training.Ppo;

/// <summary>
/// Phase 3.2, the library's one entry: PPO-ptx from HF folders. Policy and frozen reference from the SFT folder, reward
/// (and by default value) model from the reward folder, prompts rendered with the policy folder's chat format and its
/// generation prompt, ptx documents packed into blocks joined by the document separator. Responses end at the policy
/// folder's response-end id (<see cref="ModelFolder.ResponseEndId"/>), where the reward model reads its score; the pad
/// id is never a stop id. The CLI's <c>rlhf ppo</c>, the recipe runner and the demo all call this.
/// </summary>
public static class PpoPhase
{
    /// <summary>The phase's name: its output subfolder in a pipeline and its recipe section.</summary>
    public const string Name = "ppo";

    /// <summary>Validates <paramref name="config"/>, opens the folders and data of <paramref name="sources"/>, trains and writes the policy as an HF folder into <see cref="RunOptions.Output"/>.</summary>
    public static PhaseResult Run(PpoConfig config, PpoSources sources, RunOptions run)
    {
        config.Validate();
        var (device, resume) = PhaseStart.Check(Name, run);
        var clock = Stopwatch.StartNew();
        var policyFolder = ModelFolder.Open(sources.PolicyFolder, sources.Tokenizer);
        if (!Directory.Exists(sources.RewardFolder)) throw new UserError($"{sources.RewardFolder}: reward model folder not found");
        CheckSameTokenizer(sources.PolicyFolder, sources.RewardFolder);
        var notes = new List<string>();
        void Note(string text) { notes.Add(text); run.Progress.Message($"{Name}: {text}"); }

        var rendered = sources.Prompts.Select(p => RenderPromptIds(p, policyFolder)).ToList();
        int maxNewTokens = ResponseLength(config, policyFolder.ContextLength, rendered, Note);
        config = config with { MaxNewTokens = maxNewTokens };
        int room = policyFolder.ContextLength - maxNewTokens;
        // Prompts that do not fit are dropped; keptIndex maps each kept prompt back to its place in the sources.
        var keptIndex = Enumerable.Range(0, rendered.Count).Where(i => rendered[i].Count > 0 && rendered[i].Count <= room).ToList();
        var promptIds = keptIndex.Select(i => rendered[i]).ToList();
        if (promptIds.Count < rendered.Count)
            Note($"skipped {rendered.Count - promptIds.Count} of {rendered.Count} prompts that do not fit the context of {policyFolder.ContextLength} tokens with max_new_tokens {maxNewTokens}");
        if (promptIds.Count == 0)
            throw new UserError($"{Name}: none of the {rendered.Count} prompts fits the policy's context of {policyFolder.ContextLength} tokens with max_new_tokens {maxNewTokens}");
        var ptx = PtxBlocks(config, sources, policyFolder);

        var frozenDevice = sources.FrozenDevice is null ? device : DeviceSetup.Resolve(sources.FrozenDevice);
        var frozenDtype = ModelFolder.ParseDtype(config.FrozenDtype);
        CausalLM? policy = null, reference = null;
        ScalarHeadModel? reward = null, value = null;
        try
        {
            var trainedDtype = Precision.Parse(config.Dtype);
            policy = policyFolder.LoadCausalLM(device, trainedDtype);
            // LoRA: the reference is the policy with its adapters off (no second copy of the weights).
            reference = config.Lora.Enabled ? policy : policyFolder.LoadCausalLM(frozenDevice, frozenDtype);
            reward = HfModelLoader.LoadScalarHead(sources.RewardFolder, frozenDevice, frozenDtype);
            if (config.ValueModel == ValueModelKind.FromReward) value = HfModelLoader.LoadScalarHead(sources.RewardFolder, device, trainedDtype);
            if (reward.Config.VocabSize < policyFolder.Config.VocabSize)
                throw new UserError($"{sources.RewardFolder}: vocab_size {reward.Config.VocabSize} is smaller than the policy's {policyFolder.Config.VocabSize}; the reward model must share the policy's tokenizer");
            run.Progress.Message($"{Name}: {promptIds.Count} prompts, {ptx?.Count ?? 0} ptx blocks, response end id {policyFolder.ResponseEndId}, " +
                                 $"pad id {policyFolder.PadId}, value model {PpoConfig.Schema.Find("value_model")!.Format(config)}");
            using var adapters = config.Lora.Attach(policy, Name, config.Seed);
            torch.manual_seed((long)config.Seed);   // the shared value head's initialisation (as without LoRA)
            using var trainer = new PpoTrainer(config, new PpoModels(policy, reference, new ModelRewardScorer(reward), value, adapters),
                promptIds, ptx, policyFolder.ResponseEndId, policyFolder.PadId)
            {
                ExtraMetrics = sources.RolloutMetrics is { } metrics
                    ? (indices, responses) => metrics(indices.Select(i => (long)keptIndex[(int)i]).ToArray(), responses)
                    : null,
            };
            var last = trainer.Train(run.Output, policyFolder.Path, run.Progress, resume, run.Cancellation);
            return new PhaseResult
            {
                Phase = Name, OutputDir = Path.GetFullPath(run.Output), Steps = trainer.Iteration, StepUnit = "iterations", Seconds = clock.Elapsed.TotalSeconds,
                ResumedFromStep = trainer.ResumedFromIteration, Metrics = last, Notes = notes,
            };
        }
        finally
        {
            foreach (var model in new HfModel?[] { policy, ReferenceEquals(reference, policy) ? null : reference, reward, value }) model?.Dispose();
        }
    }

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
    /// The response length: the configured one, or when none is given, 64 if the longest prompt still fits the context
    /// with it, else what is left after the longest prompt but at least half the context (and the choice is noted).
    /// </summary>
    public static int ResponseLength(PpoConfig config, int contextLength, IReadOnlyList<IReadOnlyList<int>> prompts, Action<string> note)
    {
        if (config.MaxNewTokens is int given)
        {
            if (given >= contextLength)
                throw new ConfigError(Name, "max_new_tokens", $"{given} leaves no room for a prompt in the policy's context of {contextLength} tokens");
            return given;
        }
        int leftAfterLongest = contextLength - (prompts.Count == 0 ? 0 : prompts.Max(p => p.Count));
        if (PpoConfig.DefaultMaxNewTokens <= leftAfterLongest) return PpoConfig.DefaultMaxNewTokens;
        int chosen = Math.Max(1, Math.Min(PpoConfig.DefaultMaxNewTokens, Math.Max(leftAfterLongest, contextLength / 2)));
        if (chosen < PpoConfig.DefaultMaxNewTokens)
            note($"max_new_tokens {chosen}: the default {PpoConfig.DefaultMaxNewTokens} does not fit the policy's context of {contextLength} tokens beside the prompts");
        return chosen;
    }

    static List<PackedBlock>? PtxBlocks(PpoConfig config, PpoSources sources, ModelFolder folder)
    {
        if (config.PtxCoef == 0) return null;
        if (sources.PtxDocuments is null || sources.PtxDocuments.Count == 0)
            throw new ConfigError(Name, "ptx_coef", "is > 0, which needs pretraining documents (ptx data); give them, or set ptx_coef 0");
        int block = config.PtxBlockSize > 0 ? Math.Min(config.PtxBlockSize, folder.ContextLength) : folder.ContextLength;
        var blocks = PretrainingPacker.Pack(sources.PtxDocuments, folder.Tokenizer, block, folder.DocumentSeparatorId).ToList();
        if (blocks.Count == 0) throw new UserError($"{Name}: the pretraining data gives no block of {block + 1} tokens; give more text or a smaller ptx_block_size");
        ChatExampleEncoder.CheckVocab(blocks[0].Input, folder.Config.VocabSize, "ptx data");
        return blocks;
    }

    /// <summary>The reward model scores the policy's token ids, so both folders must hold the same tokenizer.</summary>
    static void CheckSameTokenizer(string policyFolder, string rewardFolder)
    {
        var policyTokenizer = Path.Combine(policyFolder, TokenizerConfigFile.TokenizerJson);
        var rewardTokenizer = Path.Combine(rewardFolder, TokenizerConfigFile.TokenizerJson);
        if (File.Exists(policyTokenizer) && File.Exists(rewardTokenizer)
            && !File.ReadAllBytes(policyTokenizer).AsSpan().SequenceEqual(File.ReadAllBytes(rewardTokenizer)))
            throw new UserError($"{rewardFolder}: its tokenizer.json differs from the policy's ({policyFolder}); the reward model scores the policy's token ids, so it must be trained from the same tokenizer");
    }
}
