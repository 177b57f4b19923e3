namespace RlhfSharp.Configuration;

/// <summary>
/// Collects the settings of one config record, one <see cref="Add{TValue}"/> call each, so that a new option is one
/// line in one place (its value type comes from the getter).
/// </summary>
public sealed class SchemaBuilder<TConfig>(string section, Func<TConfig> defaults)
{
    readonly List<Setting<TConfig>> settings = [];
    readonly List<(string, Func<TConfig, string?>)> crossRules = [];

    public SchemaBuilder<TConfig> Add<TValue>(string key, string valueName, string help, string? source,
        Func<TConfig, TValue> get, Func<TConfig, TValue, TConfig> set, Func<TValue, string?>? rule = null)
    {
        settings.Add(new Setting<TConfig, TValue>(key, help, source, valueName, get, set, rule));
        return this;
    }

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

    public ConfigSchema<TConfig> Build() => new(section, defaults, settings, crossRules);
}
