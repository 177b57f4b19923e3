using RlhfSharp.Configuration;

namespace RlhfSharp.Cli.CommandLine;

/// <summary>
/// The CLI side of a config schema: one option per setting (<c>kl_coef</c> becomes <c>--kl-coef</c>), its help and
/// default from the declaration, and the parsed values applied to the config record. Nothing here is declared twice.
/// </summary>
public static class SchemaOptions
{
    public static IReadOnlyList<CliOption> For<TConfig>(ConfigSchema<TConfig> schema)
    {
        var defaults = schema.Defaults;
        return schema.Settings.Select(setting => new CliOption(setting.OptionName, setting.IsSwitch ? null : setting.ValueName, setting.Help)
        {
            Default = setting.Format(defaults) + (setting.Source is null ? "" : $" ({setting.Source})"),
            Negatable = setting.IsSwitch,
        }).ToList();
    }

    /// <summary><paramref name="config"/> with every given option of the schema applied; a bad value names the option.</summary>
    public static TConfig Apply<TConfig>(ConfigSchema<TConfig> schema, TConfig config, ParsedArgs args)
    {
        foreach (var setting in schema.Settings)
        {
            if (args.String(setting.OptionName) is not { } text) continue;
            try { config = setting.WithText(config, schema.Section, text); }
            catch (ConfigError e) { throw new UsageError($"{setting.OptionName} {e.Problem}"); }
        }
        try { return schema.Validate(config); }
        catch (ConfigError e) { throw new UsageError($"--{e.Key.Replace('_', '-')} {e.Problem}"); }
    }
}
