using System.Text;
using System.Text.Json.Nodes;

namespace RlhfSharp.Configuration;

/// <summary>
/// Every setting of one config record (<see cref="Setting{TConfig}"/>) plus the rules that span several settings.
/// One schema per phase config; the CLI builds its options from it, the recipe reader its keys, and docs/pipeline.md
/// its tables (<see cref="MarkdownTable"/>, checked by a test).
/// </summary>
public sealed class ConfigSchema<TConfig>(string section, Func<TConfig> defaults, IReadOnlyList<Setting<TConfig>> settings,
    IReadOnlyList<(string Key, Func<TConfig, string?> Problem)>? crossRules = null)
{
    /// <summary>The config's name in errors and recipes ("sft", "ppo").</summary>
    public string Section { get; } = section;
    /// <summary>The settings in declaration order (the order of help and docs); keys are unique.</summary>
    public IReadOnlyList<Setting<TConfig>> Settings { get; } = CheckUnique(settings);
    /// <summary>A fresh default instance of the config record.</summary>
    public TConfig Defaults => defaults();

    /// <summary>The setting with this snake_case key, or null.</summary>
    public Setting<TConfig>? Find(string key) => Settings.FirstOrDefault(s => s.Key == key);

    /// <summary>Throws a <see cref="ConfigError"/> naming the first key whose value breaks its rule.</summary>
    public TConfig Validate(TConfig config)
    {
        foreach (var setting in Settings)
            if (setting.Problem(config) is { } problem) throw new ConfigError(Section, setting.Key, problem);
        foreach (var (key, rule) in crossRules ?? [])
            if (rule(config) is { } problem) throw new ConfigError(Section, key, problem);
        return config;
    }

    /// <summary>Applies the given keys (command-line text) to <paramref name="config"/>; unknown keys are an error.</summary>
    public TConfig WithText(TConfig config, IEnumerable<KeyValuePair<string, string>> values)
    {
        foreach (var (key, text) in values)
            config = (Find(key) ?? throw new ConfigError(Section, key, "unknown setting")).WithText(config, Section, text);
        return config;
    }

    /// <summary>Applies the keys of a recipe section that this schema declares; other keys are left to the caller.</summary>
    public TConfig WithJson(TConfig config, JsonObject section)
    {
        foreach (var (key, node) in section)
            if (Find(key) is { } setting) config = setting.WithJson(config, Section, node);
        return config;
    }

    /// <summary>The docs table: key, CLI option, default, meaning and source.</summary>
    public string MarkdownTable()
    {
        var defaultsNow = defaults();
        var text = new StringBuilder("| key | option | default | meaning (source of the default) |\n|---|---|---|---|\n");
        foreach (var s in Settings)
            text.Append($"| `{s.Key}` | `{s.OptionName}` | {s.Format(defaultsNow)} | {s.Help.Replace("|", "\\|")}" +
                        (s.Source is null ? "" : $" ({s.Source.Replace("|", "\\|")})") + " |\n");
        return text.ToString();
    }

    static IReadOnlyList<Setting<TConfig>> CheckUnique(IReadOnlyList<Setting<TConfig>> settings)
    {
        var twice = settings.GroupBy(s => s.Key).FirstOrDefault(g => g.Count() > 1);
        if (twice is not null) throw new ArgumentException($"setting '{twice.Key}' is declared twice");
        return settings;
    }
}
