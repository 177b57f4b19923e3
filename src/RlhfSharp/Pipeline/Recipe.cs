using RlhfSharp.Configuration;
using RlhfSharp.Training.CriticFree;
using RlhfSharp.Training.Dpo;
using RlhfSharp.Training.Ppo;
using RlhfSharp.Training.Pretraining;
using RlhfSharp.Training.RewardModeling;
using RlhfSharp.Training.Sft;

namespace RlhfSharp.Pipeline;

/// <summary>
/// One phase of a recipe: its config (every key of the phase's schema; unset keys keep the documented defaults, and
/// the recipe's <c>seed</c> unless the phase sets its own) and its data files. <see cref="Json"/> is the section's
/// text, stored in the completion marker to notice a changed recipe.
/// </summary>
public sealed record RecipePhase<TConfig>
{
    /// <summary>The phase's validated hyperparameters.</summary>
    public required TConfig Config { get; init; }
    /// <summary>pretrain: text; sft: demonstrations; reward and dpo: comparisons (dpo defaults to reward's).</summary>
    public string? Data { get; init; }
    /// <summary>Held-out data for the phase's evaluation, or null.</summary>
    public string? EvalData { get; init; }
    /// <summary>pretrain: the text field of JSONL/JSON/Parquet records.</summary>
    public string TextField { get; init; } = "text";
    /// <summary>ppo, grpo, rloo: the RL prompts.</summary>
    public string? Prompts { get; init; }
    /// <summary>grpo, rloo: score responses with the reward phase's model (besides any reward_fn); default true.</summary>
    public bool UseRewardModel { get; init; } = true;
    /// <summary>ppo: pretraining text for the ptx term, and its text field.</summary>
    public string? PtxData { get; init; }
    /// <summary>ppo: the text field of the ptx records (default "text").</summary>
    public string PtxTextField { get; init; } = "text";
    /// <summary>The recipe section's JSON text, stored in the completion marker.</summary>
    public string Json { get; init; } = "";
}

/// <summary>
/// A pipeline recipe (<c>rlhf pipeline --config recipe.json</c>): where the model starts (an HF checkpoint, or a model
/// config trained from scratch with a tokenizer), the phases to run with their data and hyperparameters, and the
/// output folder. Hyperparameter keys are the phase schemas' (docs/pipeline.md lists them); read with <see cref="Read"/>.
/// </summary>
public sealed record Recipe
{
    /// <summary>The recipe file, as errors name it.</summary>
    public required string Source { get; init; }
    /// <summary>The output folder; each phase writes <c>output/&lt;phase&gt;</c>.</summary>
    public required string Output { get; init; }
    /// <summary>An HF model folder to start from, or null when <see cref="ModelConfig"/> is given (exactly one of the two).</summary>
    public string? BaseModel { get; init; }
    /// <summary>A config.json to train from scratch, or null when <see cref="BaseModel"/> is given.</summary>
    public string? ModelConfig { get; init; }
    /// <summary>With <see cref="ModelConfig"/>: "bytes", "gpt2" or an HF tokenizer folder.</summary>
    public string Tokenizer { get; init; } = "bytes";
    /// <summary>Device for every phase: "cpu", "cuda" or "cuda:N" (default "cpu").</summary>
    public string Device { get; init; } = "cpu";
    /// <summary>The optional pretraining phase.</summary>
    public RecipePhase<PretrainConfig>? Pretrain { get; init; }
    /// <summary>Supervised finetuning on demonstrations.</summary>
    public required RecipePhase<SftConfig> Sft { get; init; }
    /// <summary>Reward-model training on comparisons.</summary>
    public required RecipePhase<RewardConfig> Reward { get; init; }
    /// <summary>PPO against the reward model, from the SFT model.</summary>
    public required RecipePhase<PpoConfig> Ppo { get; init; }
    /// <summary>The optional GRPO phase, from the SFT model, against the reward model and/or verifiable rewards.</summary>
    public RecipePhase<GrpoConfig>? Grpo { get; init; }
    /// <summary>The optional RLOO phase, from the SFT model, against the reward model and/or verifiable rewards.</summary>
    public RecipePhase<RlooConfig>? Rloo { get; init; }
    /// <summary>The optional DPO phase, from the SFT model.</summary>
    public RecipePhase<DpoConfig>? Dpo { get; init; }

    static readonly string[] TopKeys = ["output", "base_model", "model_config", "tokenizer", "device", "seed", "pretrain", "sft", "reward", "ppo", "grpo", "rloo", "dpo"];
    static readonly string[] SupervisedDataKeys = ["data", "eval_data"];
    static readonly string[] PretrainDataKeys = [.. SupervisedDataKeys, "text_field"];
    static readonly string[] PpoDataKeys = ["prompts", "ptx_data", "ptx_text_field"];
    static readonly string[] CriticFreeDataKeys = ["prompts", "reward_model"];

    /// <summary>Reads and checks a recipe; every problem is a one-line <see cref="UserError"/> naming the file and key.</summary>
    public static Recipe Read(string path)
    {
        var root = new RecipeSection(RecipeSection.ParseFile(path), path, "", Path.GetDirectoryName(Path.GetFullPath(path))!, TopKeys);
        // Unknown keys anywhere are reported before anything else is checked.
        var pretrain = root.Section("pretrain", [.. PretrainDataKeys, .. Keys(PretrainConfig.Schema)]);
        var sft = root.RequireSection("sft", [.. SupervisedDataKeys, .. Keys(SftConfig.Schema)]);
        var reward = root.RequireSection("reward", [.. SupervisedDataKeys, .. Keys(RewardConfig.Schema)]);
        var ppo = root.RequireSection("ppo", [.. PpoDataKeys, .. Keys(PpoConfig.Schema)]);
        var grpo = root.Section("grpo", [.. CriticFreeDataKeys, .. Keys(GrpoConfig.Schema)]);
        var rloo = root.Section("rloo", [.. CriticFreeDataKeys, .. Keys(RlooConfig.Schema)]);
        var dpo = root.Section("dpo", [.. SupervisedDataKeys, .. Keys(DpoConfig.Schema)]);

        var baseModel = root.ExistingPath("base_model");
        var modelConfig = root.ExistingPath("model_config");
        if ((baseModel is null) == (modelConfig is null))
            throw root.Error("give exactly one of 'base_model' (an HF model folder) or 'model_config' (a config.json to train from scratch)");
        if (baseModel is not null && root.Has("tokenizer"))
            throw root.Error("'tokenizer' goes with 'model_config'; a 'base_model' folder brings its own tokenizer");
        var tokenizer = root.String("tokenizer") ?? "bytes";
        if (tokenizer is not ("bytes" or "gpt2")) tokenizer = root.ExistingPath("tokenizer")!;
        ulong? seed = root.ULong("seed");

        var rewardPhase = Supervised(reward, RewardConfig.Schema, seed, (c, s) => c with { Training = c.Training with { Seed = s } });
        var ppoConfig = Config(ppo, PpoConfig.Schema, seed, (c, s) => c with { Seed = s });
        var ptxData = ppo.ExistingPath("ptx_data");
        if (ppoConfig.PtxCoef > 0 && ptxData is null)
            throw ppo.Error($"'{ppo.Name("ptx_data")}' is required when ppo.ptx_coef > 0 (default {PpoConfig.Schema.Find("ptx_coef")!.Format(new())}); or set \"ptx_coef\": 0");
        return new Recipe
        {
            Source = path,
            Output = root.RequirePath("output"),
            BaseModel = baseModel, ModelConfig = modelConfig, Tokenizer = tokenizer,
            Device = root.String("device") ?? "cpu",
            Pretrain = pretrain is null ? null : Supervised(pretrain, PretrainConfig.Schema, seed, (c, s) => c with { Training = c.Training with { Seed = s } })
                with { TextField = pretrain.String("text_field") ?? "text" },
            Sft = Supervised(sft, SftConfig.Schema, seed, (c, s) => c with { Training = c.Training with { Seed = s } }),
            Reward = rewardPhase,
            Ppo = new RecipePhase<PpoConfig>
            {
                Config = ppoConfig, Prompts = ppo.RequireExistingPath("prompts"), PtxData = ptxData,
                PtxTextField = ppo.String("ptx_text_field") ?? "text", Json = ppo.Json,
            },
            Grpo = grpo is null ? null : CriticFree(grpo, GrpoConfig.Schema, seed, (c, s) => c with { Common = c.Common with { Seed = s } }, c => c.Common),
            Rloo = rloo is null ? null : CriticFree(rloo, RlooConfig.Schema, seed, (c, s) => c with { Common = c.Common with { Seed = s } }, c => c.Common),
            Dpo = dpo is null ? null : Supervised(dpo, DpoConfig.Schema, seed, (c, s) => c with { Training = c.Training with { Seed = s } }, rewardPhase.Data),
        };
    }

    static IEnumerable<string> Keys<TConfig>(ConfigSchema<TConfig> schema) => schema.Settings.Select(s => s.Key);

    static RecipePhase<TConfig> Supervised<TConfig>(RecipeSection section, ConfigSchema<TConfig> schema, ulong? seed,
        Func<TConfig, ulong, TConfig> withSeed, string? defaultData = null) => new()
    {
        Config = Config(section, schema, seed, withSeed),
        Data = defaultData is null ? section.RequireExistingPath("data") : section.ExistingPath("data") ?? defaultData,
        EvalData = section.ExistingPath("eval_data"),
        Json = section.Json,
    };

    /// <summary>A grpo or rloo section: prompts, whether the reward phase's model scores (reward_model, default true),
    /// and the method's settings; the number of rewards and weights is checked here, before anything runs.</summary>
    static RecipePhase<TConfig> CriticFree<TConfig>(RecipeSection section, ConfigSchema<TConfig> schema, ulong? seed,
        Func<TConfig, ulong, TConfig> withSeed, Func<TConfig, CriticFreeSettings> common)
    {
        var config = Config(section, schema, seed, withSeed);
        bool useRewardModel = section.Bool("reward_model") ?? true;
        var settings = common(config);
        int rewards = (useRewardModel ? 1 : 0) + settings.RewardFunctionKinds.Count;
        if (rewards == 0)
            throw section.Error($"'{section.Name("reward_fn")}' is required when '{section.Name("reward_model")}' is false: name verifiable rewards (exact, contains, regex, number)");
        if (settings.RewardWeightValues is { } weights && weights.Count != rewards)
            throw section.Error($"'{section.Name("reward_weights")}' gives {weights.Count} weight(s) for {rewards} reward(s) (the reward model when reward_model is true, then reward_fn)");
        return new RecipePhase<TConfig>
        {
            Config = config, Prompts = section.RequireExistingPath("prompts"), UseRewardModel = useRewardModel, Json = section.Json,
        };
    }

    /// <summary>The schema's defaults, the recipe's seed, then the section's keys; a broken rule names the dotted key.</summary>
    static TConfig Config<TConfig>(RecipeSection section, ConfigSchema<TConfig> schema, ulong? seed, Func<TConfig, ulong, TConfig> withSeed)
    {
        try
        {
            var config = schema.Defaults;
            if (seed is ulong recipeSeed) config = withSeed(config, recipeSeed);
            return schema.Validate(schema.WithJson(config, section.Object));
        }
        catch (ConfigError e) { throw section.Error($"'{section.Name(e.Key)}' {e.Problem}"); }
    }
}
