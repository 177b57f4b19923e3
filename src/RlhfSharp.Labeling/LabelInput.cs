namespace RlhfSharp.Labeling;

/// <summary>One validated label: ranking best first, a 1–7 rating and a flag list per response id.</summary>
public sealed record LabelInput(
    IReadOnlyList<int> Ranking,
    IReadOnlyDictionary<int, int> Ratings,
    IReadOnlyDictionary<int, IReadOnlyList<string>> Flags,
    string NotesJson);
