using System.Text.Json;
using System.Text.Json.Nodes;
using RlhfSharp.Checkpoints;
using RlhfSharp.Data;
using RlhfSharp.Distributed;
using RlhfSharp.Generation;
using RlhfSharp.Models;
using RlhfSharp.Models.Lora;
using RlhfSharp.Training.Core;
using RlhfSharp.Training.Losses;
using RlhfSharp.Training.Rl;
using TorchSharp;
using TorchSharp.Modules;
using AdamW = RlhfSharp.Training.Core.AdamW;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Ppo;

/// <summary>The models PPO-ptx works with. Reference and reward are frozen and may sit on another device or dtype.
/// With LoRA (<paramref name="PolicyAdapters"/>), the reference may be the policy itself: it is then run with the
/// adapters switched off. With LoRA and a value model from the reward model, <paramref name="ValueAdapters"/> are the
/// value model's adapters: only they and its score head train, so the value model needs no full optimizer state.</summary>
public sealed record PpoModels(CausalLM Policy, CausalLM Reference, IRewardScorer Reward, ScalarHeadModel? Value,
    LoraAdapters? PolicyAdapters = null, LoraAdapters? ValueAdapters = null);

/// <summary>
/// PPO-ptx (InstructGPT §3.5): sample responses to prompts, score them with the reward model, penalise each token's
/// KL to the SFT model, estimate advantages with GAE, and take clipped policy/value steps — each also pulling the
/// policy towards the pretraining distribution with gamma * log-likelihood on a pretraining minibatch.
/// Resumes exactly: models, optimizers, KL controller, samplers and the iteration all live in the checkpoint, and
/// every random draw is seeded from (seed, iteration).
/// </summary>
public sealed partial class PpoTrainer : IRlTrainer, IDisposable
{
    readonly PpoConfig config;
    readonly PpoModels models;
    readonly IReadOnlyList<IReadOnlyList<int>> prompts;
    readonly IReadOnlyList<PackedBlock>? ptx;
    readonly int eosId, padId;
    readonly Device device;
    readonly Linear? valueHead;              // SharedTrunk: C -> 1 on the policy's hidden states
    readonly ValueHeadModule? valueHeadModule;
    readonly AdamW policyOpt;
    readonly AdamW? valueOpt;
    readonly IKlController kl;
    readonly EpochSampler promptSampler;
    readonly EpochSampler? ptxSampler;
    readonly ProcessGroup group;             // data parallelism: each rank rolls out its share of every global batch

    /// <summary>The pretraining sampler's seed is the prompt sampler's plus this, so the two orders differ.</summary>
    const ulong PtxSeedOffset = 1;

    /// <summary>PPO iterations done (rollout + update); restored on resume.</summary>
    public int Iteration { get; private set; }
    /// <summary>The KL controller: fixed β, or adaptive when <see cref="PpoConfig.KlTarget"/> is set.</summary>
    public IKlController KlController => kl;

    /// <summary>Optional extra metrics per rollout (e.g. the demo's gold reward), given the prompt indices and response ids.</summary>
    public Func<long[], int[][], IReadOnlyDictionary<string, double>>? ExtraMetrics { get; set; }

    /// <summary>Who generates the rollouts; null: the policy in this process. The caller owns (and disposes) it.</summary>
    public IRolloutEngine? RolloutEngine { get; init; }

    /// <summary>Validates the config and sets up optimizers, the KL controller and the samplers.</summary>
    /// <param name="config">validated here.</param>
    /// <param name="models">policy, frozen reference, reward scorer and (for <see cref="ValueModelKind.FromReward"/>) the value model.</param>
    /// <param name="promptIds">rendered prompt ids, one list per prompt.</param>
    /// <param name="ptxBlocks">packed pretraining blocks; required when <see cref="PpoConfig.PtxCoef"/> &gt; 0.</param>
    /// <param name="eosTokenId">the id that ends a response.</param>
    /// <param name="padTokenId">the pad id; must differ from <paramref name="eosTokenId"/>.</param>
    public PpoTrainer(PpoConfig config, PpoModels models, IReadOnlyList<IReadOnlyList<int>> promptIds, IReadOnlyList<PackedBlock>? ptxBlocks,
                      int eosTokenId, int padTokenId)
    {
        config.Validate();
        if (promptIds.Count == 0) throw new UserError("ppo: no prompts");
        if (config.PtxCoef > 0 && (ptxBlocks is null || ptxBlocks.Count == 0))
            throw new Configuration.ConfigError("ppo", "ptx_coef", "is > 0, which needs pretraining documents (ptx data); give them, or set ptx_coef 0");
        if (eosTokenId == padTokenId) throw new UserError($"ppo: the pad id equals the EOS id ({eosTokenId}); EOS is never used as padding");
        if (config.ValueModel == ValueModelKind.FromReward && models.Value is null)
            throw new UserError("ppo: value model 'from_reward' needs a value model (a copy of the reward model)");
        if (config.Lora.Enabled != (models.PolicyAdapters is not null))
            throw new Configuration.ConfigError("ppo", "lora_r", config.Lora.Enabled ? "is > 0 but the policy has no LoRA adapters (attach them with LoraConfig.Attach)" : "is 0 but the policy has LoRA adapters");
        if (models.Value is not null && config.Lora.Enabled != (models.ValueAdapters is not null))
            throw new Configuration.ConfigError("ppo", "lora_r", config.Lora.Enabled ? "is > 0 but the value model has no LoRA adapters (attach them with LoraConfig.Attach)" : "is 0 but the value model has LoRA adapters");
        (this.config, this.models, prompts, ptx, eosId, padId) = (config, models, promptIds, config.PtxCoef > 0 ? ptxBlocks : null, eosTokenId, padTokenId);
        device = models.Policy.Device;
        group = ProcessGroup.Current;
        CheckSplit(group, "ppo", "rollout_batch_size", config.RolloutBatchSize);
        if (ptx is not null) CheckSplit(group, "ppo", "ptx_batch_size", config.PtxBatchSize);

        if (config.Dtype == Precision.Bf16)
        {
            // Mixed precision: bf16 trained weights (the optimizers keep float32 masters); LoRA adapters stay float32.
            if (models.Policy.Dtype != ScalarType.BFloat16) models.Policy.to(ScalarType.BFloat16);
            if (models.Value is { } v && v.Dtype != ScalarType.BFloat16) v.to(ScalarType.BFloat16);
        }
        models.Policy.Backbone.GradientCheckpointing = config.GradientCheckpointing;
        if (models.Value is not null) models.Value.Backbone.GradientCheckpointing = config.GradientCheckpointing;
        Freeze(models.Reference);
        if (models.Reward is ModelRewardScorer rm) Freeze(rm.Model);
        models.Policy.eval();   // no dropout anywhere in PPO (N-details: dropout makes logprobs of the same tokens disagree)
        models.Value?.eval();

        // With LoRA only the adapters train (the base weights are frozen); the reference may be the same model.
        var policyParams = (models.PolicyAdapters?.NamedParameters() ?? models.Policy.named_parameters().Select(p => (p.name, p.parameter))).ToList();
        if (config.ValueModel == ValueModelKind.SharedTrunk)
        {
            valueHeadModule = new ValueHeadModule(models.Policy.Config.HiddenSize);
            valueHeadModule.to(device, models.Policy.Dtype);
            valueHead = valueHeadModule.score;
            policyParams.AddRange(valueHeadModule.named_parameters().Select(p => ("value_head." + p.name, p.parameter)));
        }
        policyOpt = new AdamW(policyParams, config.PolicyOptimizer);
        if (config.ValueModel == ValueModelKind.FromReward)
            valueOpt = models.ValueAdapters is { } valueLora ? new AdamW(valueLora.NamedParameters(), config.ValueOptimizer) : new AdamW(models.Value!, config.ValueOptimizer);

        // Every rank starts from rank 0's trained weights, whatever its own initialisation drew (the shared value head).
        policyOpt.BroadcastParameters(group);
        valueOpt?.BroadcastParameters(group);

        kl = config.KlTarget is double target ? new AdaptiveKlController(config.KlCoef, target, config.KlHorizon) : new FixedKlController(config.KlCoef);
        promptSampler = new EpochSampler(prompts.Count, config.Seed);
        if (ptx is not null) ptxSampler = new EpochSampler(ptx.Count, config.Seed + PtxSeedOffset);
    }

    /// <summary>A global batch must split into equal shares, one per rank (a UserError naming the setting otherwise).</summary>
    internal static void CheckSplit(ProcessGroup group, string phase, string setting, int globalSize)
    {
        if (globalSize % group.Size != 0)
            throw new UserError($"{phase}: {setting} {globalSize} cannot be split evenly over {group.Size} processes; make it a multiple of {group.Size}");
    }

    static void Freeze(HfModel model)
    {
        model.eval();
        foreach (var p in model.parameters()) p.requires_grad = false;
    }

    /// <summary>Switches the policy's adapters off while the reference runs, when the reference is the policy itself.</summary>
    IDisposable? ReferenceScope() => ReferenceEquals(models.Reference, models.Policy) ? models.PolicyAdapters?.Disable() : null;

    /// <summary>One PPO iteration: a rollout batch, then <see cref="PpoConfig.PpoEpochs"/> passes of minibatch updates.</summary>
    public Dictionary<string, double> Step()
    {
        double lrScale = Math.Min(1.0, (Iteration + 1.0) / Math.Max(1, config.WarmupIterations));
        policyOpt.Lr = config.PolicyLr * lrScale;
        if (valueOpt is not null) valueOpt.Lr = config.ValueLr * lrScale;

        using var scope = NewDisposeScope();
        using var batch = Rollout();
        var stats = RolloutStats(batch);
        foreach (var (k, v) in Update(batch)) stats[k] = v;
        kl.Update(stats["kl"], config.RolloutBatchSize);
        stats["beta"] = kl.Value;
        stats["lr"] = policyOpt.Lr;
        if (ExtraMetrics is not null)
            foreach (var (k, v) in GlobalStatistics.MeanOverRanks(group, ExtraMetrics(batch.Rollout.PromptIndices, batch.Rollout.ResponseIds))) stats[k] = v;
        Iteration++;
        return stats;
    }

    /// <summary>
    /// The policy's logits at the positions that predict response tokens, [B,N,V] in float32, and the values at every
    /// position [B,T]. The LM head runs on those N positions only: the prompt's logits are never needed, and at a
    /// 50k vocabulary they are most of the memory.
    /// </summary>
    (Tensor respLogits, Tensor values) PolicyForward(Tensor seq, Tensor mask, int promptLength)
    {
        var h = models.Policy.ForwardHidden(seq, mask);                                                // [B,T,C]
        var respLogits = ResponseLogProbs.Logits(h, models.Policy.LmHeadWeight, promptLength);                  // [B,N,V]
        var values = valueHead is not null ? valueHead.forward(h).squeeze(-1).to(ScalarType.Float32)   // [B,T]
                                           : models.Value!.ForwardValues(seq, mask);
        return (respLogits, values);
    }

    /// <summary>Frees the optimizers' buffers and a shared-trunk value head.</summary>
    public void Dispose()
    {
        policyOpt.Dispose();
        valueOpt?.Dispose();
        valueHeadModule?.Dispose();
    }

    /// <summary>The shared-trunk value head, registered under the key <c>score</c> like a sequence-classification head.</summary>
    sealed class ValueHeadModule : nn.Module
    {
        public readonly Linear score;
        public ValueHeadModule(int hidden) : base("value_head")
        {
            score = nn.Linear(hidden, 1, hasBias: false);
            using (no_grad()) { score.weight.normal_(0, 0.02); }
            RegisterComponents();
        }
    }
}
