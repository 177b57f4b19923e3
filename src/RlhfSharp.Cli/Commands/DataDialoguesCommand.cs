using RlhfSharp.Cli.CommandLine;
using RlhfSharp.Data;

namespace RlhfSharp.Cli.Commands;

/// <summary><c>rlhf data dialogues --input raw.txt --output dialogues.jsonl</c>: Gopher-style dialogue mining
/// (see <see cref="GopherDialogueMiner"/>). A text file is one document; JSONL/JSON/Parquet inputs give one document
/// per record (its text field), and dialogues never span documents.</summary>
public sealed class DataDialoguesCommand : CliCommand
{
    static readonly CliOption Input = new CliOption("--input", "PATH", "Raw text (.txt) or records with a text field (.jsonl, .json, .parquet).") { Required = true };
    static readonly CliOption Output = new CliOption("--output", "PATH", "Where to write the dialogues as JSONL messages records.") { Required = true };
    static readonly CliOption TextField = new CliOption("--text-field", "NAME", "Text field of record inputs.") { Default = "text" };
    static readonly CliOption MinParagraphs = new CliOption("--min-paragraphs", "N", "Shortest run of alternating-speaker paragraphs kept.") { Default = $"{GopherDialogueMiner.DefaultMinParagraphs} (Gopher)" };

    public override string Description => "Mine two-speaker dialogues from raw text (Gopher's rule) into messages JSONL.";
    public override IReadOnlyList<CliOption> Options => [Input, Output, TextField, MinParagraphs];

    public override int Execute(ParsedArgs args, CancellationToken cancellation)
    {
        int minParagraphs = args.Int(MinParagraphs, GopherDialogueMiner.DefaultMinParagraphs);
        if (minParagraphs < 2) throw new UsageError($"--min-paragraphs must be at least 2, got {minParagraphs}");
        var input = args.Required(Input);
        var output = args.Required(Output);
        int documents = 0, turns = 0;
        var dialogues = PretrainingReader.ReadDocuments(input, args.String(TextField) ?? "text")
            .SelectMany(doc => { documents++; return GopherDialogueMiner.Mine(doc, minParagraphs); })
            .Select(dialogue => { turns += dialogue.Turns.Count; return JsonlWriter.ToJson(dialogue.ToDemonstration()); });
        int count = JsonlWriter.Write(output, dialogues);
        Console.Error.WriteLine($"{count} dialogue{(count == 1 ? "" : "s")} ({turns} turns) from {documents} document{(documents == 1 ? "" : "s")} written to {output}");
        return 0;
    }
}
