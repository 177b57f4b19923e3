using System.Text.Json;
using System.Text.Json.Nodes;

namespace RlhfSharp.Pipeline;

/// <summary>
/// One JSON object of a recipe, read strictly: keys outside <c>allowed</c> are an error naming the dotted key
/// (<c>recipe.json: unknown key 'sft.max_stepz'</c>), a missing required field names the field, a wrong type names the
/// field and what it holds. Relative paths resolve against the recipe's folder.
/// </summary>
public sealed class RecipeSection
{
    readonly JsonObject obj;
    readonly string file, prefix, baseDir;

    /// <summary>The section's JSON object (schema settings read their keys from it).</summary>
    public JsonObject Object => obj;

    /// <summary>Wraps <paramref name="obj"/>; a key not in <paramref name="allowed"/> is a user error (with a "did you mean" hint when a known key is close).</summary>
    /// <param name="obj">the section's JSON object.</param>
    /// <param name="file">the recipe file, as errors name it.</param>
    /// <param name="prefix">the section's dotted name ("" at the top level).</param>
    /// <param name="baseDir">the folder relative paths resolve against.</param>
    /// <param name="allowed">the keys this section may hold.</param>
    public RecipeSection(JsonObject obj, string file, string prefix, string baseDir, IReadOnlyCollection<string> allowed)
    {
        (this.obj, this.file, this.prefix, this.baseDir) = (obj, file, prefix, baseDir);
        foreach (var (key, _) in obj)
            if (!allowed.Contains(key)) throw Error($"unknown key '{Name(key)}'{Configuration.Suggestion.Hint(key, allowed)}");
    }

    /// <summary>The dotted key errors name, e.g. <c>sft.max_steps</c>.</summary>
    public string Name(string key) => prefix.Length == 0 ? key : $"{prefix}.{key}";
    /// <summary>A user error "file: message".</summary>
    public UserError Error(string message) => new($"{file}: {message}");
    /// <summary>Whether the key is present and not null.</summary>
    public bool Has(string key) => obj[key] is not null;

    /// <summary>A nested object read strictly with its own <paramref name="allowed"/> keys, or null when absent.</summary>
    public RecipeSection? Section(string key, IReadOnlyCollection<string> allowed) => obj[key] switch
    {
        null => null,
        JsonObject o => new RecipeSection(o, file, Name(key), baseDir, allowed),
        var v => throw Error($"'{Name(key)}' must be an object, got {Describe(v)}"),
    };

    /// <summary>As <see cref="Section"/>, but missing is an error.</summary>
    public RecipeSection RequireSection(string key, IReadOnlyCollection<string> allowed) =>
        Section(key, allowed) ?? throw Error($"missing required field '{Name(key)}'");

    /// <summary>A string value, or null when absent; another type is an error.</summary>
    public string? String(string key) => obj[key] switch
    {
        null => null,
        JsonValue v when v.TryGetValue(out string? s) => s,
        var v => throw Error($"'{Name(key)}' must be a string, got {Describe(v)}"),
    };

    /// <summary>A non-empty string; missing or empty is an error.</summary>
    public string RequireString(string key) => String(key) is { Length: > 0 } s ? s : throw Error($"missing required field '{Name(key)}'");

    /// <summary>A path, resolved against the recipe's folder.</summary>
    public string? Path(string key) => String(key) is { } p ? System.IO.Path.GetFullPath(p, baseDir) : null;
    /// <summary>As <see cref="Path"/>, but missing is an error.</summary>
    public string RequirePath(string key) => Path(key) ?? throw Error($"missing required field '{Name(key)}'");

    /// <summary>A path that must exist (file or folder).</summary>
    public string? ExistingPath(string key)
    {
        var p = Path(key);
        if (p is not null && !File.Exists(p) && !Directory.Exists(p)) throw Error($"'{Name(key)}': {String(key)} not found");
        return p;
    }

    /// <summary>As <see cref="ExistingPath"/>, but missing is an error.</summary>
    public string RequireExistingPath(string key) => ExistingPath(key) ?? throw Error($"missing required field '{Name(key)}'");

    /// <summary>An integer value (a JSON number without a fraction), or null when absent.</summary>
    public long? Long(string key) => obj[key] switch
    {
        null => null,
        JsonValue v when v.TryGetValue(out long l) => l,
        JsonValue v when v.TryGetValue(out double d) && d == Math.Floor(d) && Math.Abs(d) < 9e15 => (long)d,
        var v => throw Error($"'{Name(key)}' must be an integer, got {Describe(v)}"),
    };

    /// <summary>As <see cref="Long"/>, within int range.</summary>
    public int? Int(string key) => Long(key) is { } l
        ? l is >= int.MinValue and <= int.MaxValue ? (int)l : throw Error($"'{Name(key)}' is out of range: {l}")
        : null;

    /// <summary>As <see cref="Long"/>, and &gt;= 0.</summary>
    public ulong? ULong(string key) => Long(key) is { } l ? l >= 0 ? (ulong)l : throw Error($"'{Name(key)}' must be >= 0, got {l}") : null;

    /// <summary>A number, or null when absent.</summary>
    public double? Double(string key) => obj[key] switch
    {
        null => null,
        JsonValue v when v.TryGetValue(out double d) => d,
        var v => throw Error($"'{Name(key)}' must be a number, got {Describe(v)}"),
    };

    /// <summary>true or false, or null when absent.</summary>
    public bool? Bool(string key) => obj[key] switch
    {
        null => null,
        JsonValue v when v.TryGetValue(out bool b) => b,
        var v => throw Error($"'{Name(key)}' must be true or false, got {Describe(v)}"),
    };

    /// <summary>The section's JSON text (for the completion marker, to notice a changed recipe).</summary>
    public string Json => obj.ToJsonString();

    static string Describe(JsonNode? v) => v switch
    {
        JsonObject => "an object",
        JsonArray => "an array",
        _ => v!.ToJsonString(),
    };

    /// <summary>Parses the recipe file's top-level object (comments and trailing commas allowed).</summary>
    public static JsonObject ParseFile(string path)
    {
        if (!File.Exists(path)) throw new UserError($"{path}: recipe file not found");
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(File.ReadAllText(path), documentOptions: new JsonDocumentOptions
            {
                CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true,
            });
        }
        catch (JsonException e) { throw new UserError($"{path}: not valid JSON ({e.Message.Split('\n')[0]})"); }
        return node as JsonObject ?? throw new UserError($"{path}: the recipe must be a JSON object");
    }
}
