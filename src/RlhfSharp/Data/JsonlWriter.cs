using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace RlhfSharp.Data;

/// <summary>Writes records as JSONL in the layouts the readers accept, metadata fields at top level beside the core
/// fields (core fields win a name clash), so a written file reads back to the same records.</summary>
public static class JsonlWriter
{
    // Keep non-ASCII text readable in the file, as Python's json.dumps(ensure_ascii=False) would.
    static readonly JsonSerializerOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary><c>{"messages": [{"role", "content"}...], ...metadata}</c></summary>
    public static JsonObject ToJson(Demonstration demonstration)
    {
        var o = new JsonObject
        {
            ["messages"] = new JsonArray(demonstration.Messages.Select(t => (JsonNode)new JsonObject { ["role"] = t.RoleName, ["content"] = t.Content }).ToArray()),
        };
        return AddMetadata(o, demonstration.Metadata);
    }

    /// <summary><c>{"prompt", "chosen", "rejected", ...metadata}</c></summary>
    public static JsonObject ToJson(Comparison comparison) =>
        AddMetadata(new JsonObject { ["prompt"] = comparison.Prompt, ["chosen"] = comparison.Chosen, ["rejected"] = comparison.Rejected }, comparison.Metadata);

    /// <summary>One record as its JSONL line, without the newline.</summary>
    public static string ToLine(JsonObject record) => record.ToJsonString(Options);

    /// <summary>Writes one line per record ("\n" endings); returns the number written.</summary>
    public static int Write(TextWriter writer, IEnumerable<JsonObject> records)
    {
        int count = 0;
        foreach (var record in records) { writer.Write(ToLine(record)); writer.Write('\n'); count++; }
        return count;
    }

    /// <summary>Writes (overwrites) <paramref name="path"/> as UTF-8 without BOM, creating its folder; returns the number of records.</summary>
    public static int Write(string path, IEnumerable<JsonObject> records)
    {
        if (Path.GetDirectoryName(Path.GetFullPath(path)) is { } dir) Directory.CreateDirectory(dir);
        using var writer = new StreamWriter(path, append: false, new System.Text.UTF8Encoding(false));
        return Write(writer, records);
    }

    /// <summary>Writes demonstrations as <c>messages</c> records; returns the count.</summary>
    public static int WriteDemonstrations(string path, IEnumerable<Demonstration> items) => Write(path, items.Select(ToJson));
    /// <summary>Writes comparisons as prompt/chosen/rejected records; returns the count.</summary>
    public static int WriteComparisons(string path, IEnumerable<Comparison> items) => Write(path, items.Select(ToJson));

    static JsonObject AddMetadata(JsonObject record, IReadOnlyDictionary<string, JsonNode?> metadata)
    {
        foreach (var (k, v) in metadata)
            if (!record.ContainsKey(k)) record[k] = v?.DeepClone();
        return record;
    }
}
