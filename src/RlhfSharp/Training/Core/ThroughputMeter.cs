using System.Diagnostics;
using System.Globalization;

namespace RlhfSharp.Training.Core;

/// <summary>
/// Tokens per second and ETA from wall-clock time since <see cref="Start"/> (steps before a resume are not
/// counted, so the rate is this run's).
/// </summary>
public sealed class ThroughputMeter
{
    readonly Stopwatch _clock = new();
    long _firstStep, _tokens;

    /// <summary>Starts timing at <paramref name="currentStep"/> (the resume step, or 0) with no tokens counted.</summary>
    public void Start(long currentStep) { _firstStep = currentStep; _tokens = 0; _clock.Restart(); }

    /// <summary>Counts tokens processed since <see cref="Start"/>.</summary>
    public void AddTokens(long tokens) => _tokens += tokens;

    /// <summary>Tokens counted per wall-clock second since <see cref="Start"/>; 0 before any time passed.</summary>
    public double TokensPerSecond => _clock.Elapsed.TotalSeconds > 0 ? _tokens / _clock.Elapsed.TotalSeconds : 0;

    /// <summary>Time left at this run's mean step time; null before the first step.</summary>
    public TimeSpan? Eta(long step, long totalSteps)
    {
        long done = step - _firstStep;
        if (done <= 0 || !_clock.IsRunning) return null;
        return TimeSpan.FromSeconds(_clock.Elapsed.TotalSeconds / done * Math.Max(0, totalSteps - step));
    }

    /// <summary>A progress report for <paramref name="step"/> with the current throughput and ETA.</summary>
    public ProgressUpdate Update(long step, long totalSteps, IReadOnlyDictionary<string, double> metrics) =>
        new(step, totalSteps, metrics, TokensPerSecond, Eta(step, totalSteps));
}
