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
