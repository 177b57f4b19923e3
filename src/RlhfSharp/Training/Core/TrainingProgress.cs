using System.Diagnostics;
using System.Globalization;

namespace RlhfSharp.Training.Core;

/// <summary>One progress report: where training is and how fast it goes.</summary>
public sealed record ProgressUpdate(
    long Step,
    long TotalSteps,
    IReadOnlyDictionary<string, double> Metrics,
    double TokensPerSecond,
    TimeSpan? Eta);

/// <summary>
/// How a trainer tells the outside world about progress. The CLI renders it with Spectre.Console bars on a terminal;
/// the library ships <see cref="PlainTextProgress"/> and <see cref="NullProgress"/>.
/// </summary>
public interface ITrainingProgress
{
    void Report(ProgressUpdate update);

    /// <summary>A one-off line (checkpoint saved, evaluation result, resumed from step N).</summary>
    void Message(string text);

    /// <summary>A named stage of a multi-phase run (demo, pipeline) begins; the step reports that follow belong to it.</summary>
    void BeginPhase(string name) => Message(name);
}

public sealed class NullProgress : ITrainingProgress
{
    public static readonly NullProgress Instance = new();
    public void Report(ProgressUpdate update) { }
    public void Message(string text) { }
}

/// <summary>Plain lines to stderr (or any writer), at most one per <c>minInterval</c> (default 2 s), plus the last step.</summary>
public sealed class PlainTextProgress(TextWriter? writer = null, TimeSpan? minInterval = null) : ITrainingProgress
{
    readonly TextWriter _out = writer ?? Console.Error;
    readonly TimeSpan _interval = minInterval ?? TimeSpan.FromSeconds(2);
    readonly Stopwatch _since = new();

    public void Report(ProgressUpdate u)
    {
        bool last = u.Step >= u.TotalSteps;
        if (_since.IsRunning && _since.Elapsed < _interval && !last) return;
        _since.Restart();
        _out.WriteLine(Format(u));
    }

    public void Message(string text) => _out.WriteLine(text);

    public static string Format(ProgressUpdate u)
    {
        var ci = CultureInfo.InvariantCulture;
        var parts = new List<string> { $"step {u.Step}/{u.TotalSteps}" };
        parts.AddRange(u.Metrics.Select(kv => $"{kv.Key} {kv.Value.ToString("G4", ci)}"));
        if (u.TokensPerSecond > 0) parts.Add($"{u.TokensPerSecond.ToString("F0", ci)} tok/s");
        if (u.Eta is { } eta) parts.Add($"eta {(eta.TotalHours >= 1 ? eta.ToString(@"h\:mm\:ss", ci) : eta.ToString(@"m\:ss", ci))}");
        return string.Join(" | ", parts);
    }
}

/// <summary>
/// Tokens per second and ETA from wall-clock time since <see cref="Start"/> (steps before a resume are not
/// counted, so the rate is this run's).
/// </summary>
public sealed class ThroughputMeter
{
    readonly Stopwatch _clock = new();
    long _firstStep, _tokens;

    public void Start(long currentStep) { _firstStep = currentStep; _tokens = 0; _clock.Restart(); }

    public void AddTokens(long tokens) => _tokens += tokens;

    public double TokensPerSecond => _clock.Elapsed.TotalSeconds > 0 ? _tokens / _clock.Elapsed.TotalSeconds : 0;

    public TimeSpan? Eta(long step, long totalSteps)
    {
        long done = step - _firstStep;
        if (done <= 0 || !_clock.IsRunning) return null;
        return TimeSpan.FromSeconds(_clock.Elapsed.TotalSeconds / done * Math.Max(0, totalSteps - step));
    }

    public ProgressUpdate Update(long step, long totalSteps, IReadOnlyDictionary<string, double> metrics) =>
        new(step, totalSteps, metrics, TokensPerSecond, Eta(step, totalSteps));
}
