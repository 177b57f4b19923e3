using RlhfSharp.Data;
using RlhfSharp.Training.Core;

namespace RlhfSharp.Training.RewardModeling;

/// <summary>The comparisons phase 3.1 trains on, and the SFT model the reward model starts from.</summary>
public sealed record RewardSources
{
    /// <summary>The SFT folder: its trunk is kept and a fresh score head is drawn from the config's seed.</summary>
    public required ModelSource Model { get; init; }
    /// <summary>Comparison pairs; pairs sharing a <see cref="Comparison.GroupId"/> are one ranking.</summary>
    public required IReadOnlyList<Comparison> Pairs { get; init; }
    /// <summary>Held-out pairs for eval_accuracy; null for none.</summary>
    public IReadOnlyList<Comparison>? EvalPairs { get; init; }

    /// <summary>Reads any comparison format <see cref="ComparisonReader"/> knows; its warnings go to <paramref name="warnings"/>.</summary>
    public static RewardSources FromFiles(ModelSource model, string data, string? evalData = null, TextWriter? warnings = null) => new()
    {
        Model = model,
        Pairs = ComparisonReader.Read(data, warnings: warnings).Pairs,
        EvalPairs = evalData is null ? null : ComparisonReader.Read(evalData, warnings: warnings).Pairs,
    };
}

/// <summary>Phase 3.1, the library's one entry: the reward model (see <see cref="RewardTrainer"/>). The CLI's
/// <c>rlhf reward</c>, the recipe runner and the demo all call this.</summary>
public static class RewardPhase
{
    public const string Name = "reward";

    public static PhaseResult Run(RewardConfig config, RewardSources sources, RunOptions run)
    {
        RewardConfig.Schema.Validate(config);
        var (device, resume) = PhaseStart.Check(Name, run);
        var source = sources.Model.Open();
        // The score head is drawn from the config's seed here, whichever front end runs the phase.
        using var model = source.NewScalarHead(config.Training.Seed, device);
        var result = RewardTrainer.Run(config, model, source.Tokenizer, source.ChatFormat, sources.Pairs, sources.EvalPairs,
            run.Output, run.Progress, source.TokenizerSourceDir, resume);
        return PhaseResults.From(Name, result);
    }
}
