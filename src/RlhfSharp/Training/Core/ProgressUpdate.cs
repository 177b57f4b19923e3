namespace RlhfSharp.Training.Core;

/// <summary>One progress report: where training is and how fast it goes.</summary>
public sealed record ProgressUpdate(
    long Step,
    long TotalSteps,
    IReadOnlyDictionary<string, double> Metrics,
    double TokensPerSecond,
    TimeSpan? Eta);
