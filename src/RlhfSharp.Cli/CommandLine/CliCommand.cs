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

/// <summary>A group of commands (<c>rlhf label ...</c>) or the root.</summary>
public sealed class CommandGroup(string description)
{
    public string Description { get; } = description;
    public SortedDictionary<string, object> Children { get; } = new(StringComparer.Ordinal);

    public CommandGroup Add(string name, CliCommand command) { Children.Add(name, command); return this; }
    public CommandGroup Add(string name, CommandGroup group) { Children.Add(name, group); return this; }

    /// <summary>Every command with its full path ("label init"), for tests and docs.</summary>
    public IEnumerable<(string Path, CliCommand Command)> AllCommands(string prefix = "")
    {
        foreach (var (name, child) in Children)
        {
            var path = prefix.Length == 0 ? name : $"{prefix} {name}";
            if (child is CliCommand command) yield return (path, command);
            else foreach (var nested in ((CommandGroup)child).AllCommands(path)) yield return nested;
        }
    }
}
