using RlhfSharp.Cli.CommandLine;
using RlhfSharp.Labeling;

namespace RlhfSharp.Cli.Commands;

/// <summary><c>rlhf label add-labeler</c>: prints the new labeler's token once; the store keeps only its hash.</summary>
public sealed class LabelAddLabelerCommand : CliCommand
{
    static readonly CliOption Name = new CliOption("--name", "NAME", "The labeler's name, unique in the store; it appears in exports and stats.") { Required = true };
    static readonly CliOption Admin = CliOption.Switch("--admin", "May read stats and export over HTTP.");

    public override string Description => "Add a labeler and print their token (once).";
    public override IReadOnlyList<CliOption> Options => [SharedOptions.Db, Name, Admin];

    public override int Execute(ParsedArgs args, CancellationToken cancellation)
    {
        var name = args.Required(Name);
        bool admin = args.Switch(Admin);
        var token = LabelStore.Open(args.Required(SharedOptions.Db)).AddLabeler(name, admin);
        Console.Error.WriteLine($"added {(admin ? "admin " : "")}labeler '{name}'. The token below is shown only this once:");
        Console.WriteLine(token);
        return 0;
    }
}
