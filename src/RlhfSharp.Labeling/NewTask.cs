namespace RlhfSharp.Labeling;

/// <summary>A task to add: <paramref name="Id"/> null means "derive one from the content".</summary>
public sealed record NewTask(string? Id, string Prompt, IReadOnlyList<string> Responses, string? MetadataJson = null);
