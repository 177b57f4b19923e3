using RlhfSharp.Checkpoints;
using RlhfSharp.Data;
using RlhfSharp.Models;
using RlhfSharp.Tokenization;
using RlhfSharp.Training.Core;
using RlhfSharp.Training.Supervised;
using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Ppo;

/// <summary>Where PPO's models and data come from. Shared by <c>rlhf ppo</c> and <c>rlhf pipeline</c>.</summary>
public sealed record PpoSources
{
    /// <summary>The SFT model folder: the policy starts from it and the frozen reference is a second copy of it.</summary>
    public required string PolicyDir { get; init; }
    /// <summary>The reward-model folder (*ForSequenceClassification); the value model starts from it (FromReward).</summary>
    public required string RewardDir { get; init; }
    public required IReadOnlyList<Prompt> Prompts { get; init; }
    /// <summary>Pretraining documents for the ptx term; required when <see cref="PpoConfig.PtxCoef"/> &gt; 0.</summary>
    public IReadOnlyList<string>? PtxDocuments { get; init; }
    /// <summary>Tokens per ptx block; 0 = the policy's context.</summary>
    public int PtxBlockSize { get; init; }
    public Device Device { get; init; } = CPU;
    /// <summary>Device of the frozen reference and reward models; null = <see cref="Device"/>.</summary>
    public Device? FrozenDevice { get; init; }
    /// <summary>Dtype of the frozen reference and reward models (e.g. bfloat16 halves their memory); null = float32.</summary>
    public ScalarType? FrozenDtype { get; init; }
    /// <summary>The tokenizer, when the policy folder holds none (GPT-2's tiktoken); null = the policy folder's.</summary>
    public ITextTokenizer? Tokenizer { get; init; }
}

/// <summary>Everything a <see cref="PpoTrainer"/> needs, loaded; dispose to free the four models.</summary>
public sealed class PpoSetup : IDisposable
{
    public required PpoModels Models { get; init; }
    public required ITextTokenizer Tokenizer { get; init; }
    public required IChatFormat ChatFormat { get; init; }
    public required List<IReadOnlyList<int>> PromptIds { get; init; }
    public required List<PackedBlock>? PtxBlocks { get; init; }
    public required int EosId { get; init; }
    public required int PadId { get; init; }
    /// <summary>Prompts dropped because prompt + max_new_tokens would not fit the policy's context.</summary>
    public required int DroppedPrompts { get; init; }

    public PpoTrainer CreateTrainer(PpoConfig config) => new(config, Models, PromptIds, PtxBlocks, EosId, PadId);

    public void Dispose()
    {
        Models.Policy.Dispose();
        Models.Reference.Dispose();
        if (Models.Reward is ModelRewardScorer rm) rm.Model.Dispose();
        Models.Value?.Dispose();
    }
}

/// <summary>
/// Wires PPO from HF folders: policy and reference from the SFT folder, reward (and by default value) model from the
/// reward folder, prompts rendered with the policy folder's chat format and its generation prompt, ptx documents packed
/// into blocks. The response ends at the chat format's end-of-turn token when that is one token (e.g. ChatML's
/// &lt;|im_end|&gt;), else at the tokenizer's EOS; the pad id is never that EOS (PpoTrainer refuses it).
/// </summary>
public static class PpoFromFolders
{
    public static PpoSetup Load(PpoConfig config, PpoSources s)
    {
        config.Validate();
        if (!Directory.Exists(s.PolicyDir)) throw new UserError($"--policy {s.PolicyDir}: folder not found");
        if (!Directory.Exists(s.RewardDir)) throw new UserError($"--reward {s.RewardDir}: folder not found");
        CheckSameTokenizer(s.PolicyDir, s.RewardDir);
        var tokenizer = s.Tokenizer ?? TokenizerLoader.FromFolder(s.PolicyDir);
        var format = ChatFormats.FromTokenizerConfig(s.PolicyDir);
        var policyConfig = HfFolder.ReadConfig(s.PolicyDir);
        int eos = EosId(format, tokenizer, policyConfig, s.PolicyDir);
        int pad = PadId(tokenizer, policyConfig, eos);

        // Prompts: rendered as a user turn (or the record's own turns) plus the generation prompt, no extra BOS
        // (a chat template writes its own). Too long for prompt + max_new_tokens in the context: dropped, counted.
        int room = policyConfig.MaxPositions - config.MaxNewTokens;
        if (room < 1)
            throw new UserError($"ppo: max_new_tokens {config.MaxNewTokens} leaves no room for a prompt in the policy's context ({policyConfig.MaxPositions} tokens)");
        var promptIds = new List<IReadOnlyList<int>>();
        int dropped = 0;
        foreach (var p in s.Prompts)
        {
            var ids = tokenizer.Encode(RenderPrompt(p, format));
            ChatExampleEncoder.CheckVocab(ids, policyConfig.VocabSize, p.Source ?? "prompt");
            if (ids.Count == 0 || ids.Count > room) { dropped++; continue; }
            promptIds.Add(ids);
        }
        if (promptIds.Count == 0)
            throw new UserError($"ppo: none of the {s.Prompts.Count} prompts fits the policy's context of {policyConfig.MaxPositions} tokens with max_new_tokens {config.MaxNewTokens}");

        List<PackedBlock>? ptx = null;
        if (config.PtxCoef > 0)
        {
            if (s.PtxDocuments is null || s.PtxDocuments.Count == 0)
                throw new UserError("ppo: ptx_coef > 0 needs pretraining data (--ptx-data), or set --ptx-coef 0");
            int block = s.PtxBlockSize > 0 ? Math.Min(s.PtxBlockSize, policyConfig.MaxPositions) : policyConfig.MaxPositions;
            ptx = PretrainingPacker.Pack(s.PtxDocuments, tokenizer, block, eos).ToList();
            if (ptx.Count == 0) throw new UserError($"ppo: the pretraining data gives no block of {block + 1} tokens; give more text or a smaller ptx block size");
            ChatExampleEncoder.CheckVocab(ptx[0].Input, policyConfig.VocabSize, "ptx data");
        }

        var frozenDevice = s.FrozenDevice ?? s.Device;
        CausalLM? policy = null, reference = null;
        ScalarHeadModel? rm = null, value = null;
        try
        {
            policy = HfModelLoader.LoadCausalLM(s.PolicyDir, s.Device);
            reference = HfModelLoader.LoadCausalLM(s.PolicyDir, frozenDevice, s.FrozenDtype);
            rm = HfModelLoader.LoadScalarHead(s.RewardDir, frozenDevice, s.FrozenDtype);
            if (config.ValueModel == ValueModelKind.FromReward) value = HfModelLoader.LoadScalarHead(s.RewardDir, s.Device);
            if (rm.Config.VocabSize < policyConfig.VocabSize)
                throw new UserError($"--reward {s.RewardDir}: vocab_size {rm.Config.VocabSize} is smaller than the policy's {policyConfig.VocabSize}; the reward model must share the policy's tokenizer");
        }
        catch
        {
            foreach (var m in new HfModel?[] { policy, reference, rm, value }) m?.Dispose();
            throw;
        }
        return new PpoSetup
        {
            Models = new PpoModels(policy, reference, new ModelRewardScorer(rm), value),
            Tokenizer = tokenizer, ChatFormat = format, PromptIds = promptIds, PtxBlocks = ptx, EosId = eos, PadId = pad,
            DroppedPrompts = dropped,
        };
    }

    /// <summary>
    /// Loads, trains (resuming from <c>output/checkpoints</c> when <paramref name="resume"/>) and writes the policy as an
    /// HF folder into <paramref name="output"/>. Returns a one-line summary.
    /// </summary>
    public static string Train(PpoConfig config, PpoSources sources, string output, ITrainingProgress progress, bool resume)
    {
        using var setup = Load(config, sources);
        if (setup.DroppedPrompts > 0)
            progress.Message($"ppo: skipped {setup.DroppedPrompts} of {sources.Prompts.Count} prompts that do not fit the context with max_new_tokens {config.MaxNewTokens}");
        progress.Message($"ppo: {setup.PromptIds.Count} prompts, {setup.PtxBlocks?.Count ?? 0} ptx blocks, eos id {setup.EosId}, pad id {setup.PadId}, " +
                         $"value model {(config.ValueModel == ValueModelKind.FromReward ? "from_reward" : "shared")}");
        torch.manual_seed((long)config.Seed);   // the shared value head's initialisation
        using var trainer = setup.CreateTrainer(config);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        trainer.Train(output, sources.PolicyDir, progress, resume);
        return $"ppo: {trainer.Iteration} iterations in {clock.Elapsed.TotalSeconds:F1} s; policy written to {Path.GetFullPath(output)}";
    }

    /// <summary>"float32" (null: no conversion), "bfloat16"/"bf16" or "float16"/"fp16"; <paramref name="key"/> names the option.</summary>
    public static ScalarType? ParseDtype(string name, string key) => name.Trim().ToLowerInvariant() switch
    {
        "float32" or "fp32" => null,
        "bfloat16" or "bf16" => ScalarType.BFloat16,
        "float16" or "fp16" => ScalarType.Float16,
        _ => throw new UserError($"{key}: must be float32, bfloat16 or float16, got '{name}'"),
    };

    /// <summary>The prompt text the policy continues: its turns (or one user turn) and the generation prompt.</summary>
    public static string RenderPrompt(Prompt p, IChatFormat format) =>
        format.Render(p.Messages is { Count: > 0 } turns ? ChatExampleEncoder.ToMessages(turns) : [new ChatMessage("user", p.Text)],
            addGenerationPrompt: true);

    /// <summary>The token that ends a response: the format's end-of-turn if it is one token, else the tokenizer's or config's EOS.</summary>
    public static int EosId(IChatFormat format, ITextTokenizer tokenizer, TransformerConfig config, string dir)
    {
        var endOfTurn = tokenizer.Encode(format.EndOfTurn.Trim());
        if (endOfTurn.Count == 1) return endOfTurn[0];
        return tokenizer.EosId ?? config.EosTokenId
            ?? throw new UserError($"{dir}: neither the chat format's end of turn '{format.EndOfTurn.Trim()}' is one token nor does the tokenizer or config.json name an EOS; PPO needs one to end responses");
    }

    /// <summary>A pad id that is not the EOS: the tokenizer's or config's pad, else the smallest other id (pads are masked).</summary>
    public static int PadId(ITextTokenizer tokenizer, TransformerConfig config, int eos)
    {
        foreach (var candidate in new[] { tokenizer.PadId, config.PadTokenId })
            if (candidate is int p && p != eos) return p;
        return eos == 0 ? 1 : 0;
    }

    /// <summary>The reward model scores the policy's token ids, so both folders must hold the same tokenizer.</summary>
    static void CheckSameTokenizer(string policyDir, string rewardDir)
    {
        var a = Path.Combine(policyDir, TokenizerConfigFile.TokenizerJson);
        var b = Path.Combine(rewardDir, TokenizerConfigFile.TokenizerJson);
        if (File.Exists(a) && File.Exists(b) && !File.ReadAllBytes(a).AsSpan().SequenceEqual(File.ReadAllBytes(b)))
            throw new UserError($"--reward {rewardDir}: its tokenizer.json differs from the policy's ({policyDir}); the reward model scores the policy's token ids, so it must be trained from the same tokenizer");
    }
}
