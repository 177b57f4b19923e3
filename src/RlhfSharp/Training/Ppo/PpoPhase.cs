using System.Diagnostics;
using RlhfSharp.Checkpoints;
using RlhfSharp.Configuration;
using RlhfSharp.Data;
using RlhfSharp.Devices;
using RlhfSharp.Models;
using RlhfSharp.Tokenization;
using RlhfSharp.Training.Core;
using RlhfSharp.Training.Rl;
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

    /// <summary>The value model's adapters draw A from the seed plus this, so they do not start as the policy's.</summary>
    const ulong ValueAdapterSeedOffset = 1;

    /// <summary>Validates <paramref name="config"/>, opens the folders and data of <paramref name="sources"/>, trains and writes the policy as an HF folder into <see cref="RunOptions.Output"/>.</summary>
    public static PhaseResult Run(PpoConfig config, PpoSources sources, RunOptions run)
    {
        config.Validate();
        if (run.Distributed != Distributed.DistributedMode.None && config.RolloutEngine.UsesServer)
            throw new UserError($"{Name}: --rollout-engine openai cannot be combined with --distributed {run.Distributed.ToString().ToLowerInvariant()} " +
                "(the ranks would share one server); roll out locally on each rank, or use the server from one process");
        var (device, resume, group) = PhaseStart.CheckDataParallel(Name, run);
        using var current = Distributed.ProcessGroup.Use(group);
        // Rank 0 alone reports; the others train silently.
        if (!group.IsMain) run = run with { Progress = NullProgress.Instance };
        PpoTrainer.CheckSplit(group, Name, "rollout_batch_size", config.RolloutBatchSize);
        if (group.Size > 1) run.Progress.Message($"{Name}: data-parallel over {group.Size} processes, {config.RolloutBatchSize / group.Size} prompts each per iteration");
        var clock = Stopwatch.StartNew();
        var policyFolder = ModelFolder.Open(sources.PolicyFolder, sources.Tokenizer);
        RlPrompts.CheckRewardFolder(sources.RewardFolder, sources.PolicyFolder);
        var notes = new List<string>();
        void Note(string text) { notes.Add(text); run.Progress.Message($"{Name}: {text}"); }

        var prompts = RlPrompts.Prepare(Name, sources.Prompts, policyFolder, config.MaxNewTokens, Note);
        config = config with { MaxNewTokens = prompts.MaxNewTokens };
        var promptIds = prompts.PromptIds;
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
            reward = RlPrompts.LoadRewardModel(sources.RewardFolder, policyFolder, frozenDevice, frozenDtype);
            if (config.ValueModel == ValueModelKind.FromReward) value = HfModelLoader.LoadScalarHead(sources.RewardFolder, device, trainedDtype);
            run.Progress.Message($"{Name}: {promptIds.Count} prompts, {ptx?.Count ?? 0} ptx blocks, response end id {policyFolder.ResponseEndId}, " +
                                 $"pad id {policyFolder.PadId}, value model {PpoConfig.Schema.Find("value_model")!.Format(config)}");
            using var adapters = config.Lora.Attach(policy, Name, config.Seed);
            // With LoRA the value model (a copy of the reward model) trains adapters and its head only, from a different draw of A.
            using var valueAdapters = value is null ? null : config.Lora.Attach(value, Name, config.Seed + ValueAdapterSeedOffset);
            torch.manual_seed((long)config.Seed);   // the shared value head's initialisation (as without LoRA)
            var snapshot = PolicySnapshot.Of(policy, adapters, policyFolder.Path);
            using var engine = RolloutEngines.Open(config.RolloutEngine, snapshot, run.Output, text => run.Progress.Message($"{Name}: {text}"));
            using var trainer = new PpoTrainer(config, new PpoModels(policy, reference, new ModelRewardScorer(reward), value, adapters, valueAdapters),
                promptIds, ptx, policyFolder.ResponseEndId, policyFolder.PadId)
            {
                ExtraMetrics = prompts.InSourceIndices(sources.RolloutMetrics), RolloutEngine = engine,
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

    /// <summary>The prompt ids the policy continues (<see cref="RlPrompts.RenderPromptIds"/>).</summary>
    public static IReadOnlyList<int> RenderPromptIds(Prompt prompt, ModelFolder folder) => RlPrompts.RenderPromptIds(prompt, folder);

    /// <summary>The prompt text: its turns (or one user turn) and the generation prompt (<see cref="RlPrompts.RenderPrompt"/>).</summary>
    public static string RenderPrompt(Prompt prompt, IChatFormat format) => RlPrompts.RenderPrompt(prompt, format);

    /// <summary>PPO's response length (<see cref="RlPrompts.ResponseLength"/>): the configured one, or 64 when it fits
    /// beside the longest prompt, else what is left but at least half the context.</summary>
    public static int ResponseLength(PpoConfig config, int contextLength, IReadOnlyList<IReadOnlyList<int>> prompts, Action<string> note) =>
        RlPrompts.ResponseLength(Name, config.MaxNewTokens, contextLength, prompts, note);

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
}
