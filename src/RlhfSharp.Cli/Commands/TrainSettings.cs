using System.ComponentModel;
using System.Text.Json.Nodes;
using RlhfSharp.Checkpoints;
using RlhfSharp.Models;
using RlhfSharp.Tokenization;
using RlhfSharp.Training.Core;
using RlhfSharp.Training.Supervised;
using Spectre.Console;
using Spectre.Console.Cli;
using TorchSharp;

namespace RlhfSharp.Cli.Commands;

/// <summary>
/// Options shared by <c>rlhf pretrain | sft | reward | dpo</c>. Unset numeric options keep the phase's documented
/// default (PretrainConfig: nanoGPT; SftConfig: TRL/InstructGPT; RewardConfig: InstructGPT; DpoConfig: DPO paper/TRL).
/// </summary>
public class TrainSettings : CommandSettings
{
    [CommandOption("--model <DIR>"), Description("Start from this HF model folder (weights, config.json, tokenizer). Or use --config.")]
    public string? Model { get; init; }

    [CommandOption("--config <FILE>"), Description("Train from scratch: a model config.json (TransformerConfig keys, e.g. model_type gpt2, vocab_size, n_embd, n_layer, n_head, n_positions). Unknown keys are an error.")]
    public string? Config { get; init; }

    [CommandOption("--tokenizer <NAME>"), Description("With --config: bytes (a 258-token byte tokenizer saved into the output), gpt2 (tiktoken; no tokenizer files written), or an HF folder. Default: bytes.")]
    public string Tokenizer { get; init; } = "bytes";

    [CommandOption("--data <FILE>"), Description("Training data (.jsonl, .json, .parquet; .txt for pretraining).")]
    public string Data { get; init; } = "";

    [CommandOption("--eval-data <FILE>"), Description("Held-out data in the same format; evaluated every --eval-every steps and at the end. Default: none.")]
    public string? EvalData { get; init; }

    [CommandOption("--output <DIR>"), Description("Output: an HF model folder plus checkpoints/, metrics.jsonl, tensorboard/ and PNG plots.")]
    public string Output { get; init; } = "";

    [CommandOption("--max-steps <N>"), Description("Optimizer steps; overrides --epochs. Default: derived from --epochs.")]
    public long? MaxSteps { get; init; }

    [CommandOption("--epochs <N>"), Description("Passes over the data when --max-steps is not given. Default: pretrain 1, sft 3 (TRL), reward 1 (InstructGPT), dpo 3 (TRL).")]
    public int? Epochs { get; init; }

    [CommandOption("--batch-size <N>"), Description("Examples per optimizer step. Default: pretrain 12 blocks (nanoGPT), sft 32 (InstructGPT), reward 64 pairs (InstructGPT), dpo 64 pairs (DPO paper).")]
    public int? BatchSize { get; init; }

    [CommandOption("--grad-accum <N>"), Description("Micro-batches per step (must divide --batch-size). Default: 1.")]
    public int? GradAccum { get; init; }

    [CommandOption("--lr <LR>"), Description("Peak learning rate (cosine decay to 10%, InstructGPT App. C / nanoGPT). Default: pretrain 6e-4 (nanoGPT), sft 2e-5 (TRL), reward 9e-6 (InstructGPT), dpo 1e-6 (DPO paper, TRL).")]
    public double? Lr { get; init; }

    [CommandOption("--warmup <STEPS>"), Description("Linear warmup steps. Default: pretrain 2000 (nanoGPT), sft 0 (TRL), reward 0, dpo 150 (DPO paper).")]
    public long? Warmup { get; init; }

    [CommandOption("--weight-decay <WD>"), Description("Decoupled weight decay on matrices only (no decay on norms/biases, nanoGPT). Default: pretrain 0.1 (nanoGPT), others 0 (HF TrainingArguments).")]
    public double? WeightDecay { get; init; }

    [CommandOption("--grad-clip <NORM>"), Description("Max global gradient norm; 0 disables. Default: 1.0 (nanoGPT, HF max_grad_norm).")]
    public double? GradClip { get; init; }

    [CommandOption("--seed <N>"), Description("Seed for initialisation and data order. Default: 1337 (nanoGPT).")]
    public ulong? Seed { get; init; }

    [CommandOption("--device <DEVICE>"), Description("cpu, cuda or cuda:N. Default: cpu.")]
    public string Device { get; init; } = "cpu";

    [CommandOption("--resume"), Description("Continue exactly from the latest complete checkpoint in OUTPUT/checkpoints.")]
    public bool Resume { get; init; }

    [CommandOption("--eval-every <STEPS>"), Description("Evaluate every N steps (and at the end). Default: pretrain 2000 (nanoGPT), others 200.")]
    public long? EvalEvery { get; init; }

    [CommandOption("--save-every <STEPS>"), Description("Checkpoint every N steps (and at the end). Default: pretrain 2000, others 500.")]
    public long? SaveEvery { get; init; }

    [CommandOption("--log-every <STEPS>"), Description("Log metrics every N steps. Default: 10.")]
    public long? LogEvery { get; init; }

    [CommandOption("--keep-checkpoints <N>"), Description("Checkpoints kept. Default: 3.")]
    public int? KeepCheckpoints { get; init; }

    public override ValidationResult Validate() =>
        (Model is null) == (Config is null) ? ValidationResult.Error("give exactly one of --model DIR or --config model.json")
        : Data.Length == 0 ? ValidationResult.Error("--data is required")
        : Output.Length == 0 ? ValidationResult.Error("--output is required")
        : ValidationResult.Success();

    /// <summary>The phase's training defaults with every given option applied.</summary>
    public TrainingConfig Apply(TrainingConfig t) => t with
    {
        MaxSteps = MaxSteps ?? t.MaxSteps,
        MaxEpochs = Epochs ?? t.MaxEpochs,
        GradAccumulationSteps = GradAccum ?? t.GradAccumulationSteps,
        Lr = Lr ?? t.Lr,
        WarmupSteps = Warmup ?? t.WarmupSteps,
        WeightDecay = WeightDecay ?? t.WeightDecay,
        GradClip = GradClip ?? t.GradClip,
        Seed = Seed ?? t.Seed,
        EvalInterval = EvalEvery ?? t.EvalInterval,
        SaveInterval = SaveEvery ?? t.SaveInterval,
        LogInterval = LogEvery ?? t.LogInterval,
        KeepCheckpoints = KeepCheckpoints ?? t.KeepCheckpoints,
    };
}

/// <summary>What the train commands share: the model source, tokenizer, chat format, device and resume checks.</summary>
public sealed record TrainSetup(ITextTokenizer Tokenizer, IChatFormat ChatFormat, string? TokenizerSourceDir, torch.Device Device, TransformerConfig? ScratchConfig)
{
    // Keys a from-scratch config.json may carry: what the loader reads and what transformers writes alongside.
    static readonly HashSet<string> KnownConfigKeys =
    [
        "model_type", "architectures", "vocab_size", "n_embd", "n_layer", "n_head", "n_inner", "n_positions", "n_ctx",
        "hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads", "head_dim", "intermediate_size",
        "max_position_embeddings", "layer_norm_epsilon", "rms_norm_eps", "rope_theta", "rope_scaling", "rope_parameters",
        "tie_word_embeddings", "attention_bias", "mlp_bias", "activation_function", "hidden_act", "bos_token_id",
        "eos_token_id", "pad_token_id", "dtype", "torch_dtype", "sliding_window", "use_sliding_window", "max_window_layers",
        "attn_pdrop", "embd_pdrop", "resid_pdrop", "attention_dropout", "initializer_range", "use_cache",
        "transformers_version", "id2label", "label2id", "num_labels", "scale_attn_weights", "scale_attn_by_inverse_layer_idx",
        "reorder_and_upcast_attn", "summary_type", "summary_use_proj", "summary_activation", "summary_proj_to_labels",
        "summary_first_dropout", "task_specific_params", "pretraining_tp",
    ];

    public static TrainSetup Create(TrainSettings s, string phase)
    {
        var device = ParseDevice(s.Device);
        CheckResume(s, phase);
        if (s.Model is not null)
        {
            if (!Directory.Exists(s.Model)) throw new UserError($"--model {s.Model}: folder not found");
            return new TrainSetup(TokenizerLoader.FromFolder(s.Model), ChatFormats.FromTokenizerConfig(s.Model), s.Model, device, null);
        }
        var tokenizer = TokenizerLoader.Load(s.Tokenizer);
        var config = ReadScratchConfig(s.Config!, tokenizer);
        string? source = Directory.Exists(s.Tokenizer) ? s.Tokenizer : null;
        IChatFormat format = source is not null ? ChatFormats.FromTokenizerConfig(source) : new DefaultChatFormat();
        if (tokenizer is Gpt2Tokenizer) Console.Error.WriteLine("warning: --tokenizer gpt2 writes no tokenizer files into the output; load its tokenizer as \"gpt2\"");
        return new TrainSetup(tokenizer, format, source, device, config);
    }

    /// <summary>A config.json for training from scratch; unknown keys (typos) are an error naming the key.</summary>
    public static TransformerConfig ReadScratchConfig(string path, ITextTokenizer tokenizer)
    {
        if (!File.Exists(path)) throw new UserError($"--config {path}: file not found");
        var text = File.ReadAllText(path);
        if (JsonNode.Parse(text, documentOptions: new() { CommentHandling = System.Text.Json.JsonCommentHandling.Skip }) is JsonObject o)
            foreach (var (key, _) in o)
                if (!KnownConfigKeys.Contains(key) && !key.StartsWith('_'))
                    throw new UserError($"{path}: unknown key '{key}'");
        var c = TransformerConfigJson.Parse(text, path);
        if (c.VocabSize < tokenizer.VocabSize)
            throw new UserError($"{path}: vocab_size {c.VocabSize} is smaller than the tokenizer's {tokenizer.VocabSize} tokens");
        return c with
        {
            BosTokenId = c.BosTokenId ?? tokenizer.BosId, EosTokenId = c.EosTokenId ?? tokenizer.EosId, PadTokenId = c.PadTokenId ?? tokenizer.PadId,
        };
    }

    static void CheckResume(TrainSettings s, string phase)
    {
        var dir = Path.Combine(s.Output, SupervisedLoop.CheckpointsFolder);
        bool has = CheckpointStore.LoadLatest(dir) is not null;
        if (s.Resume && !has) throw new UserError($"--resume: no complete checkpoint in {dir}");
        if (!s.Resume && has) throw new UserError($"{s.Output}: already holds {phase} checkpoints; pass --resume to continue, or choose another --output");
    }

    public static torch.Device ParseDevice(string name)
    {
        try { return torch.device(name); }
        catch (Exception e) when (e is not UserError) { throw new UserError($"--device {name}: not a usable device ({e.Message.Split('\n')[0]})"); }
    }

    /// <summary>A fresh causal LM from the scratch config (seeded), on the device.</summary>
    public CausalLM NewCausalLM(ulong seed)
    {
        torch.manual_seed((long)seed);
        var m = ModelFactory.Create(ScratchConfig!);
        m.to(Device);
        return m;
    }
}
