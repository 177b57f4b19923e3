using System.ComponentModel;
using RlhfSharp.Data;
using Spectre.Console.Cli;

namespace RlhfSharp.Cli.Commands;

/// <summary><c>rlhf data dialogues --input raw.txt --output dialogues.jsonl</c>: Gopher-style dialogue mining
/// (see <see cref="GopherDialogueMiner"/>). A text file is one document; JSONL/JSON/Parquet inputs give one document
/// per record (its text field), and dialogues never span documents.</summary>
public sealed class DataDialoguesCommand : Command<DataDialoguesCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--input <PATH>"), Description("Raw text (.txt) or records with a text field (.jsonl, .json, .parquet).")]
        public string Input { get; init; } = "";

        [CommandOption("--output <PATH>"), Description("Where to write the dialogues as JSONL messages records.")]
        public string Output { get; init; } = "";

        [CommandOption("--text-field <NAME>"), Description("Text field of record inputs."), DefaultValue("text")]
        public string TextField { get; init; } = "text";

        [CommandOption("--min-paragraphs <N>"), Description("Shortest run of alternating paragraphs kept (Gopher: 6)."), DefaultValue(GopherDialogueMiner.DefaultMinParagraphs)]
        public int MinParagraphs { get; init; } = GopherDialogueMiner.DefaultMinParagraphs;

        public override Spectre.Console.ValidationResult Validate() =>
            Input.Length == 0 ? Spectre.Console.ValidationResult.Error("--input is required")
            : Output.Length == 0 ? Spectre.Console.ValidationResult.Error("--output is required")
            : MinParagraphs < 2 ? Spectre.Console.ValidationResult.Error("--min-paragraphs must be at least 2")
            : Spectre.Console.ValidationResult.Success();
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        int documents = 0, turns = 0;
        var dialogues = PretrainingReader.ReadDocuments(settings.Input, settings.TextField)
            .SelectMany(doc => { documents++; return GopherDialogueMiner.Mine(doc, settings.MinParagraphs); })
            .Select(d => { turns += d.Turns.Count; return JsonlWriter.ToJson(d.ToDemonstration()); });
        int count = JsonlWriter.Write(settings.Output, dialogues);
        Console.Error.WriteLine($"{count} dialogue{(count == 1 ? "" : "s")} ({turns} turns) from {documents} document{(documents == 1 ? "" : "s")} written to {settings.Output}");
        return 0;
    }
}
