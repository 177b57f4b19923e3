using RlhfSharp.Distributed;

namespace RlhfSharp.Training.Core;

/// <summary>
/// Where and how a phase runs, the same for every phase: its output folder, whether to continue from the checkpoints
/// there, the device, who hears about progress, and a token that stops it between steps (the last checkpoint stays).
/// </summary>
public sealed record RunOptions
{
    /// <summary>The output folder: an HF model folder plus checkpoints/, metrics.jsonl, tensorboard/ and plots.</summary>
    public required string Output { get; init; }
    /// <summary>Whether to continue from the latest complete checkpoint in <c>Output/checkpoints</c> (exactly: weights,
    /// optimizer, schedule, RNG and data position). A fresh run refuses an output that already holds checkpoints, so a
    /// finished run is never overwritten by accident.</summary>
    public ResumeMode Resume { get; init; } = ResumeMode.Fresh;
    /// <summary>"cpu", "cuda" or "cuda:N".</summary>
    public string Device { get; init; } = "cpu";
    /// <summary>Who hears about progress (default: nobody).</summary>
    public ITrainingProgress Progress { get; init; } = NullProgress.Instance;
    /// <summary>Data parallelism: <see cref="DistributedMode.Mpi"/> when the process was started by <c>mpirun -np N</c>
    /// (each rank trains a replica on its share of every batch; rank 0 alone writes files and reports progress).
    /// The supervised phases (pretrain, sft, reward, dpo) support it; the others refuse it with a clear error.</summary>
    public DistributedMode Distributed { get; init; } = DistributedMode.None;
    /// <summary>Stops the phase between steps; the last checkpoint stays.</summary>
    public CancellationToken Cancellation { get; init; }

    /// <summary>Options for <paramref name="output"/> with the defaults: no resume, CPU, no progress.</summary>
    public static implicit operator RunOptions(string output) => new() { Output = output };
}
