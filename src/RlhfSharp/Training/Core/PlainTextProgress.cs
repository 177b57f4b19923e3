using System.Diagnostics;
using System.Globalization;

namespace RlhfSharp.Training.Core;

/// <summary>Plain lines to stderr (or any writer), at most one per <c>minInterval</c> (default 2 s), plus the last step.</summary>
public sealed class PlainTextProgress(TextWriter? writer = null, TimeSpan? minInterval = null) : ITrainingProgress
{
    readonly TextWriter _out = writer ?? Console.Error;
    readonly TimeSpan _interval = minInterval ?? TimeSpan.FromSeconds(2);
    readonly Stopwatch _since = new();

    /// <inheritdoc/>
    /// <remarks>Writes at most one line per interval, and always the last step.</remarks>
    public void Report(ProgressUpdate u)
    {
        bool last = u.Step >= u.TotalSteps;
        if (_since.IsRunning && _since.Elapsed < _interval && !last) return;
        _since.Restart();
        _out.WriteLine(Format(u));
    }

    /// <inheritdoc/>
    public void Message(string text) => _out.WriteLine(text);

    /// <summary>"step N/T | metric value | ... | tok/s | eta", values in invariant culture.</summary>
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
