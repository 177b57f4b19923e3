namespace RlhfSharp.Labeling;

/// <summary>A label as stored, with its task, for export and statistics.</summary>
public sealed record StoredLabel(
    long Id, string TaskId, string Prompt, IReadOnlyList<string> Responses, string Labeler,
    IReadOnlyList<int> Ranking, IReadOnlyDictionary<int, int> Ratings,
    IReadOnlyDictionary<int, IReadOnlyList<string>> Flags, string NotesJson, DateTime CreatedUtc);
