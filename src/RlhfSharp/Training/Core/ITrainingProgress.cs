namespace RlhfSharp.Training.Core;

/// <summary>
/// How a trainer tells the outside world about progress. The CLI renders it with Spectre.Console bars on a terminal;
/// the library ships <see cref="PlainTextProgress"/> and <see cref="NullProgress"/>.
/// </summary>
public interface ITrainingProgress
{
    /// <summary>A training step finished: step, total, metrics, throughput and ETA.</summary>
    void Report(ProgressUpdate update);

    /// <summary>A one-off line (checkpoint saved, evaluation result, resumed from step N).</summary>
    void Message(string text);

    /// <summary>A named stage of a multi-phase run (demo, pipeline) begins; the step reports that follow belong to it.</summary>
    void BeginPhase(string name) => Message(name);
}
