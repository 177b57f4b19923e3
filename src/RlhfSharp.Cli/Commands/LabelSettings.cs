using System.ComponentModel;
using Spectre.Console.Cli;

namespace RlhfSharp.Cli.Commands;

/// <summary>The option every `rlhf label` command shares: which store.</summary>
public class LabelDbSettings : CommandSettings
{
    [CommandOption("--db <FILE>", true)]
    [Description("The labeling store (a SQLite file).")]
    public string Db { get; init; } = "";
}
