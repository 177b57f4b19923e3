using RlhfSharp.Data;

namespace RlhfSharp.Training.Core;

/// <summary>The comparisons a preference phase (the reward model, DPO) trains on, and the SFT model it starts from.</summary>
public sealed record ComparisonSources
{
    /// <summary>The SFT folder (reward: its trunk and a fresh score head; DPO: the policy and its frozen reference).</summary>
    public required ModelSource Model { get; init; }
    /// <summary>Comparison pairs; pairs sharing a <see cref="Comparison.GroupId"/> are one ranking.</summary>
    public required IReadOnlyList<Comparison> Pairs { get; init; }
    /// <summary>Held-out pairs for eval_accuracy; null for none.</summary>
    public IReadOnlyList<Comparison>? EvalPairs { get; init; }

    /// <summary>Reads any comparison format <see cref="ComparisonReader"/> knows; its warnings go to <paramref name="warnings"/>.</summary>
    public static ComparisonSources FromFiles(ModelSource model, string data, string? evalData = null, TextWriter? warnings = null) => new()
    {
        Model = model,
        Pairs = ComparisonReader.Read(data, warnings: warnings).Pairs,
        EvalPairs = evalData is null ? null : ComparisonReader.Read(evalData, warnings: warnings).Pairs,
    };
}
