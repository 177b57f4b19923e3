namespace RlhfSharp.Cli.CommandLine;

/// <summary>
/// One `rlhf` command: its options and what it does with them. Commands only parse, call the library's entry and print;
/// one command per file under Commands/.
/// </summary>
public abstract class CliCommand
{
    /// <summary>One line for the command list and the top of --help.</summary>
    public abstract string Description { get; }

    /// <summary>Every option the command accepts; anything else on its command line is an error.</summary>
    public abstract IReadOnlyList<CliOption> Options { get; }

    /// <summary>Runs with the parsed options; returns the exit code.</summary>
    public abstract int Execute(ParsedArgs args, CancellationToken cancellation);

    /// <summary>Maps a config key the library names in an error to this command's option, when it has one.</summary>
    public virtual string? OptionFor(string configKey) =>
        Options.FirstOrDefault(o => o.Name == "--" + configKey.Replace('_', '-'))?.Name;
}
