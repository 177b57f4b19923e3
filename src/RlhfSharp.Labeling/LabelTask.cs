namespace RlhfSharp.Labeling;

/// <summary>A task as stored: a prompt and K responses whose ids are their positions 0..K-1.</summary>
public sealed record LabelTask(long RowId, string Id, string Prompt, IReadOnlyList<string> Responses);
