using System.ComponentModel;
using RlhfSharp.Data;
using RlhfSharp.Devices;
using RlhfSharp.Training.Core;
using RlhfSharp.Training.Ppo;
using Spectre.Console;
using Spectre.Console.Cli;
using TorchSharp;

namespace RlhfSharp.Cli.Commands;

/// <summary>
/// <c>rlhf ppo</c>: PPO-ptx against a reward model (see <see cref="PpoTrainer"/>, wiring in <see cref="PpoFromFolders"/>).
/// Unset options keep <see cref="PpoConfig"/>'s defaults; each description names the default and its source.
/// </summary>
public sealed class PpoCommand : Command<PpoCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--policy <SFT_DIR>"), Description("The SFT model folder: the policy starts from it, and a frozen copy is the KL reference. Required.")]
        public string Policy { get; init; } = "";

        [CommandOption("--reward <RM_DIR>"), Description("The reward-model folder (from `rlhf reward`), frozen; the value model starts from it too (--value-model from_reward). Required.")]
        public string Reward { get; init; } = "";

        [CommandOption("--prompts <FILE>"), Description("RL prompts: JSONL/JSON/Parquet records with \"prompt\" or \"messages\" (or a bare JSON string per line), or a .txt file with one prompt per line. Rendered with the policy folder's chat format and its generation prompt. Required.")]
        public string Prompts { get; init; } = "";

        [CommandOption("--ptx-data <FILE>"), Description("Pretraining text for the ptx term (.txt = one document, or .jsonl/.json/.parquet records with a text field). Required when --ptx-coef > 0.")]
        public string? PtxData { get; init; }

        [CommandOption("--ptx-text-field <NAME>"), Description("Text field of --ptx-data records. Default: text.")]
        public string PtxTextField { get; init; } = "text";

        [CommandOption("--ptx-block-size <N>"), Description("Tokens per ptx block. Default: the policy's context (nanoGPT block_size).")]
        public int PtxBlockSize { get; init; }

        [CommandOption("--output <DIR>"), Description("Output: the PPO policy as an HF folder (loads in `rlhf generate`), value/, checkpoints/, metrics.jsonl, tensorboard/, PNG plots. Required.")]
        public string Output { get; init; } = "";

        [CommandOption("--iterations <N>"), Description("PPO iterations (rollout + update). Default: 100.")]
        public int? Iterations { get; init; }

        [CommandOption("--rollout-batch-size <N>"), Description("Prompts sampled per iteration. Default: 64 (lm-human-preferences batch_size, N-details rollout batch).")]
        public int? RolloutBatchSize { get; init; }

        [CommandOption("--mini-batch-size <N>"), Description("Sequences per gradient step; must divide --rollout-batch-size. Default: 16 (lm-human-preferences: 4 minibatches per batch).")]
        public int? MiniBatchSize { get; init; }

        [CommandOption("--ppo-epochs <N>"), Description("Passes over each rollout batch. Default: 4 (lm-human-preferences noptepochs, TRL ppo_epochs).")]
        public int? PpoEpochs { get; init; }

        [CommandOption("--max-new-tokens <N>"), Description("Longest response in tokens; prompts that do not fit the context with it are skipped. Default: 64.")]
        public int? MaxNewTokens { get; init; }

        [CommandOption("--temperature <T>"), Description("Sampling temperature, also used when re-scoring. Default: 0.7 (lm-human-preferences).")]
        public double? Temperature { get; init; }

        [CommandOption("--top-k <K>"), Description("Sample among the K most likely tokens; 0 = all. Default: 0.")]
        public int? TopK { get; init; }

        [CommandOption("--top-p <P>"), Description("Nucleus sampling threshold in (0, 1]. Default: 1.0 (off).")]
        public double? TopP { get; init; }

        [CommandOption("--kl-coef <BETA>"), Description("Initial (or fixed) KL coefficient beta. Default: 0.2 (TRL init_kl_coef; InstructGPT used a fixed 0.02).")]
        public double? KlCoef { get; init; }

        [CommandOption("--kl-target <NATS>"), Description("Turns on the adaptive KL controller of lm-human-preferences with this target KL per sequence. Default: none (fixed beta).")]
        public double? KlTarget { get; init; }

        [CommandOption("--kl-horizon <EPISODES>"), Description("Horizon of the adaptive controller. Default: 10000 (lm-human-preferences, TRL).")]
        public double? KlHorizon { get; init; }

        [CommandOption("--gamma <G>"), Description("GAE discount. Default: 1.0 (lm-human-preferences, TRL, N-details).")]
        public double? Gamma { get; init; }

        [CommandOption("--lambda <L>"), Description("GAE lambda. Default: 0.95 (lm-human-preferences, TRL).")]
        public double? Lambda { get; init; }

        [CommandOption("--clip-range <EPS>"), Description("Policy ratio clip. Default: 0.2 (Schulman et al. 2017, TRL cliprange).")]
        public double? ClipRange { get; init; }

        [CommandOption("--clip-range-value <EPS>"), Description("Value clip. Default: 0.2 (TRL cliprange_value).")]
        public double? ClipRangeValue { get; init; }

        [CommandOption("--vf-coef <C>"), Description("Weight of the value loss. Default: 0.1 (TRL vf_coef).")]
        public double? VfCoef { get; init; }

        [CommandOption("--no-whiten-advantages"), Description("Do not whiten advantages per minibatch. Default: whitened (lm-human-preferences).")]
        public bool NoWhitenAdvantages { get; init; }

        [CommandOption("--early-stop-kl <BOUND>"), Description("Stop an iteration's PPO epochs once approx_kl exceeds this. Default: none (cleanrl target_kl off).")]
        public double? EarlyStopKl { get; init; }

        [CommandOption("--missing-eos-penalty <P>"), Description("Subtracted from the score of a response that never emits EOS; 0 = off. Default: 1.0 (TRL missing_eos_penalty; lm-human-preferences uses -1 scores).")]
        public double? MissingEosPenalty { get; init; }

        [CommandOption("--score-clip <C>"), Description("Clip RM scores to ±C before the KL penalty. Default: none.")]
        public double? ScoreClip { get; init; }

        [CommandOption("--normalize-scores"), Description("Whiten RM scores over each rollout batch (mean 0, std 1). Default: off.")]
        public bool NormalizeScores { get; init; }

        [CommandOption("--ptx-coef <GAMMA>"), Description("gamma of PPO-ptx, the weight of the pretraining log-likelihood; 0 switches it off. Default: 1.0 (InstructGPT's 27.8 under its loss scaling; both losses are per-token means here).")]
        public double? PtxCoef { get; init; }

        [CommandOption("--ptx-batch-size <N>"), Description("Pretraining blocks per minibatch. Default: 8.")]
        public int? PtxBatchSize { get; init; }

        [CommandOption("--value-model <KIND>"), Description("from_reward: a separate value model initialised from the reward model (InstructGPT; a fourth model and its optimizer). shared: a value head on the policy's trunk (one model fewer; the value loss shares the policy's features). Default: from_reward.")]
        public string ValueModel { get; init; } = "from_reward";

        [CommandOption("--policy-lr <LR>"), Description("Policy learning rate. Default: 1.41e-5 (TRL; InstructGPT 9.65e-6 for 1.3B). Small models from scratch want more.")]
        public double? PolicyLr { get; init; }

        [CommandOption("--value-lr <LR>"), Description("Value-model learning rate. Default: 1.41e-5 (TRL).")]
        public double? ValueLr { get; init; }

        [CommandOption("--warmup <ITERATIONS>"), Description("Linear warmup of both learning rates, then constant. Default: 10 (InstructGPT).")]
        public int? Warmup { get; init; }

        [CommandOption("--weight-decay <WD>"), Description("AdamW weight decay. Default: 0 (TRL).")]
        public double? WeightDecay { get; init; }

        [CommandOption("--max-grad-norm <NORM>"), Description("Gradient norm clip. Default: 1.0 (TRL max_grad_norm).")]
        public double? MaxGradNorm { get; init; }

        [CommandOption("--save-every <ITERATIONS>"), Description("Checkpoint every N iterations (and at the end); 0 = only at the end. Default: 20.")]
        public int? SaveEvery { get; init; }

        [CommandOption("--keep-checkpoints <N>"), Description("Checkpoints kept. Default: 2.")]
        public int? KeepCheckpoints { get; init; }

        [CommandOption("--seed <N>"), Description("Seed of sampling, minibatch order and prompt order. Default: 1.")]
        public ulong? Seed { get; init; }

        [CommandOption("--device <DEVICE>"), Description("cpu, cuda or cuda:N for the policy and value model. Default: cpu.")]
        public string Device { get; init; } = "cpu";

        [CommandOption("--frozen-device <DEVICE>"), Description("Device of the frozen reference and reward models. Default: --device.")]
        public string? FrozenDevice { get; init; }

        [CommandOption("--frozen-dtype <DTYPE>"), Description("float32, bfloat16 or float16 for the frozen reference and reward models (bf16 halves their memory). Default: float32.")]
        public string FrozenDtype { get; init; } = "float32";

        [CommandOption("--resume"), Description("Continue exactly from the latest complete checkpoint in OUTPUT/checkpoints.")]
        public bool Resume { get; init; }

        public override ValidationResult Validate() =>
            Policy.Length == 0 ? ValidationResult.Error("--policy is required")
            : Reward.Length == 0 ? ValidationResult.Error("--reward is required")
            : Prompts.Length == 0 ? ValidationResult.Error("--prompts is required")
            : Output.Length == 0 ? ValidationResult.Error("--output is required")
            : ValueModel is not ("from_reward" or "shared") ? ValidationResult.Error($"--value-model must be from_reward or shared, got '{ValueModel}'")
            : ValidationResult.Success();

        /// <summary>PpoConfig's defaults with every given option applied.</summary>
        public PpoConfig ToConfig()
        {
            var d = new PpoConfig();
            return d with
            {
                Iterations = Iterations ?? d.Iterations, RolloutBatchSize = RolloutBatchSize ?? d.RolloutBatchSize,
                MiniBatchSize = MiniBatchSize ?? d.MiniBatchSize, PpoEpochs = PpoEpochs ?? d.PpoEpochs,
                MaxNewTokens = MaxNewTokens ?? d.MaxNewTokens, Temperature = Temperature ?? d.Temperature, TopK = TopK ?? d.TopK, TopP = TopP ?? d.TopP,
                KlCoef = KlCoef ?? d.KlCoef, KlTarget = KlTarget ?? d.KlTarget, KlHorizon = KlHorizon ?? d.KlHorizon,
                Gamma = Gamma ?? d.Gamma, Lambda = Lambda ?? d.Lambda, ClipRange = ClipRange ?? d.ClipRange,
                ClipRangeValue = ClipRangeValue ?? d.ClipRangeValue, VfCoef = VfCoef ?? d.VfCoef,
                WhitenAdvantages = !NoWhitenAdvantages, EarlyStopKl = EarlyStopKl ?? d.EarlyStopKl,
                MissingEosPenalty = MissingEosPenalty ?? d.MissingEosPenalty, ScoreClip = ScoreClip ?? d.ScoreClip,
                NormalizeScores = NormalizeScores, PtxCoef = PtxCoef ?? d.PtxCoef, PtxBatchSize = PtxBatchSize ?? d.PtxBatchSize,
                ValueModel = ParseValueModel(ValueModel, "--value-model"),
                PolicyLr = PolicyLr ?? d.PolicyLr, ValueLr = ValueLr ?? d.ValueLr, WarmupIterations = Warmup ?? d.WarmupIterations,
                WeightDecay = WeightDecay ?? d.WeightDecay, MaxGradNorm = MaxGradNorm ?? d.MaxGradNorm,
                SaveEvery = SaveEvery ?? d.SaveEvery, KeepCheckpoints = KeepCheckpoints ?? d.KeepCheckpoints, Seed = Seed ?? d.Seed,
            };
        }
    }

    public static ValueModelKind ParseValueModel(string name, string key) => name switch
    {
        "from_reward" => ValueModelKind.FromReward,
        "shared" => ValueModelKind.SharedTrunk,
        _ => throw new UserError($"{key}: must be from_reward or shared, got '{name}'"),
    };

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellationToken)
    {
        var config = s.ToConfig();
        config.Validate();
        CheckResume(s.Output, s.Resume);
        var device = DeviceSetup.Resolve(s.Device);
        var sources = new PpoSources
        {
            PolicyDir = s.Policy, RewardDir = s.Reward, Prompts = ReadPrompts(s.Prompts),
            PtxDocuments = config.PtxCoef > 0 ? ReadPtx(s.PtxData, s.PtxTextField) : null, PtxBlockSize = s.PtxBlockSize,
            Device = device, FrozenDevice = s.FrozenDevice is null ? null : DeviceSetup.Resolve(s.FrozenDevice),
            FrozenDtype = PpoFromFolders.ParseDtype(s.FrozenDtype, "--frozen-dtype"),
        };
        if (config.PtxCoef == 0 && s.PtxData is not null) Console.Error.WriteLine("note: --ptx-data is ignored with --ptx-coef 0");
        var summary = ConsoleProgress.Run(progress => PpoFromFolders.Train(config, sources, s.Output, progress, s.Resume));
        Console.Error.WriteLine(summary);
        return 0;
    }

    static void CheckResume(string output, bool resume)
    {
        var dir = Path.Combine(output, "checkpoints");
        bool has = CheckpointStore.LoadLatest(dir) is not null;
        if (resume && !has) throw new UserError($"--resume: no complete checkpoint in {dir}");
        if (!resume && has) throw new UserError($"{output}: already holds ppo checkpoints; pass --resume to continue, or choose another --output");
    }

    public static IReadOnlyList<Prompt> ReadPrompts(string path)
    {
        if (!File.Exists(path)) throw new UserError($"--prompts {path}: file not found");
        var prompts = PromptReader.Read(path);
        if (prompts.Count == 0) throw new UserError($"--prompts {path}: no prompts");
        return prompts;
    }

    public static IReadOnlyList<string> ReadPtx(string? path, string textField)
    {
        if (path is null) throw new UserError("--ptx-data is required when --ptx-coef > 0 (or pass --ptx-coef 0)");
        if (!File.Exists(path)) throw new UserError($"--ptx-data {path}: file not found");
        return PretrainingReader.ReadDocuments(path, textField).ToList();
    }
}
