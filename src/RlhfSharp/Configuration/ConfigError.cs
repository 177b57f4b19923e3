namespace RlhfSharp.Configuration;

/// <summary>
/// A config value a user gave that breaks its rule. It names the config key (<c>kl_coef</c>), never a CLI option or a
/// recipe path: the caller that knows where the value came from (the CLI, the recipe reader) rewrites
/// <see cref="Key"/> into its own spelling, so a .NET caller, a recipe and the CLI each read an error in their terms.
/// </summary>
public sealed class ConfigError(string section, string key, string problem)
    : UserError($"{section}: {key}: {problem}")
{
    /// <summary>The config's name ("sft", "ppo").</summary>
    public string Section { get; } = section;
    /// <summary>The snake_case key of the setting (<see cref="Setting{TConfig}.Key"/>).</summary>
    public string Key { get; } = key;
    /// <summary>What is wrong, without the key ("must be >= 0, got -1").</summary>
    public string Problem { get; } = problem;
}
