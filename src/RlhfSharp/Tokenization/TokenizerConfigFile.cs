using System.Text.Json;
using System.Text.Json.Nodes;

namespace RlhfSharp.Tokenization;

/// <summary>Reads the JSON files of an HF tokenizer folder; malformed files become one-line <see cref="UserError"/>s.</summary>
internal static class TokenizerConfigFile
{
    public const string TokenizerJson = "tokenizer.json";
    public const string ConfigJson = "tokenizer_config.json";
    public const string TemplateJinja = "chat_template.jinja";

    public static JsonObject ReadObject(string path)
    {
        if (!File.Exists(path)) throw new UserError($"{path}: file not found");
        try
        {
            return JsonNode.Parse(File.ReadAllText(path)) as JsonObject
                   ?? throw new UserError($"{path}: expected a JSON object");
        }
        catch (JsonException e) { throw new UserError($"{path}: invalid JSON ({e.Message})", e); }
    }

    /// <summary>tokenizer_config.json of <paramref name="dir"/>, or null when the folder has none.</summary>
    public static JsonObject? ReadConfig(string dir)
    {
        var path = Path.Combine(dir, ConfigJson);
        return File.Exists(path) ? ReadObject(path) : null;
    }

    /// <summary>A special token as tokenizer_config.json writes it: a string, or an AddedToken object {"content": ...}.</summary>
    public static string? TokenString(JsonNode? node, string file, string key) => node switch
    {
        null => null,
        JsonValue v when v.TryGetValue(out string? s) => s,
        JsonObject o when o["content"] is JsonValue c && c.TryGetValue(out string? s) => s,
        _ => throw new UserError($"{file}: key '{key}' must be a string or an object with 'content'"),
    };

    /// <summary>The chat template and the file it came from. transformers prefers a separate
    /// chat_template.jinja over the chat_template key; the key may also hold a list of named templates,
    /// of which "default" is the one used without a name.</summary>
    public static (string? Template, string Source) ReadChatTemplate(string dir)
    {
        var jinja = Path.Combine(dir, TemplateJinja);
        if (File.Exists(jinja)) return (File.ReadAllText(jinja), jinja);
        var configPath = Path.Combine(dir, ConfigJson);
        var config = ReadConfig(dir);
        return (config?["chat_template"] switch
        {
            null => null,
            JsonValue v when v.TryGetValue(out string? s) => s,
            JsonArray list => list.OfType<JsonObject>().FirstOrDefault(t => (string?)t["name"] == "default")?["template"]?.GetValue<string>()
                              ?? throw new UserError($"{configPath}: key 'chat_template' is a list without a \"default\" template"),
            _ => throw new UserError($"{configPath}: key 'chat_template' must be a string or a list of {{name, template}}"),
        }, configPath);
    }
}
