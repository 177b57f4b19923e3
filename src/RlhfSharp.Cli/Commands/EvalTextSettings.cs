using System.ComponentModel;
using Spectre.Console.Cli;

namespace RlhfSharp.Cli.Commands;

/// <summary>Options shared by the eval commands that read one text per record of a data file.</summary>
public class EvalTextSettings : CommandSettings
{
    [CommandOption("--model <DIR>")]
    [Description("Hugging Face model folder (a causal LM for perplexity, a *ForSequenceClassification reward model for scores). Required.")]
    public string? Model { get; init; }

    [CommandOption("--data <FILE>")]
    [Description("Records: .jsonl, .json, .parquet (one text per record) or .txt (one text). Required.")]
    public string? Data { get; init; }

    [CommandOption("--field <NAME>")]
    [Description("Record field that holds the text (for reward scores: prompt and response together). Default: text.")]
    public string Field { get; init; } = "text";

    [CommandOption("--batch-size <N>")]
    [Description("Records per forward pass. Default: 8.")]
    public int BatchSize { get; init; } = 8;

    [CommandOption("--device <DEVICE>")]
    [Description("cpu, cuda or cuda:N. Default: cpu.")]
    public string Device { get; init; } = "cpu";

    [CommandOption("--json")]
    [Description("Print one JSON object instead of readable lines. Default: off.")]
    public bool Json { get; init; }

    public override Spectre.Console.ValidationResult Validate()
    {
        if (Data is null) throw new UserError("--data is required (a JSONL, JSON, Parquet or text file)");
        if (BatchSize < 1) throw new UserError($"--batch-size must be at least 1 (got {BatchSize})");
        return base.Validate();
    }
}
