namespace RlhfSharp.Configuration;

/// <summary>
/// Collects the settings of one config record, one <see cref="Add{TValue}"/> call each, so that a new option is one
/// line in one place (its value type comes from the getter).
/// </summary>
public sealed class SchemaBuilder<TConfig>(string section, Func<TConfig> defaults)
{
    readonly List<Setting<TConfig>> settings = [];
    readonly List<(string, Func<TConfig, string?>)> crossRules = [];

    /// <summary>Declares one setting.</summary>
    /// <param name="key">snake_case recipe key (the CLI option is its kebab-case).</param>
    /// <param name="valueName">placeholder in help, e.g. N, LR.</param>
    /// <param name="help">what the setting does.</param>
    /// <param name="source">where the default comes from, or null for this project's own choice.</param>
    /// <param name="get">reads the value from the record.</param>
    /// <param name="set">returns a copy of the record with the value.</param>
    /// <param name="rule">null when a value is valid, else what is wrong (see <see cref="Rules"/>).</param>
    public SchemaBuilder<TConfig> Add<TValue>(string key, string valueName, string help, string? source,
        Func<TConfig, TValue> get, Func<TConfig, TValue, TConfig> set, Func<TValue, string?>? rule = null)
    {
        settings.Add(new Setting<TConfig, TValue>(key, help, source, valueName, get, set, rule));
        return this;
    }

    /// <summary>Adds settings declared elsewhere (shared by several configs).</summary>
    public SchemaBuilder<TConfig> AddRange(IEnumerable<Setting<TConfig>> shared)
    {
        settings.AddRange(shared);
        return this;
    }

    /// <summary>A rule over several settings, reported under <paramref name="key"/>.</summary>
    public SchemaBuilder<TConfig> Rule(string key, Func<TConfig, string?> problem)
    {
        crossRules.Add((key, problem));
        return this;
    }

    /// <summary>The schema; throws when a key is declared twice.</summary>
    public ConfigSchema<TConfig> Build() => new(section, defaults, settings, crossRules);
}
