namespace RlhfSharp.Labeling;

/// <summary>A labeler; <see cref="IsAdmin"/> may read stats and export.</summary>
public sealed record Labeler(long Id, string Name, bool IsAdmin);
