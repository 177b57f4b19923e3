using System.Text;
using System.Text.Json.Nodes;
using RlhfSharp.Data;

namespace RlhfSharp.Labeling;

/// <summary>
/// Turns each label's ranking into its C(K,2) comparisons with Data's ranking expansion
/// (<see cref="Ranking.PairIndices"/>: for ranking [a,b,c] the pairs are (a,b), (a,c), (b,c)) and writes them in Data's
/// comparison format (<see cref="JsonlWriter"/>), so <see cref="ComparisonReader"/> reads the export back. One JSON line
/// per pair, keys in this order:
/// <c>{"prompt","chosen","rejected","labeler","task_id","group_id","ratings","flags"}</c> (group_id = task/labeler). The reward trainer
/// reads prompt/chosen/rejected; ratings and flags are the two responses' own
/// (<c>{"chosen":r,"rejected":r}</c>, <c>{"chosen":[...],"rejected":[...]}</c>).
/// </summary>
public static class LabelExport
{
    public static IEnumerable<Comparison> Pairs(StoredLabel label) =>
        Ranking.PairIndices(label.Ranking).Select(pair => PairOf(label, pair.Chosen, pair.Rejected));

    public static IEnumerable<string> PairLines(StoredLabel label) =>
        Pairs(label).Select(pair => JsonlWriter.ToLine(JsonlWriter.ToJson(pair)));

    static Comparison PairOf(StoredLabel label, int chosen, int rejected) =>
        new(label.Prompt, label.Responses[chosen], label.Responses[rejected])
        {
            Metadata = new Dictionary<string, JsonNode?>
            {
                ["labeler"] = label.Labeler,
                ["task_id"] = label.TaskId,
                // One labeler's ranking of one task: `rlhf reward --group-rankings` batches its C(K,2) pairs together.
                ["group_id"] = $"{label.TaskId}/{label.Labeler}",
                ["ratings"] = new JsonObject { ["chosen"] = label.Ratings[chosen], ["rejected"] = label.Ratings[rejected] },
                ["flags"] = new JsonObject { ["chosen"] = FlagList(label, chosen), ["rejected"] = FlagList(label, rejected) },
            },
            GroupId = $"{label.TaskId}/{label.Labeler}",
        };

    static JsonArray FlagList(StoredLabel label, int response) =>
        new((label.Flags.GetValueOrDefault(response) ?? []).Select(flag => (JsonNode?)flag).ToArray());

    /// <summary>Writes every label's pairs; returns the number of lines.</summary>
    public static int Write(IEnumerable<StoredLabel> labels, TextWriter output) =>
        JsonlWriter.Write(output, labels.SelectMany(Pairs).Select(JsonlWriter.ToJson));

    /// <summary>Writes the export to a file (via a temporary file, so a half-written export is never left behind).</summary>
    public static int WriteFile(LabelStore store, string path)
    {
        var tmp = path + ".tmp";
        int lines;
        try
        {
            using (var writer = new StreamWriter(tmp, false, new UTF8Encoding(false))) lines = Write(store.Labels(), writer);
        }
        catch (DirectoryNotFoundException e) { throw new UserError($"{path}: folder does not exist", e); }
        File.Move(tmp, path, overwrite: true);
        return lines;
    }
}
