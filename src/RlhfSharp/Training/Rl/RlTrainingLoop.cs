using System.Diagnostics;
using RlhfSharp.Distributed;
using RlhfSharp.Training.Core;

namespace RlhfSharp.Training.Rl;

/// <summary>What the shared RL loop drives: one rollout-and-update iteration at a time, and exact checkpoints.</summary>
public interface IRlTrainer
{
    /// <summary>Iterations done; restored on resume.</summary>
    int Iteration { get; }
    /// <summary>One iteration: a rollout, then the updates on it. Returns the iteration's metrics.</summary>
    Dictionary<string, double> Step();
    /// <summary>Writes a checkpoint of everything a resume needs; returns its folder.</summary>
    string SaveCheckpoint(CheckpointStore store);
    /// <summary>Restores the latest checkpoint in <paramref name="store"/>, if any. Returns whether one was found.</summary>
    bool TryResume(CheckpointStore store);
}

/// <summary>How <see cref="RlTrainingLoop.Run"/> runs one RL phase.</summary>
/// <param name="Phase">the phase's name in progress messages ("ppo", "grpo", "rloo").</param>
/// <param name="Iterations">iterations to reach.</param>
/// <param name="SaveEvery">checkpoint every N iterations and at the end; 0 = only at the end.</param>
/// <param name="KeepCheckpoints">checkpoints kept in <c>output/checkpoints</c>.</param>
/// <param name="Plots">the PNG charts written at the end.</param>
/// <param name="ProgressMetrics">the progress bar's figures: label and metric name.</param>
public sealed record RlLoopSettings(string Phase, int Iterations, int SaveEvery, int KeepCheckpoints,
    IReadOnlyList<PlotGroup> Plots, IReadOnlyList<(string Label, string Metric)> ProgressMetrics);

/// <summary>
/// The iteration loop PPO, GRPO and RLOO share: resume from <c>output/checkpoints</c>, step to the last iteration with
/// metrics to <c>output/metrics.jsonl</c> (+ TensorBoard) and the progress bar, checkpoint every N iterations and at
/// the end, write the PNG plots, then let the trainer write its model folders.
/// In a data-parallel group (<see cref="ProcessGroup.Current"/>) every rank resumes from the same checkpoint and steps
/// together; rank 0 alone writes checkpoints, metrics, plots and models and reports progress (the metrics are global).
/// </summary>
public static class RlTrainingLoop
{
    /// <summary>Runs <paramref name="trainer"/> to <see cref="RlLoopSettings.Iterations"/>.</summary>
    /// <param name="trainer">the trainer.</param>
    /// <param name="settings">phase name, length, checkpointing, plots and progress figures.</param>
    /// <param name="outputDir">the output folder.</param>
    /// <param name="saveModels">writes the final model folder(s) into the output.</param>
    /// <param name="progress">who hears about progress; null = nobody.</param>
    /// <param name="resume">continue from the latest checkpoint when there is one.</param>
    /// <param name="cancellation">stops the run between iterations (the last checkpoint stays the latest).</param>
    /// <returns>The last iteration's metrics (empty when the run was already complete) and the iteration resumed from (null for a fresh run).</returns>
    public static (IReadOnlyDictionary<string, double> Last, long? ResumedFrom) Run(IRlTrainer trainer, RlLoopSettings settings, string outputDir,
        Action saveModels, ITrainingProgress? progress = null, bool resume = true, CancellationToken cancellation = default)
    {
        var group = ProcessGroup.Current;
        progress = group.IsMain ? progress ?? NullProgress.Instance : NullProgress.Instance;
        var store = new CheckpointStore(Path.Combine(outputDir, PhaseStart.CheckpointsFolder), settings.KeepCheckpoints);
        long? resumedFrom = null;
        if (resume && trainer.TryResume(store))
        {
            resumedFrom = trainer.Iteration;
            progress.Message($"{settings.Phase}: resumed at iteration {trainer.Iteration}");
        }
        IReadOnlyDictionary<string, double> stats = new Dictionary<string, double>();
        using var metrics = group.IsMain ? new MetricsLogger(outputDir, tensorboard: true, resumeFromStep: trainer.Iteration) : null;
        var clock = Stopwatch.StartNew();
        int startIteration = trainer.Iteration;
        while (trainer.Iteration < settings.Iterations)
        {
            // Between iterations only: the last checkpoint stays the latest, so a cancelled run resumes exactly.
            cancellation.ThrowIfCancellationRequested();
            stats = trainer.Step();
            int iteration = trainer.Iteration;
            metrics?.Log(iteration, stats);
            double perIteration = clock.Elapsed.TotalSeconds / (iteration - startIteration);
            progress.Report(new ProgressUpdate(iteration, settings.Iterations,
                settings.ProgressMetrics.ToDictionary(m => m.Label, m => stats.TryGetValue(m.Metric, out var v) ? v : double.NaN),
                0, TimeSpan.FromSeconds(perIteration * (settings.Iterations - iteration))));
            if (group.IsMain && ((settings.SaveEvery > 0 && iteration % settings.SaveEvery == 0) || iteration == settings.Iterations)) trainer.SaveCheckpoint(store);
        }
        if (group.IsMain)
        {
            metrics!.WritePlots(settings.Plots);
            saveModels();
        }
        // No rank leaves before the model is written: a caller that reads the output after the phase finds it complete.
        group.Barrier();
        return (stats, resumedFrom);
    }
}
