using RlhfSharp.Data;
using RlhfSharp.Training.Core;

namespace RlhfSharp.Training.Sft;

/// <summary>The demonstrations phase 2 trains on, and where its model starts.</summary>
public sealed record SftSources
{
    /// <summary>Usually the pretrained folder (or a Hub checkpoint); a config trains from scratch.</summary>
    public required ModelSource Model { get; init; }
    /// <summary>The training demonstrations.</summary>
    public required IReadOnlyList<Demonstration> Demonstrations { get; init; }
    /// <summary>Held-out demonstrations for eval_loss (response tokens only); null for none.</summary>
    public IReadOnlyList<Demonstration>? EvalDemonstrations { get; init; }

    /// <summary>Reads any demonstration format <see cref="DemonstrationReader"/> knows.</summary>
    public static SftSources FromFiles(ModelSource model, string data, string? evalData = null) => new()
    {
        Model = model,
        Demonstrations = DemonstrationReader.Read(data),
        EvalDemonstrations = evalData is null ? null : DemonstrationReader.Read(evalData),
    };
}

/// <summary>Phase 2, the library's one entry: supervised finetuning with the loss on assistant tokens only (see
/// <see cref="SftTrainer"/>). The CLI's <c>rlhf sft</c>, the recipe runner and the demo all call this.</summary>
public static class SftPhase
{
    /// <summary>The phase's name: its output subfolder in a pipeline and its recipe section.</summary>
    public const string Name = "sft";

    /// <summary>Validates <paramref name="config"/>, checks the output and device, opens the model of <paramref name="sources"/> and trains it with <see cref="SftTrainer"/>.</summary>
    public static PhaseResult Run(SftConfig config, SftSources sources, RunOptions run) =>
        PhaseStart.RunSupervised(Name, SftConfig.Schema, config, sources.Model, run, (source, device, resume) =>
        {
            using var model = source.NewCausalLM(config.Training.Seed, device);
            return SftTrainer.Run(config, model, source.Tokenizer, source.ChatFormat, sources.Demonstrations, sources.EvalDemonstrations,
                run.Output, run.Progress, source.TokenizerSourceDir, resume, run.Cancellation);
        });
}
