using System.Text.Json.Nodes;

namespace RlhfSharp.Configuration;

/// <summary>
/// One hyperparameter of a config record, declared once: its key, help, the source of its default and its rule.
/// The CLI option (<c>--kl-coef</c>), the recipe key (<c>kl_coef</c>), validation and the docs table all come from it;
/// the default value itself is the record's initialiser, read from a default instance.
/// </summary>
public abstract class Setting<TConfig>
{
    /// <summary>Checks that <paramref name="key"/> is snake_case (a-z, 0-9, _).</summary>
    protected Setting(string key, string help, string? source, string valueName)
    {
        if (key.Length == 0 || key.Any(c => !(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_')))
            throw new ArgumentException($"setting keys are snake_case: '{key}'");
        (Key, Help, Source, ValueName) = (key, help, source, valueName);
    }

    /// <summary>snake_case name: the recipe key and the key errors name.</summary>
    public string Key { get; }
    /// <summary>What the setting does, one or two sentences.</summary>
    public string Help { get; }
    /// <summary>Where the default comes from (paper, library), or null when it is this project's own choice.</summary>
    public string? Source { get; }
    /// <summary>Placeholder in help: N, LR, BETA.</summary>
    public string ValueName { get; }
    /// <summary>The CLI spelling: <c>--</c> and the key in kebab-case.</summary>
    public string OptionName => "--" + Key.Replace('_', '-');
    /// <summary>A boolean: on the command line <c>--key</c> alone sets it and <c>--no-key</c> clears it.</summary>
    public abstract bool IsSwitch { get; }

    /// <summary>The current value of <paramref name="config"/>, as help and docs print it.</summary>
    public abstract string Format(TConfig config);
    /// <summary>A copy of <paramref name="config"/> with this setting parsed from command-line text.</summary>
    public abstract TConfig WithText(TConfig config, string section, string text);
    /// <summary>A copy of <paramref name="config"/> with this setting read from a recipe's JSON value.</summary>
    public abstract TConfig WithJson(TConfig config, string section, JsonNode? node);
    /// <summary>Null when the value in <paramref name="config"/> keeps the rule, else what is wrong.</summary>
    public abstract string? Problem(TConfig config);
}

/// <summary>A typed setting: how to read and write it on the record, and its rule.</summary>
public sealed class Setting<TConfig, TValue>(
    string key, string help, string? source, string valueName,
    Func<TConfig, TValue> get, Func<TConfig, TValue, TConfig> set, Func<TValue, string?>? rule = null)
    : Setting<TConfig>(key, help, source, valueName)
{
    /// <inheritdoc/>
    public override bool IsSwitch => typeof(TValue) == typeof(bool);

    /// <summary>The typed value in <paramref name="config"/>.</summary>
    public TValue Get(TConfig config) => get(config);

    /// <inheritdoc/>
    public override string Format(TConfig config) => SettingValue.Format(get(config));

    /// <inheritdoc/>
    public override TConfig WithText(TConfig config, string section, string text) =>
        SettingValue.TryParse<TValue>(text, out var value) ? set(config, value)
            : throw new ConfigError(section, Key, $"must be {SettingValue.Describe(typeof(TValue))}, got '{text}'");

    /// <inheritdoc/>
    public override TConfig WithJson(TConfig config, string section, JsonNode? node) =>
        SettingValue.TryRead<TValue>(node, out var value) ? set(config, value)
            : throw new ConfigError(section, Key, $"must be {SettingValue.Describe(typeof(TValue))}, got {node?.ToJsonString() ?? "null"}");

    /// <inheritdoc/>
    public override string? Problem(TConfig config) => rule?.Invoke(get(config));
}
