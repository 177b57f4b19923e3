namespace RlhfSharp.Labeling;

/// <summary>A task as stored: a prompt and K responses whose ids are their positions 0..K-1.</summary>
public sealed record LabelTask(long RowId, string Id, string Prompt, IReadOnlyList<string> Responses);

/// <summary>A labeler; <see cref="IsAdmin"/> may read stats and export.</summary>
public sealed record Labeler(long Id, string Name, bool IsAdmin);

/// <summary>One validated label: ranking best first, a 1–7 rating and a flag list per response id.</summary>
public sealed record LabelInput(
    IReadOnlyList<int> Ranking,
    IReadOnlyDictionary<int, int> Ratings,
    IReadOnlyDictionary<int, IReadOnlyList<string>> Flags,
    string NotesJson);

/// <summary>A label as stored, with its task, for export and statistics.</summary>
public sealed record StoredLabel(
    long Id, string TaskId, string Prompt, IReadOnlyList<string> Responses, string Labeler,
    IReadOnlyList<int> Ranking, IReadOnlyDictionary<int, int> Ratings,
    IReadOnlyDictionary<int, IReadOnlyList<string>> Flags, string NotesJson, DateTime CreatedUtc);

/// <summary>Where this labeler stands: labels done, and tasks still open to them.</summary>
public sealed record LabelerProgress(int Done, int Remaining);

public enum SubmitOutcome { Created, UnknownTask, Duplicate, TaskFull }
