using System.Text;
using RlhfSharp.Cli.CommandLine;

namespace RlhfSharp.Cli.CommandLine;

/// <summary>Plain-text help for a command or a group, wrapped to the terminal (no markup is interpreted).</summary>
public static class HelpText
{
    const int Width = 110, NameColumn = 34;

    public static string ForCommand(string path, CliCommand command)
    {
        var text = new StringBuilder();
        text.AppendLine($"rlhf {path}: {command.Description}").AppendLine();
        text.AppendLine($"Usage: rlhf {path} [options]").AppendLine().AppendLine("Options:");
        foreach (var option in command.Options.Append(CliOption.Switch("--help", "Show this help.")))
        {
            var name = (option.Alias is null ? "" : option.Alias + ", ") + option.Name + (option.IsSwitch ? "" : $" <{option.ValueName}>");
            var help = option.Help + (option.Required ? " Required." : "") + (option.Default is null ? "" : $" Default: {option.Default}.");
            if (option.Negatable) help += $" {Negation(option)} turns it off.";
            AppendWrapped(text, "  " + name, help);
        }
        return text.ToString();
    }

    public static string ForGroup(string path, CommandGroup group)
    {
        var text = new StringBuilder();
        text.AppendLine(path.Length == 0 ? $"rlhf: {group.Description}" : $"rlhf {path}: {group.Description}").AppendLine();
        text.AppendLine($"Usage: rlhf {(path.Length == 0 ? "" : path + " ")}<command> [options]").AppendLine().AppendLine("Commands:");
        foreach (var (name, child) in group.Children)
            AppendWrapped(text, "  " + name, child is CliCommand command ? command.Description : ((CommandGroup)child).Description);
        text.AppendLine().AppendLine($"Run 'rlhf {(path.Length == 0 ? "" : path + " ")}<command> --help' for a command's options.");
        return text.ToString();
    }

    static string Negation(CliOption option) => "--no-" + option.Name[2..];

    static void AppendWrapped(StringBuilder text, string left, string help)
    {
        var lines = Wrap(help, Width - NameColumn).ToList();
        if (left.Length >= NameColumn - 1)
        {
            text.AppendLine(left);
            left = "";
        }
        for (int i = 0; i < lines.Count; i++)
            text.AppendLine((i == 0 ? left : "").PadRight(NameColumn) + lines[i]);
    }

    static IEnumerable<string> Wrap(string text, int width)
    {
        var line = new StringBuilder();
        foreach (var word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.Length > 0 && line.Length + 1 + word.Length > width)
            {
                yield return line.ToString();
                line.Clear();
            }
            if (line.Length > 0) line.Append(' ');
            line.Append(word);
        }
        if (line.Length > 0) yield return line.ToString();
    }
}
