using System.Text.Json;
using System.Text.Json.Nodes;
using TorchSharp;
using TorchSharp.Modules;

namespace RlhfSharp.Training.Core;

/// <summary>One PNG: several series on one chart (e.g. train and eval loss).</summary>
public sealed record PlotGroup(string FileName, string Title, string YLabel, params string[] Series);

/// <summary>
/// Training metrics to three sinks: <c>metrics.jsonl</c> (one <c>{"step":N,"name":value,...}</c> object per
/// line, easy to read from any language), TensorBoard event files (TorchSharp's SummaryWriter) and, at the
/// end, PNG charts (<see cref="WritePlots"/>). Values are host doubles: call <c>.item()</c> only on steps
/// that log.
/// </summary>
public sealed class MetricsLogger : IDisposable
{
    /// <summary>The JSONL metrics file in the logger's folder.</summary>
    public const string JsonlFile = "metrics.jsonl";

    readonly StreamWriter _jsonl;
    readonly SummaryWriter? _tensorboard;
    readonly Dictionary<string, List<(long Step, double Value)>> _series = [];

    /// <summary>The output folder (absolute).</summary>
    public string Folder { get; }

    /// <summary>All values logged so far (including those kept from before a resume), by name.</summary>
    public IReadOnlyDictionary<string, List<(long Step, double Value)>> Series => _series;

    /// <param name="folder">Output folder; TensorBoard files go to <c>folder/tensorboard</c>.</param>
    /// <param name="tensorboard">Also write TensorBoard event files.</param>
    /// <param name="resumeFromStep">When resuming: keep existing lines with step &lt;= this and drop later
    /// ones (they will be logged again); null starts a fresh file.</param>
    public MetricsLogger(string folder, bool tensorboard = true, long? resumeFromStep = null)
    {
        Folder = Path.GetFullPath(folder);
        Directory.CreateDirectory(Folder);
        var path = Path.Combine(Folder, JsonlFile);
        var kept = new List<string>();
        if (resumeFromStep is { } last && File.Exists(path))
            foreach (var (line, step, values) in ReadLines(path))
                if (step <= last) { kept.Add(line); Remember(step, values); }
        File.WriteAllLines(path, kept);
        _jsonl = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read)) { AutoFlush = true };
        if (tensorboard) _tensorboard = torch.utils.tensorboard.SummaryWriter(Path.Combine(Folder, "tensorboard"));
    }

    /// <summary>Logs named scalars for one step (non-finite values are written as null in JSON).</summary>
    public void Log(long step, IReadOnlyDictionary<string, double> values)
    {
        var obj = new JsonObject { ["step"] = step };
        foreach (var (name, v) in values)
        {
            obj[name] = double.IsFinite(v) ? v : null;
            _tensorboard?.add_scalar(name, (float)v, checked((int)step));
        }
        _jsonl.WriteLine(obj.ToJsonString());
        Remember(step, values);
    }

    /// <summary>Logs named scalars for one step (see the dictionary overload).</summary>
    public void Log(long step, params (string Name, double Value)[] values) => Log(step, values.ToDictionary(v => v.Name, v => v.Value));

    void Remember(long step, IEnumerable<KeyValuePair<string, double>> values)
    {
        foreach (var (name, v) in values)
        {
            if (!_series.TryGetValue(name, out var list)) _series[name] = list = [];
            list.Add((step, v));
        }
    }

    /// <summary>Reads a <c>metrics.jsonl</c> back: (raw line, step, numeric values). Malformed lines are a user error.</summary>
    public static IEnumerable<(string Line, long Step, Dictionary<string, double> Values)> ReadLines(string path)
    {
        int lineNo = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNo++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            JsonObject obj;
            try { obj = JsonNode.Parse(line) as JsonObject ?? throw new JsonException("not an object"); }
            catch (JsonException e) { throw new UserError($"{path}:{lineNo}: not a JSON object ({e.Message})"); }
            if (obj["step"] is not JsonValue s || !s.TryGetValue<long>(out var step)) throw new UserError($"{path}:{lineNo}: missing integer 'step'");
            var values = new Dictionary<string, double>();
            foreach (var (k, v) in obj)
                if (k != "step") values[k] = v is JsonValue jv && jv.TryGetValue<double>(out var d) ? d : double.NaN;
            yield return (line, step, values);
        }
    }

    /// <summary>Writes one PNG per group into <paramref name="folder"/> (default: the logger's folder); returns the paths.</summary>
    public IReadOnlyList<string> WritePlots(IEnumerable<PlotGroup> groups, string? folder = null) =>
        MetricPlots.Write(_series, groups, folder ?? Folder);

    // TorchSharp's SummaryWriter opens and closes its event file per write: nothing to close.
    /// <summary>Closes metrics.jsonl.</summary>
    public void Dispose() => _jsonl.Dispose();
}
