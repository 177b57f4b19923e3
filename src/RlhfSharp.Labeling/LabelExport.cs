using System.Text;
using System.Text.Json;

namespace RlhfSharp.Labeling;

/// <summary>
/// Turns each label's ranking into its C(K,2) comparisons, best-first order: for ranking
/// [a,b,c] the pairs are (a,b), (a,c), (b,c). One JSON line per pair, keys in this order:
/// <c>{"prompt","chosen","rejected","labeler","task_id","group_id","ratings","flags"}</c> (group_id = task/labeler). The reward trainer
/// reads prompt/chosen/rejected; ratings and flags are the two responses' own
/// (<c>{"chosen":r,"rejected":r}</c>, <c>{"chosen":[...],"rejected":[...]}</c>).
/// </summary>
public static class LabelExport
{
    public static IEnumerable<string> PairLines(StoredLabel label)
    {
        var rk = label.Ranking;
        for (int i = 0; i < rk.Count; i++)
            for (int j = i + 1; j < rk.Count; j++)
                yield return PairLine(label, rk[i], rk[j]);
    }

    static string PairLine(StoredLabel l, int chosen, int rejected)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteString("prompt", l.Prompt);
            w.WriteString("chosen", l.Responses[chosen]);
            w.WriteString("rejected", l.Responses[rejected]);
            w.WriteString("labeler", l.Labeler);
            w.WriteString("task_id", l.TaskId);
            // One labeler's ranking of one task: `rlhf reward --group-rankings` batches its C(K,2) pairs together.
            w.WriteString("group_id", $"{l.TaskId}/{l.Labeler}");
            w.WriteStartObject("ratings");
            w.WriteNumber("chosen", l.Ratings[chosen]);
            w.WriteNumber("rejected", l.Ratings[rejected]);
            w.WriteEndObject();
            w.WriteStartObject("flags");
            WriteList(w, "chosen", l.Flags.GetValueOrDefault(chosen) ?? []);
            WriteList(w, "rejected", l.Flags.GetValueOrDefault(rejected) ?? []);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    static void WriteList(Utf8JsonWriter w, string name, IReadOnlyList<string> items)
    {
        w.WriteStartArray(name);
        foreach (var s in items) w.WriteStringValue(s);
        w.WriteEndArray();
    }

    /// <summary>Writes every label's pairs; returns the number of lines.</summary>
    public static int Write(IEnumerable<StoredLabel> labels, TextWriter output)
    {
        int n = 0;
        foreach (var l in labels)
            foreach (var line in PairLines(l)) { output.Write(line); output.Write('\n'); n++; }
        return n;
    }

    /// <summary>Writes the export to a file (via a temporary file, so a half-written export is never left behind).</summary>
    public static int WriteFile(LabelStore store, string path)
    {
        var tmp = path + ".tmp";
        int n;
        try
        {
            using (var w = new StreamWriter(tmp, false, new UTF8Encoding(false))) n = Write(store.Labels(), w);
        }
        catch (DirectoryNotFoundException e) { throw new UserError($"{path}: folder does not exist", e); }
        File.Move(tmp, path, overwrite: true);
        return n;
    }
}
