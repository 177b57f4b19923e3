namespace RlhfSharp.Cli.CommandLine;

/// <summary>
/// One command-line option: its spelling, the placeholder of its value (null for a switch), and its help. A switch
/// takes no value (<c>--json</c>); a negatable one also reads <c>--no-name</c> and an explicit <c>true</c>/<c>false</c>.
/// </summary>
public sealed record CliOption(string Name, string? ValueName, string Help)
{
    /// <summary>A short spelling (<c>-k</c>).</summary>
    public string? Alias { get; init; }
    /// <summary>Help adds "Required."; <see cref="ParsedArgs.Required"/> names the option when it is missing.</summary>
    public bool Required { get; init; }
    /// <summary>The default as help prints it, with its source; null when help says it in <see cref="Help"/>.</summary>
    public string? Default { get; init; }
    /// <summary>A switch that also accepts <c>--no-name</c> (a boolean setting that defaults to true).</summary>
    public bool Negatable { get; init; }

    public bool IsSwitch => ValueName is null;

    public static CliOption Value(string name, string valueName, string help) => new(name, valueName, help);
    public static CliOption Switch(string name, string help) => new(name, null, help);
}
