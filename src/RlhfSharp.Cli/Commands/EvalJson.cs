using System.Text.Json.Nodes;
using RlhfSharp.Evaluation;

namespace RlhfSharp.Cli.Commands;

/// <summary>How eval commands write numbers and estimates in their JSON: a value that is not a number (no data) is null,
/// an interval is <c>[lo, hi]</c>.</summary>
static class EvalJson
{
    public static JsonNode? Number(double value) => double.IsFinite(value) ? JsonValue.Create(value) : null;

    public static JsonNode? Interval(Estimate estimate) =>
        double.IsFinite(estimate.Lo) ? new JsonArray(JsonValue.Create(estimate.Lo), JsonValue.Create(estimate.Hi)) : null;

    /// <summary><c>{"mean", "ci95": [lo, hi], "n"}</c></summary>
    public static JsonObject Mean(Estimate estimate) => new() { ["mean"] = Number(estimate.Value), ["ci95"] = Interval(estimate), ["n"] = estimate.N };

    /// <summary>A readable "0.412 [0.380, 0.444]" or "n/a" when there is no data.</summary>
    public static string Text(Estimate estimate) => double.IsFinite(estimate.Value) ? estimate.ToString() : "n/a";
}
