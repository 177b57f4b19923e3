using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using RlhfSharp.Models;

namespace RlhfSharp.Checkpoints;

/// <summary>
/// <c>reward_normalization.json</c> beside a scalar head's weights: its <see cref="ScoreNormalization"/>. The loader
/// reads it (so a Llama-family reward model adds its shift wherever it is used) and the saver writes it back.
/// </summary>
public static class ScoreNormalizationFile
{
    /// <summary>File name, beside the weights.</summary>
    public const string Name = "reward_normalization.json";

    /// <summary>Writes <paramref name="n"/> to <c>dir/reward_normalization.json</c>; statistics that are not finite are written as null.</summary>
    public static void Write(string dir, ScoreNormalization n)
    {
        var json = new JsonObject
        {
            ["gain"] = n.Gain, ["shift"] = n.Shift, ["shift_in_weights"] = n.ShiftInWeights,
            ["measured_on"] = n.MeasuredOn, ["samples"] = n.Samples,
            ["mean_before"] = Finite(n.MeanBefore), ["std_before"] = Finite(n.StdBefore),
            ["mean_after"] = Finite(n.MeanAfter), ["std_after"] = Finite(n.StdAfter),
        };
        File.WriteAllText(Path.Combine(dir, Name), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    // JSON has no NaN: a statistic that could not be measured (one sample has no std) is null.
    static JsonNode? Finite(double d) => double.IsFinite(d) ? JsonValue.Create(d) : null;

    /// <summary>The normalisation in <c>dir</c>, or null when the folder has none; a malformed file is a user error naming it.</summary>
    public static ScoreNormalization? Read(string dir)
    {
        var path = Path.Combine(dir, Name);
        if (!File.Exists(path)) return null;
        try
        {
            var json = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new UserError($"{path}: not a JSON object");
            double Number(string key, double? fallback = null) =>
                json[key] is JsonValue v && v.TryGetValue<double>(out var d) && double.IsFinite(d) ? d
                : fallback ?? throw new UserError($"{path}: '{key}' must be a finite number");
            return new ScoreNormalization
            {
                Gain = Number("gain"), Shift = Number("shift"),
                ShiftInWeights = json["shift_in_weights"] is JsonValue b && b.TryGetValue<bool>(out var inWeights) ? inWeights
                    : throw new UserError($"{path}: 'shift_in_weights' must be true or false"),
                MeasuredOn = json["measured_on"]?.GetValue<string>() ?? "",
                Samples = (int)Number("samples", 0),
                MeanBefore = Number("mean_before", double.NaN), StdBefore = Number("std_before", double.NaN),
                MeanAfter = Number("mean_after", double.NaN), StdAfter = Number("std_after", double.NaN),
            };
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new UserError(string.Create(CultureInfo.InvariantCulture, $"{path}: unreadable ({e.Message.Split('\n')[0]})"));
        }
    }
}
