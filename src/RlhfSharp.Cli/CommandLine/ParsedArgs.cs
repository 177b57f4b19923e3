using System.Globalization;
using RlhfSharp.Configuration;

namespace RlhfSharp.Cli.CommandLine;

/// <summary>
/// The options given to one command, parsed strictly against its declared options: an unknown option, a stray
/// argument, a missing value or an option given twice is a <see cref="UsageError"/> that names it.
/// </summary>
public sealed class ParsedArgs
{
    readonly Dictionary<string, string> values;

    ParsedArgs(Dictionary<string, string> values) => this.values = values;

    /// <summary>Was <paramref name="option"/> given on the command line?</summary>
    public bool Has(CliOption option) => values.ContainsKey(option.Name);

    public string? String(CliOption option) => String(option.Name);

    /// <summary>The text given for the option spelled <paramref name="name"/> (<c>--kl-coef</c>), or null.</summary>
    public string? String(string name) => values.GetValueOrDefault(name);

    public string Required(CliOption option) =>
        String(option) is { Length: > 0 } text ? text : throw new UsageError($"{option.Name} is required ({option.Help.Split(". ")[0].TrimEnd('.')})");

    public bool Switch(CliOption option) => values.TryGetValue(option.Name, out var text) && text == "true";

    public int Int(CliOption option, int fallback) => Parse(option, fallback, text => int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : null, "an integer");
    public long? Long(CliOption option) => Has(option) ? Parse<long>(option, 0, text => long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : null, "an integer") : null;
    public double Double(CliOption option, double fallback) => Parse(option, fallback, text => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : null, "a number");

    T Parse<T>(CliOption option, T fallback, Func<string, T?> parse, string what) where T : struct =>
        String(option) is not { } text ? fallback
            : parse(text) ?? throw new UsageError($"{option.Name} must be {what}, got '{text}'");

    /// <summary>Parses <paramref name="tokens"/> against <paramref name="options"/>.</summary>
    public static ParsedArgs Parse(string command, IReadOnlyList<string> tokens, IReadOnlyList<CliOption> options)
    {
        var byName = new Dictionary<string, CliOption>();
        foreach (var option in options)
        {
            byName[option.Name] = option;
            if (option.Alias is not null) byName[option.Alias] = option;
        }
        var values = new Dictionary<string, string>();
        for (int i = 0; i < tokens.Count; i++)
        {
            var token = tokens[i];
            if (!token.StartsWith('-') || token == "-")
                throw new UsageError($"rlhf {command}: unexpected argument '{token}'; every value follows its option (see rlhf {command} --help)");
            var (name, inline) = token.IndexOf('=') is int eq and > 0 ? (token[..eq], token[(eq + 1)..]) : (token, null);
            string? value;
            if (byName.TryGetValue(name, out var option))
            {
                if (option.IsSwitch)
                {
                    value = inline ?? (i + 1 < tokens.Count && tokens[i + 1] is "true" or "false" ? tokens[++i] : "true");
                    if (value is not ("true" or "false")) throw new UsageError($"{option.Name} takes no value, or true/false; got '{value}'");
                }
                else
                {
                    value = inline ?? (i + 1 < tokens.Count ? tokens[++i] : throw new UsageError($"{option.Name} needs a value ({option.ValueName})"));
                }
            }
            else if (name.StartsWith("--no-") && byName.TryGetValue("--" + name[5..], out var negated) && negated.Negatable && inline is null)
            {
                (option, value) = (negated, "false");
            }
            else
            {
                var known = options.Select(o => o.Name);
                throw new UsageError($"rlhf {command}: unknown option '{name}'{Suggestion.Hint(name, known)} (see rlhf {command} --help)");
            }
            if (!values.TryAdd(option.Name, value)) throw new UsageError($"{option.Name} is given twice");
        }
        return new ParsedArgs(values);
    }

    /// <summary>The given options that belong to <paramref name="options"/>, by name, as text.</summary>
    public IEnumerable<KeyValuePair<string, string>> Given(IEnumerable<CliOption> options) =>
        options.Where(Has).Select(o => new KeyValuePair<string, string>(o.Name, values[o.Name]));
}
