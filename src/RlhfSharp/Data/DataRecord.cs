using System.Text.Json.Nodes;

namespace RlhfSharp.Data;

/// <summary>One record of a data file as a JSON value (usually an object: a field map), with where it came from.
/// JSONL, JSON arrays, Parquet rows and text files all become these, so every format reader works on one shape.</summary>
public sealed record DataRecord(JsonNode? Value, RecordLocation Where)
{
    /// <summary>The record as a field map, or a user error naming the location.</summary>
    public JsonObject Object => Value as JsonObject
        ?? throw Where.Error($"expected a JSON object, got {Describe(Value)}");

    /// <summary>Whether the record is an object with a non-null <paramref name="field"/>.</summary>
    public bool Has(string field) => Value is JsonObject o && o[field] is not null;

    /// <summary>A string field; missing or not a string is a user error naming the location and field.</summary>
    public string RequireString(string field) => StringOf(Object, field, Where, field);

    /// <summary>A string field, or null when absent or null; any other type is a user error.</summary>
    public string? OptionalString(string field) =>
        Object[field] is null ? null : StringOf(Object, field, Where, field);

    /// <summary>A list field; missing or not a list is a user error naming the location and field.</summary>
    public JsonArray RequireArray(string field) => Object[field] switch
    {
        JsonArray a => a,
        null => throw Where.Error($"missing field \"{field}\""),
        var other => throw Where.Error($"field \"{field}\" must be a list, got {Describe(other)}"),
    };

    /// <summary>A list field whose items are all strings (e.g. a ranking's responses); a non-string item is a user error
    /// naming its index.</summary>
    public List<string> RequireStrings(string field)
    {
        var items = RequireArray(field);
        var strings = new List<string>(items.Count);
        for (int i = 0; i < items.Count; i++)
            strings.Add(items[i] is JsonValue value && value.TryGetValue(out string? text) ? text
                : throw Where.Error($"\"{field}[{i}]\" must be a string, got {Describe(items[i])}"));
        return strings;
    }

    /// <summary>The fields of the record other than <paramref name="known"/>, kept as metadata (cloned, so they can be written again).</summary>
    public IReadOnlyDictionary<string, JsonNode?> Extras(params string[] known) =>
        Object.Where(kv => !known.Contains(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value?.DeepClone());

    /// <summary>A string field of <paramref name="fields"/>; <paramref name="label"/> names it in errors (e.g. <c>messages[2].content</c>).</summary>
    internal static string StringOf(JsonObject fields, string field, RecordLocation where, string label) => fields[field] switch
    {
        JsonValue v when v.TryGetValue(out string? s) => s,
        null => throw where.Error($"missing field \"{label}\""),
        var other => throw where.Error($"field \"{label}\" must be a string, got {Describe(other)}"),
    };

    internal static string Describe(JsonNode? node) => node switch
    {
        null => "null",
        JsonObject => "an object",
        JsonArray => "a list",
        JsonValue v => v.GetValueKind().ToString().ToLowerInvariant(),
        _ => node.GetType().Name,
    };
}
