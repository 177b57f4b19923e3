using RlhfSharp.Training.Core;
using RlhfSharp.Training.Ppo;

namespace RlhfSharp.Pipeline;

/// <summary>
/// The settings of one supervised phase (pretrain, sft, reward, dpo) as a recipe gives them. Unset values keep the
/// phase config's documented defaults (PretrainConfig: nanoGPT; SftConfig: TRL/InstructGPT; RewardConfig: InstructGPT;
/// DpoConfig: DPO paper/TRL). <see cref="Json"/> is the section's text, stored in the completion marker.
/// </summary>
public sealed record TrainingPhase
{
    public required string Data { get; init; }
    public string? EvalData { get; init; }
    public long? MaxSteps { get; init; }
    public int? Epochs { get; init; }
    public int? BatchSize { get; init; }
    public int? GradAccum { get; init; }
    public double? Lr { get; init; }
    public long? Warmup { get; init; }
    public double? WeightDecay { get; init; }
    public double? GradClip { get; init; }
    public long? EvalEvery { get; init; }
    public long? SaveEvery { get; init; }
    public long? LogEvery { get; init; }
    public int? KeepCheckpoints { get; init; }
    /// <summary>pretrain: text field of JSONL/JSON/Parquet records (default "text").</summary>
    public string TextField { get; init; } = "text";
    /// <summary>pretrain: tokens per block (default: the model's context).</summary>
    public int? BlockSize { get; init; }
    /// <summary>sft, reward, dpo: longest example in tokens (default: the model's context).</summary>
    public int? MaxLength { get; init; }
    /// <summary>reward: normalise scores after training (lm-human-preferences).</summary>
    public bool NormalizeRewards { get; init; }
    /// <summary>reward: batch whole ranking groups (InstructGPT); batch_size then counts rankings.</summary>
    public bool GroupRankings { get; init; }
    /// <summary>dpo: implicit-reward temperature (default 0.1, DPO paper and TRL).</summary>
    public double? Beta { get; init; }
    /// <summary>dpo: "sigmoid" (DPO) or "ipo".</summary>
    public string Loss { get; init; } = "sigmoid";
    public string Json { get; init; } = "";

    /// <summary>The phase's training defaults with every recipe value and the recipe's seed applied.</summary>
    public TrainingConfig Apply(TrainingConfig t, ulong? seed) => t with
    {
        MaxSteps = MaxSteps ?? t.MaxSteps,
        MaxEpochs = Epochs ?? t.MaxEpochs,
        GradAccumulationSteps = GradAccum ?? t.GradAccumulationSteps,
        Lr = Lr ?? t.Lr,
        WarmupSteps = Warmup ?? t.WarmupSteps,
        WeightDecay = WeightDecay ?? t.WeightDecay,
        GradClip = GradClip ?? t.GradClip,
        EvalInterval = EvalEvery ?? t.EvalInterval,
        SaveInterval = SaveEvery ?? t.SaveInterval,
        LogInterval = LogEvery ?? t.LogInterval,
        KeepCheckpoints = KeepCheckpoints ?? t.KeepCheckpoints,
        Seed = seed ?? t.Seed,
    };
}

/// <summary>The PPO phase of a recipe: prompts, optional ptx data, and the <see cref="PpoConfig"/> the keys describe.</summary>
public sealed record PpoPhase
{
    public required string Prompts { get; init; }
    public string? PtxData { get; init; }
    public string PtxTextField { get; init; } = "text";
    public int PtxBlockSize { get; init; }
    public string? FrozenDtype { get; init; }
    public required PpoConfig Config { get; init; }
    public string Json { get; init; } = "";
}

/// <summary>
/// A pipeline recipe (<c>rlhf pipeline --config recipe.json</c>): where the model starts (an HF checkpoint, or a model
/// config trained from scratch with a tokenizer), the phases to run with their data and hyper-parameters, and the
/// output folder. Read with <see cref="Read"/>; docs/pipeline.md explains every field.
/// </summary>
public sealed record Recipe
{
    /// <summary>The recipe file, as errors name it.</summary>
    public required string Source { get; init; }
    public required string Output { get; init; }
    public string? BaseModel { get; init; }
    public string? ModelConfig { get; init; }
    /// <summary>With <see cref="ModelConfig"/>: "bytes", "gpt2" or an HF tokenizer folder.</summary>
    public string Tokenizer { get; init; } = "bytes";
    public string Device { get; init; } = "cpu";
    public ulong? Seed { get; init; }
    public TrainingPhase? Pretrain { get; init; }
    public required TrainingPhase Sft { get; init; }
    public required TrainingPhase Reward { get; init; }
    public required PpoPhase Ppo { get; init; }
    public TrainingPhase? Dpo { get; init; }

    static readonly string[] TopKeys = ["output", "base_model", "model_config", "tokenizer", "device", "seed", "pretrain", "sft", "reward", "ppo", "dpo"];
    static readonly string[] CommonKeys =
    [
        "data", "eval_data", "max_steps", "epochs", "batch_size", "grad_accum", "lr", "warmup", "weight_decay", "grad_clip",
        "eval_every", "save_every", "log_every", "keep_checkpoints",
    ];
    static readonly string[] PretrainKeys = [.. CommonKeys, "text_field", "block_size"];
    static readonly string[] SftKeys = [.. CommonKeys, "max_length"];
    static readonly string[] RewardKeys = [.. CommonKeys, "max_length", "normalize_rewards", "group_rankings"];
    static readonly string[] DpoKeys = [.. CommonKeys, "max_length", "beta", "loss"];
    static readonly string[] PpoKeys =
    [
        "prompts", "ptx_data", "ptx_text_field", "ptx_block_size", "frozen_dtype",
        "iterations", "rollout_batch_size", "mini_batch_size", "ppo_epochs", "max_new_tokens", "temperature", "top_k", "top_p",
        "kl_coef", "kl_target", "kl_horizon", "gamma", "lambda", "clip_range", "clip_range_value", "vf_coef", "whiten_advantages",
        "early_stop_kl", "missing_eos_penalty", "score_clip", "normalize_scores", "ptx_coef", "ptx_batch_size", "value_model",
        "policy_lr", "value_lr", "warmup", "weight_decay", "max_grad_norm", "save_every", "keep_checkpoints", "seed",
    ];

    /// <summary>Reads and checks a recipe; every problem is a one-line <see cref="UserError"/> naming the file and key.</summary>
    public static Recipe Read(string path)
    {
        var root = new RecipeSection(RecipeSection.ParseFile(path), path, "", Path.GetDirectoryName(Path.GetFullPath(path))!, TopKeys);
        // Unknown keys anywhere are reported before anything else is checked.
        var pretrain = root.Section("pretrain", PretrainKeys);
        var sft = root.RequireSection("sft", SftKeys);
        var reward = root.RequireSection("reward", RewardKeys);
        var ppo = root.RequireSection("ppo", PpoKeys);
        var dpo = root.Section("dpo", DpoKeys);

        var baseModel = root.ExistingPath("base_model");
        var modelConfig = root.ExistingPath("model_config");
        if ((baseModel is null) == (modelConfig is null))
            throw root.Error("give exactly one of 'base_model' (an HF model folder) or 'model_config' (a config.json to train from scratch)");
        if (baseModel is not null && root.Has("tokenizer"))
            throw root.Error("'tokenizer' goes with 'model_config'; a 'base_model' folder brings its own tokenizer");
        var tokenizer = root.String("tokenizer") ?? "bytes";
        if (tokenizer is not ("bytes" or "gpt2")) tokenizer = root.ExistingPath("tokenizer")!;

        var rewardPhase = Supervised(reward, dataRequired: true, null);
        return new Recipe
        {
            Source = path,
            Output = root.RequirePath("output"),
            BaseModel = baseModel, ModelConfig = modelConfig, Tokenizer = tokenizer,
            Device = root.String("device") ?? "cpu",
            Seed = root.ULong("seed"),
            Pretrain = pretrain is null ? null : Supervised(pretrain, dataRequired: true, null),
            Sft = Supervised(sft, dataRequired: true, null),
            Reward = rewardPhase,
            Ppo = ReadPpo(ppo, root.ULong("seed")),
            Dpo = dpo is null ? null : Supervised(dpo, dataRequired: false, rewardPhase.Data),
        };
    }

    static TrainingPhase Supervised(RecipeSection s, bool dataRequired, string? defaultData)
    {
        var loss = s.String("loss") ?? "sigmoid";
        if (loss is not ("sigmoid" or "ipo")) throw s.Error($"'{s.Name("loss")}' must be \"sigmoid\" or \"ipo\", got \"{loss}\"");
        return new TrainingPhase
        {
            Data = dataRequired ? s.RequireExistingPath("data") : s.ExistingPath("data") ?? defaultData!,
            EvalData = s.ExistingPath("eval_data"),
            MaxSteps = s.Long("max_steps"), Epochs = s.Int("epochs"), BatchSize = s.Int("batch_size"), GradAccum = s.Int("grad_accum"),
            Lr = s.Double("lr"), Warmup = s.Long("warmup"), WeightDecay = s.Double("weight_decay"), GradClip = s.Double("grad_clip"),
            EvalEvery = s.Long("eval_every"), SaveEvery = s.Long("save_every"), LogEvery = s.Long("log_every"),
            KeepCheckpoints = s.Int("keep_checkpoints"),
            TextField = s.String("text_field") ?? "text", BlockSize = s.Int("block_size"), MaxLength = s.Int("max_length"),
            NormalizeRewards = s.Bool("normalize_rewards") ?? false, GroupRankings = s.Bool("group_rankings") ?? false, Beta = s.Double("beta"), Loss = loss,
            Json = s.Json,
        };
    }

    static PpoPhase ReadPpo(RecipeSection s, ulong? seed)
    {
        var d = new PpoConfig();
        var valueModel = s.String("value_model") ?? "from_reward";
        var config = d with
        {
            Iterations = s.Int("iterations") ?? d.Iterations, RolloutBatchSize = s.Int("rollout_batch_size") ?? d.RolloutBatchSize,
            MiniBatchSize = s.Int("mini_batch_size") ?? d.MiniBatchSize, PpoEpochs = s.Int("ppo_epochs") ?? d.PpoEpochs,
            MaxNewTokens = s.Int("max_new_tokens") ?? d.MaxNewTokens, Temperature = s.Double("temperature") ?? d.Temperature,
            TopK = s.Int("top_k") ?? d.TopK, TopP = s.Double("top_p") ?? d.TopP,
            KlCoef = s.Double("kl_coef") ?? d.KlCoef, KlTarget = s.Double("kl_target") ?? d.KlTarget, KlHorizon = s.Double("kl_horizon") ?? d.KlHorizon,
            Gamma = s.Double("gamma") ?? d.Gamma, Lambda = s.Double("lambda") ?? d.Lambda,
            ClipRange = s.Double("clip_range") ?? d.ClipRange, ClipRangeValue = s.Double("clip_range_value") ?? d.ClipRangeValue,
            VfCoef = s.Double("vf_coef") ?? d.VfCoef, WhitenAdvantages = s.Bool("whiten_advantages") ?? d.WhitenAdvantages,
            EarlyStopKl = s.Double("early_stop_kl") ?? d.EarlyStopKl, MissingEosPenalty = s.Double("missing_eos_penalty") ?? d.MissingEosPenalty,
            ScoreClip = s.Double("score_clip") ?? d.ScoreClip, NormalizeScores = s.Bool("normalize_scores") ?? d.NormalizeScores,
            PtxCoef = s.Double("ptx_coef") ?? d.PtxCoef, PtxBatchSize = s.Int("ptx_batch_size") ?? d.PtxBatchSize,
            ValueModel = valueModel switch
            {
                "from_reward" => ValueModelKind.FromReward,
                "shared" => ValueModelKind.SharedTrunk,
                _ => throw s.Error($"'{s.Name("value_model")}' must be \"from_reward\" or \"shared\", got \"{valueModel}\""),
            },
            PolicyLr = s.Double("policy_lr") ?? d.PolicyLr, ValueLr = s.Double("value_lr") ?? d.ValueLr,
            WarmupIterations = s.Int("warmup") ?? d.WarmupIterations, WeightDecay = s.Double("weight_decay") ?? d.WeightDecay,
            MaxGradNorm = s.Double("max_grad_norm") ?? d.MaxGradNorm, SaveEvery = s.Int("save_every") ?? d.SaveEvery,
            KeepCheckpoints = s.Int("keep_checkpoints") ?? d.KeepCheckpoints, Seed = s.ULong("seed") ?? seed ?? d.Seed,
        };
        try { config.Validate(); }
        catch (UserError e) { throw s.Error(e.Message); }
        var ptxData = s.ExistingPath("ptx_data");
        if (config.PtxCoef > 0 && ptxData is null)
            throw s.Error($"'{s.Name("ptx_data")}' is required when ppo.ptx_coef > 0 (default 1.0); or set \"ptx_coef\": 0");
        var frozen = s.String("frozen_dtype");
        if (frozen is not null) PpoFromFolders.ParseDtype(frozen, s.Name("frozen_dtype"));
        return new PpoPhase
        {
            Prompts = s.RequireExistingPath("prompts"), PtxData = ptxData, PtxTextField = s.String("ptx_text_field") ?? "text",
            PtxBlockSize = s.Int("ptx_block_size") ?? 0, FrozenDtype = frozen, Config = config, Json = s.Json,
        };
    }
}
