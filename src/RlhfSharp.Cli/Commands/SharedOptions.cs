using RlhfSharp.Cli.CommandLine;
using RlhfSharp.Devices;
using RlhfSharp.Distributed;
using RlhfSharp.Training.Core;

namespace RlhfSharp.Cli.Commands;

/// <summary>Options several commands share, each spelled and explained once, so one concept has one name everywhere.</summary>
public static class SharedOptions
{
    public static readonly CliOption Model = new CliOption("--model", "DIR", "Hugging Face model folder (config.json, *.safetensors, tokenizer files).");
    public static readonly CliOption Output = new CliOption("--output", "DIR", "Output: an HF model folder plus checkpoints/, metrics.jsonl, tensorboard/ and PNG plots.") { Required = true };
    public static readonly CliOption Data = new CliOption("--data", "FILE", "Data file (.jsonl, .json, .parquet; .txt where plain text fits).") { Required = true };
    public static readonly CliOption EvalData = new CliOption("--eval-data", "FILE", "Held-out data in the same format, evaluated every eval_every steps and at the end.") { Default = "none" };
    public static readonly CliOption Device = new CliOption("--device", "DEVICE",
        $"cpu, cuda or cuda:N. CUDA comes from TorchSharp's CUDA package or the PyTorch libtorch named by {DeviceSetup.LibTorchDirVariable}.") { Default = "cpu" };
    public static readonly CliOption Resume = CliOption.Switch("--resume", "Continue exactly from the latest complete checkpoint in OUTPUT/checkpoints (weights, optimizer, schedule, RNG, data position).");
    public static readonly CliOption Distributed = new CliOption("--distributed", "MODE",
        "none, or mpi: data-parallel over the ranks of `mpirun -np N rlhf ...` (Open MPI 4); --batch-size stays the global batch, " +
        "each rank takes its share, rank 0 alone writes files and progress. Every training phase supports it (pretrain, sft, reward, dpo, " +
        "ppo, grpo, rloo; the RL phases split the rollout's prompts, and refuse --rollout-engine openai with it).") { Default = "none" };
    public static readonly CliOption Json = CliOption.Switch("--json", "Print one JSON object on stdout instead of readable lines.");
    public static readonly CliOption BatchSize = new CliOption("--batch-size", "N", "Records per forward pass.") { Default = "8" };
    public static readonly CliOption MaxNewTokens = new CliOption("--max-new-tokens", "N", "Longest response in tokens; sampling also stops at EOS or the end of turn.") { Default = "64" };
    public static readonly CliOption Temperature = new CliOption("--temperature", "T", "Sampling temperature, > 0.") { Default = "1.0 (the model's own distribution)" };
    public static readonly CliOption TopP = new CliOption("--top-p", "P", "Nucleus sampling: the smallest set of tokens whose probability reaches P, in (0, 1].") { Default = "1.0 (off)" };
    public static readonly CliOption SampleSeed = new CliOption("--seed", "N", "Seed of the sampler, for reproducible samples.") { Default = "none (a fresh draw each run)" };
    public static readonly CliOption Db = new CliOption("--db", "FILE", "The labeling store (a SQLite file).") { Required = true };

    /// <summary>What every eval command opens first: the batch size (checked), the device and the model folder.</summary>
    public static (int BatchSize, TorchSharp.torch.Device Device, Checkpoints.ModelFolder Folder) OpenForEval(ParsedArgs args, int defaultBatchSize)
    {
        int batchSize = args.Int(BatchSize, defaultBatchSize);
        if (batchSize < 1) throw new UsageError($"--batch-size must be at least 1, got {batchSize}");
        return (batchSize, DeviceSetup.Resolve(args.String(Device)), Checkpoints.ModelFolder.Open(args.Required(Model)));
    }

    /// <summary>The run options every phase command builds the same way.</summary>
    public static RunOptions RunOptions(ParsedArgs args, CancellationToken cancellation) => new()
    {
        Output = args.Required(Output),
        Resume = args.Switch(Resume) ? ResumeMode.Latest : ResumeMode.Fresh,
        Device = args.String(Device) ?? "cpu",
        Distributed = DistributedModeOf(args),
        Cancellation = cancellation,
    };

    static DistributedMode DistributedModeOf(ParsedArgs args) => args.String(Distributed) switch
    {
        null or "none" => DistributedMode.None,
        "mpi" => DistributedMode.Mpi,
        var other => throw new UsageError($"--distributed must be none or mpi, got '{other}'"),
    };
}
