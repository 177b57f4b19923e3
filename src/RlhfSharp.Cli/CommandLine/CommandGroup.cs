namespace RlhfSharp.Cli.CommandLine;

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
