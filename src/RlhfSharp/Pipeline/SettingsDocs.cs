using System.Text;
using RlhfSharp.Training.CriticFree;
using RlhfSharp.Training.Dpo;
using RlhfSharp.Training.Ppo;
using RlhfSharp.Training.Pretraining;
using RlhfSharp.Training.RewardModeling;
using RlhfSharp.Training.Sft;

namespace RlhfSharp.Pipeline;

/// <summary>
/// The hyperparameter tables of docs/pipeline.md, generated from the phase schemas so the docs cannot drift from the
/// code: a test checks the file holds exactly this text between its markers.
/// </summary>
public static class SettingsDocs
{
    /// <summary>Line in docs/pipeline.md after which the generated tables start.</summary>
    public const string BeginMarker = "<!-- settings tables: generated from the schemas; a test keeps them equal -->";
    /// <summary>Line in docs/pipeline.md that ends the generated tables.</summary>
    public const string EndMarker = "<!-- end of settings tables -->";

    /// <summary>The tables of every phase schema (pretrain, sft, reward, ppo, grpo, rloo, dpo), each under its heading.</summary>
    public static string Markdown()
    {
        var text = new StringBuilder();
        void Section(string heading, string table) => text.Append($"#### `{heading}`\n\n").Append(table).Append('\n');
        Section("pretrain", PretrainConfig.Schema.MarkdownTable());
        Section("sft", SftConfig.Schema.MarkdownTable());
        Section("reward", RewardConfig.Schema.MarkdownTable());
        Section("ppo", PpoConfig.Schema.MarkdownTable());
        Section("grpo", GrpoConfig.Schema.MarkdownTable());
        Section("rloo", RlooConfig.Schema.MarkdownTable());
        Section("dpo", DpoConfig.Schema.MarkdownTable());
        return text.ToString();
    }

    /// <summary><paramref name="document"/> with the text between the markers replaced by <see cref="Markdown"/>.</summary>
    public static string ReplaceIn(string document)
    {
        int begin = document.IndexOf(BeginMarker, StringComparison.Ordinal), end = document.IndexOf(EndMarker, StringComparison.Ordinal);
        if (begin < 0 || end < begin) throw new InvalidOperationException("the document lacks the settings-table markers");
        return document[..(begin + BeginMarker.Length)] + "\n\n" + Markdown() + document[end..];
    }
}
