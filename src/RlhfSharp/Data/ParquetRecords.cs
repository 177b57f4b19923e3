using System.Collections;
using System.Text.Json.Nodes;
using Parquet.Serialization;

namespace RlhfSharp.Data;

/// <summary>Parquet rows as JSON objects (Parquet.Net's untyped deserialiser). String, number and bool columns become
/// JSON values; list columns (e.g. <c>messages</c>) become lists and struct columns objects, so the same format readers
/// work on Parquet as on JSONL (Hugging Face data sets are often shipped as Parquet).</summary>
static class ParquetRecords
{
    public static IEnumerable<DataRecord> Read(string path)
    {
        IList<Dictionary<string, object?>> rows;
        try
        {
            using var stream = File.OpenRead(path);
            rows = Load(stream);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or NotSupportedException || e.GetType().Namespace?.StartsWith("Parquet") == true)
        {
            throw new UserError($"{path}: cannot read as Parquet: {e.Message.ReplaceLineEndings(" ")}", e);
        }
        for (int i = 0; i < rows.Count; i++)
            yield return new DataRecord(ToJson(rows[i]), new RecordLocation(path, i + 1, "row "));
    }

    static IList<Dictionary<string, object?>> Load(Stream stream)
    {
        // Sync over async is safe here: library callers have no synchronisation context to deadlock on.
        var result = ParquetSerializer.DeserializeUntypedAsync(stream).GetAwaiter().GetResult();
        return result.Data!;
    }

    static JsonNode? ToJson(object? value) => value switch
    {
        null => null,
        string s => JsonValue.Create(s),
        bool b => JsonValue.Create(b),
        byte[] bytes => JsonValue.Create(System.Text.Encoding.UTF8.GetString(bytes)),
        IDictionary d => new JsonObject(d.Keys.Cast<object>().Select(k => KeyValuePair.Create(k.ToString()!, ToJson(d[k])))),
        IEnumerable e => new JsonArray(e.Cast<object?>().Select(ToJson).ToArray()),
        DateTime or DateTimeOffset or TimeSpan or Guid => JsonValue.Create(value.ToString()),
        sbyte or byte or short or ushort or int or uint or long => JsonValue.Create(Convert.ToInt64(value, Invariant)),
        _ => JsonValue.Create(Convert.ToDouble(value, Invariant)),
    };

    static readonly System.Globalization.CultureInfo Invariant = System.Globalization.CultureInfo.InvariantCulture;
}
