using System.Text.Json.Nodes;

namespace RlhfSharp.Data;

/// <summary>The record layouts a comparison file may use; <see cref="Auto"/> decides per record from its fields.</summary>
public enum ComparisonFormat
{
    /// <summary>Decide per record from its fields (<see cref="ComparisonReader.Detect"/>).</summary>
    Auto,
    /// <summary><c>{"prompt", "chosen", "rejected", ...}</c>; other fields (labeler, task_id, ratings, flags — what the
    /// labeling app exports) are kept as metadata.</summary>
    PromptChosenRejected,
    /// <summary>Anthropic HH: <c>{"chosen", "rejected"}</c> full transcripts, split by <see cref="Transcript.SplitPair"/>.</summary>
    HhTranscripts,
    /// <summary><c>{"prompt", "responses": [...], "ranking": [best..worst indices]}</c> → all C(K,2) pairs.</summary>
    Ranking,
    /// <summary>OpenAssistant trees: sibling ranks → pairs (see <see cref="OasstTree"/>).</summary>
    OasstTree,
}

/// <summary>The pairs of a comparison file, and how many were skipped because chosen equals rejected.</summary>
public sealed record ComparisonSet(IReadOnlyList<Comparison> Pairs, int SkippedIdentical);

/// <summary>Reads reward-model comparisons from JSONL, JSON, or Parquet (see <see cref="RecordSource"/>).</summary>
public static class ComparisonReader
{
    /// <summary>Reads every pair. A pair whose chosen equals its rejected teaches nothing and is skipped; the count is
    /// returned and reported as ONE line on <paramref name="warnings"/> (when given).</summary>
    public static ComparisonSet Read(string path, ComparisonFormat format = ComparisonFormat.Auto,
        TextWriter? warnings = null, RecordFileType fileType = RecordFileType.Auto)
    {
        var pairs = new List<Comparison>();
        int skipped = 0;
        foreach (var record in RecordSource.Read(path, fileType))
            foreach (var pair in FromRecord(record, format))
                if (pair.Chosen == pair.Rejected) skipped++;
                else pairs.Add(pair);
        if (skipped > 0)
            warnings?.WriteLine($"warning: {path}: skipped {skipped} pair{(skipped == 1 ? "" : "s")} whose chosen equals rejected");
        return new ComparisonSet(pairs, skipped);
    }

    /// <summary>The pairs of one record (identical pairs included; <see cref="Read"/> filters them).</summary>
    public static IEnumerable<Comparison> FromRecord(DataRecord record, ComparisonFormat format = ComparisonFormat.Auto)
    {
        if (format == ComparisonFormat.Auto) format = Detect(record);
        var src = record.Where.ToString();
        switch (format)
        {
            case ComparisonFormat.PromptChosenRejected:
                // An optional "group_id" (the labeling app's export writes task/labeler) marks pairs of one ranking.
                return [new Comparison(record.RequireString("prompt"), record.RequireString("chosen"), record.RequireString("rejected"))
                    { Metadata = record.Extras("prompt", "chosen", "rejected"), Source = src, GroupId = record.OptionalString("group_id") }];
            case ComparisonFormat.HhTranscripts:
                var chosen = record.RequireString("chosen");
                var rejected = record.RequireString("rejected");
                var split = Transcript.SplitPair(chosen, rejected)
                    ?? throw record.Where.Error("\"chosen\" and \"rejected\" do not share a prompt ending in \"\\n\\nAssistant:\"");
                return [new Comparison(split.Prompt, split.Chosen, split.Rejected)
                {
                    PromptMessages = Transcript.Parse(split.Prompt), Metadata = record.Extras("chosen", "rejected"), Source = src,
                }];
            case ComparisonFormat.Ranking:
                return ReadRanking(record).ToPairs().ToList();
            default:
                return OasstTree.Pairs(record);
        }
    }

    /// <summary>A <c>{"prompt", "responses", "ranking"}</c> record as a ranking; a bad ranking is a user error naming the line.</summary>
    public static Ranking ReadRanking(DataRecord record)
    {
        var prompt = record.RequireString("prompt");
        var responses = record.RequireStrings("responses");
        var order = new List<int>();
        foreach (var n in record.RequireArray("ranking"))
            order.Add(n is JsonValue v && v.TryGetValue(out int i) ? i
                : throw record.Where.Error($"\"ranking\" must list response indices (integers), got {DataRecord.Describe(n)}"));
        if (Ranking.CheckOrder(responses.Count, order) is { } problem) throw record.Where.Error($"bad ranking: {problem}");
        return new Ranking(prompt, responses, order) { Metadata = record.Extras("prompt", "responses", "ranking"), Source = record.Where.ToString() };
    }

    /// <summary>The layout of one record, from the fields it has; a user error naming the record when none fits.</summary>
    public static ComparisonFormat Detect(DataRecord record)
    {
        var o = record.Object;
        if (OasstTree.Looks(record)) return ComparisonFormat.OasstTree;
        if (record.Has("responses") || record.Has("ranking")) return ComparisonFormat.Ranking;
        if (record.Has("chosen") || record.Has("rejected")) return record.Has("prompt") ? ComparisonFormat.PromptChosenRejected : ComparisonFormat.HhTranscripts;
        if (record.Has("prompt")) return ComparisonFormat.PromptChosenRejected; // so the error names the missing "chosen"
        throw record.Where.Error($"cannot tell the comparison format from fields [{string.Join(", ", o.Select(kv => kv.Key))}]; " +
                            "expected prompt+chosen+rejected, chosen+rejected transcripts, prompt+responses+ranking, or an OpenAssistant tree");
    }
}
