namespace RlhfSharp.Labeling;

/// <summary>Where this labeler stands: labels done, and tasks still open to them.</summary>
public sealed record LabelerProgress(int Done, int Remaining);
