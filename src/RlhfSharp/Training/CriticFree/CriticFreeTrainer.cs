using RlhfSharp.Distributed;
using RlhfSharp.Models;
using RlhfSharp.Models.Lora;
using RlhfSharp.Training.Core;
using RlhfSharp.Training.Rl;
using TorchSharp;
using static TorchSharp.torch;
using AdamW = RlhfSharp.Training.Core.AdamW;

namespace RlhfSharp.Training.CriticFree;

/// <summary>The models a critic-free method works with: the policy, the frozen reference, and the weighted rewards.
/// No value model: the group baseline replaces it.</summary>
/// <param name="Policy">the trained policy.</param>
/// <param name="Reference">the frozen SFT model (KL reference); may sit on another device or dtype.</param>
/// <param name="Rewards">the reward terms, summed with their weights (at least one).</param>
/// <param name="PolicyAdapters">the policy's LoRA adapters when LoRA is on; the reference may then be the policy itself,
/// run with its adapters off.</param>
public sealed record CriticFreeModels(CausalLM Policy, CausalLM Reference, IReadOnlyList<RewardTerm> Rewards, LoraAdapters? PolicyAdapters = null);

/// <summary>
/// GRPO and RLOO, one trainer: each iteration samples G responses to each of a batch of prompts, scores them, turns
/// each group's rewards into advantages (<see cref="CriticFreeObjective.Advantage"/>) and takes
/// <see cref="CriticFreeSettings.NumIterations"/> passes of gradient steps on the policy loss
/// (<see cref="CriticFreeObjective.Loss"/>). Rollouts, reference log-probs, seeds, checkpoints and the loop are PPO's
/// (<see cref="RolloutSampler"/>, <see cref="RlTrainingLoop"/>). Resumes exactly: policy, optimizer, prompt sampler and
/// iteration are in the checkpoint, and every random draw is seeded from (seed, iteration).
/// </summary>
public sealed partial class CriticFreeTrainer : IRlTrainer, IDisposable
{
    readonly CriticFreeSettings settings;
    readonly CriticFreeObjective objective;
    readonly CriticFreeModels models;
    readonly IReadOnlyList<IReadOnlyList<int>> prompts;
    readonly int eosId, padId;
    readonly Device device;
    readonly AdamW policyOpt;
    readonly EpochSampler promptSampler;
    readonly ProcessGroup group;             // data parallelism: each rank rolls out whole groups of its share of the prompts

    /// <summary>Iterations done (rollout + update); restored on resume.</summary>
    public int Iteration { get; private set; }
    /// <summary>The iteration the last <see cref="Train"/> resumed from, or null for a fresh run.</summary>
    public long? ResumedFromIteration { get; private set; }
    /// <summary>Optional extra metrics per rollout (e.g. the demo's gold reward), given each row's prompt index and the response ids.</summary>
    public Func<long[], int[][], IReadOnlyDictionary<string, double>>? ExtraMetrics { get; set; }

    /// <summary>Who generates the rollouts; null: the policy in this process. The caller owns (and disposes) it.</summary>
    public IRolloutEngine? RolloutEngine { get; init; }

    /// <summary>GRPO with <paramref name="config"/> (validated here).</summary>
    public CriticFreeTrainer(GrpoConfig config, CriticFreeModels models, IReadOnlyList<IReadOnlyList<int>> promptIds, int eosTokenId, int padTokenId)
        : this(Valid(config, GrpoConfig.Schema).Common, config.Objective, models, promptIds, eosTokenId, padTokenId) { }

    /// <summary>RLOO with <paramref name="config"/> (validated here).</summary>
    public CriticFreeTrainer(RlooConfig config, CriticFreeModels models, IReadOnlyList<IReadOnlyList<int>> promptIds, int eosTokenId, int padTokenId)
        : this(Valid(config, RlooConfig.Schema).Common, config.Objective, models, promptIds, eosTokenId, padTokenId) { }

    /// <summary>Sets up the optimizer and the prompt sampler (for the two public constructors and the phase, which pass
    /// settings their method's schema has validated).</summary>
    /// <param name="settings">the shared settings (validated by the method's schema).</param>
    /// <param name="objective">group size, KL placement, advantage and loss.</param>
    /// <param name="models">policy, frozen reference and reward terms.</param>
    /// <param name="promptIds">rendered prompt ids, one list per prompt.</param>
    /// <param name="eosTokenId">the id that ends a response.</param>
    /// <param name="padTokenId">the pad id; must differ from <paramref name="eosTokenId"/>.</param>
    internal CriticFreeTrainer(CriticFreeSettings settings, CriticFreeObjective objective, CriticFreeModels models,
        IReadOnlyList<IReadOnlyList<int>> promptIds, int eosTokenId, int padTokenId)
    {
        string phase = objective.Phase;
        if (promptIds.Count == 0) throw new UserError($"{phase}: no prompts");
        if (models.Rewards.Count == 0) throw new UserError($"{phase}: no reward: give a reward model or reward functions");
        if (objective.GroupSize < 2) throw new Configuration.ConfigError(phase, "group_size", $"must be >= 2, got {objective.GroupSize}");
        if (eosTokenId == padTokenId) throw new UserError($"{phase}: the pad id equals the EOS id ({eosTokenId}); EOS is never used as padding");
        (this.settings, this.objective, this.models, prompts, eosId, padId) = (settings, objective, models, promptIds, eosTokenId, padTokenId);
        device = models.Policy.Device;
        group = ProcessGroup.Current;
        Ppo.PpoTrainer.CheckSplit(group, phase, "prompts_per_iteration", settings.PromptsPerIteration);

        if (!ReferenceEquals(models.Reference, models.Policy))
        {
            models.Reference.eval();
            foreach (var p in models.Reference.parameters()) p.requires_grad = false;
        }
        foreach (var term in models.Rewards)
            if (term.Scorer is ModelRewardScorer rm)
            {
                rm.Model.eval();
                foreach (var p in rm.Model.parameters()) p.requires_grad = false;
            }
        if (settings.Lora.Enabled != (models.PolicyAdapters is not null))
            throw new Configuration.ConfigError(phase, "lora_r", settings.Lora.Enabled ? "is > 0 but the policy has no LoRA adapters (attach them with LoraConfig.Attach)" : "is 0 but the policy has LoRA adapters");
        // Mixed precision: bf16 policy weights (the optimizer keeps float32 masters); LoRA adapters stay float32.
        if (settings.Dtype == Precision.Bf16 && models.Policy.Dtype != ScalarType.BFloat16) models.Policy.to(ScalarType.BFloat16);
        models.Policy.Backbone.GradientCheckpointing = settings.GradientCheckpointing;
        models.Policy.eval();   // no dropout: logprobs of the same tokens must agree between rollout and update
        policyOpt = models.PolicyAdapters is { } lora ? new AdamW(lora.NamedParameters(), settings.PolicyOptimizer) : new AdamW(models.Policy, settings.PolicyOptimizer);
        policyOpt.BroadcastParameters(group);   // every rank starts from rank 0's weights
        promptSampler = new EpochSampler(prompts.Count, settings.Seed);
    }

    /// <summary>Switches the policy's adapters off while the reference runs, when the reference is the policy itself.</summary>
    IDisposable? ReferenceScope() => ReferenceEquals(models.Reference, models.Policy) ? models.PolicyAdapters?.Disable() : null;

    static TConfig Valid<TConfig>(TConfig config, Configuration.ConfigSchema<TConfig> schema) => schema.Validate(config);

    int GroupSize => objective.GroupSize;
    int MaxNewTokens => settings.MaxNewTokens ?? RlPrompts.DefaultMaxNewTokens;

    /// <summary>One iteration: a rollout of prompts × G responses, then <see cref="CriticFreeSettings.NumIterations"/> passes of updates.</summary>
    public Dictionary<string, double> Step()
    {
        policyOpt.Lr = settings.PolicyLr * Math.Min(1.0, (Iteration + 1.0) / Math.Max(1, settings.WarmupIterations));
        using var scope = NewDisposeScope();
        using var batch = Rollout();
        var stats = RolloutStats(batch);
        foreach (var (k, v) in Update(batch)) stats[k] = v;
        stats["lr"] = policyOpt.Lr;
        if (ExtraMetrics is not null)
            foreach (var (k, v) in GlobalStatistics.MeanOverRanks(group, ExtraMetrics(batch.Rollout.PromptIndices, batch.Rollout.ResponseIds))) stats[k] = v;
        Iteration++;
        return stats;
    }

    /// <summary>Frees the optimizer's buffers.</summary>
    public void Dispose() => policyOpt.Dispose();
}
