using RlhfSharp.Data;
using RlhfSharp.Training.Core;

namespace RlhfSharp.Training.Dpo;

/// <summary>The comparisons DPO trains on, and the SFT model it starts from (a frozen copy is the reference).</summary>
public sealed record DpoSources
{
    public required ModelSource Model { get; init; }
    public required IReadOnlyList<Comparison> Pairs { get; init; }
    /// <summary>Held-out pairs for the implicit-reward eval_accuracy; null for none.</summary>
    public IReadOnlyList<Comparison>? EvalPairs { get; init; }

    public static DpoSources FromFiles(ModelSource model, string data, string? evalData = null, TextWriter? warnings = null) => new()
    {
        Model = model,
        Pairs = ComparisonReader.Read(data, warnings: warnings).Pairs,
        EvalPairs = evalData is null ? null : ComparisonReader.Read(evalData, warnings: warnings).Pairs,
    };
}

/// <summary>The DPO/IPO baseline, the library's one entry (see <see cref="DpoTrainer"/>). The CLI's <c>rlhf dpo</c>, the
/// recipe runner and the demo all call this.</summary>
public static class DpoPhase
{
    public const string Name = "dpo";

    public static PhaseResult Run(DpoConfig config, DpoSources sources, RunOptions run)
    {
        DpoConfig.Schema.Validate(config);
        var (device, resume) = PhaseStart.Check(Name, run);
        var source = sources.Model.Open();
        using var policy = source.NewCausalLM(config.Training.Seed, device);
        var result = DpoTrainer.Run(config, policy, source.Tokenizer, source.ChatFormat, sources.Pairs, sources.EvalPairs,
            run.Output, run.Progress, source.TokenizerSourceDir, resume);
        return PhaseResults.From(Name, result);
    }
}
