using System.IO.Compression;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace RlhfSharp.Data;

/// <summary>
/// Reads the records of a data file, whatever its storage:
/// <list type="bullet">
/// <item>JSONL (<c>.jsonl</c>, <c>.ndjson</c>, or <c>.json</c> not starting with '['): one JSON value per line;
/// blank lines are skipped; a malformed line is a <see cref="UserError"/> "path:line: ...".</item>
/// <item>JSON array (<c>.json</c> starting with '[', as Alpaca ships): one record per element.</item>
/// <item>Parquet (<c>.parquet</c>): one record per row; list and struct columns become JSON lists and objects.</item>
/// <item>Text (<c>.txt</c>, <c>.text</c>, <c>.md</c>): the whole file is one record <c>{"text": ...}</c>.</item>
/// </list>
/// Any of these may be gzipped (<c>.gz</c> after the extension). Records are produced lazily, in file order.
/// </summary>
public static class RecordSource
{
    /// <summary>The records of <paramref name="path"/>, lazily and in file order; <see cref="RecordFileType.Auto"/> detects the storage (<see cref="Detect"/>). A missing file is a user error.</summary>
    public static IEnumerable<DataRecord> Read(string path, RecordFileType type = RecordFileType.Auto)
    {
        if (!File.Exists(path)) throw new UserError($"{path}: file not found");
        if (type == RecordFileType.Auto) type = Detect(path);
        return type switch
        {
            RecordFileType.Jsonl => ReadJsonl(path),
            RecordFileType.JsonArray => ReadJsonArray(path),
            RecordFileType.Parquet => ParquetRecords.Read(path),
            _ => ReadText(path),
        };
    }

    /// <summary>The storage of <paramref name="path"/> from its extension (and, for .json, its first character).</summary>
    public static RecordFileType Detect(string path)
    {
        var name = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? path[..^3] : path;
        return Path.GetExtension(name).ToLowerInvariant() switch
        {
            ".jsonl" or ".ndjson" => RecordFileType.Jsonl,
            ".json" => FirstChar(path) == '[' ? RecordFileType.JsonArray : RecordFileType.Jsonl,
            ".parquet" => RecordFileType.Parquet,
            ".txt" or ".text" or ".md" => RecordFileType.Text,
            var ext => throw new UserError($"{path}: unknown data file type '{ext}' (expected .jsonl, .json, .parquet or .txt)"),
        };
    }

    /// <summary>Opens a (possibly gzipped) text file for reading; a BOM is honoured.</summary>
    public static StreamReader OpenText(string path)
    {
        Stream s = File.OpenRead(path);
        if (path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)) s = new GZipStream(s, CompressionMode.Decompress);
        return new StreamReader(s, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
    }

    /// <summary>The non-blank lines of a text file with their 1-based line numbers (for one-item-per-line files).</summary>
    public static IEnumerable<(string Line, RecordLocation Where)> ReadLines(string path)
    {
        if (!File.Exists(path)) throw new UserError($"{path}: file not found");
        using var reader = OpenText(path);
        long n = 0;
        for (var line = reader.ReadLine(); line is not null; line = reader.ReadLine())
        {
            n++;
            if (!string.IsNullOrWhiteSpace(line)) yield return (line, new RecordLocation(path, n));
        }
    }

    static IEnumerable<DataRecord> ReadJsonl(string path)
    {
        foreach (var (line, where) in ReadLines(path))
        {
            JsonNode? node;
            try { node = JsonNode.Parse(line); }
            catch (JsonException e) { throw where.Error($"malformed JSON: {Brief(e)}"); }
            yield return new DataRecord(node, where);
        }
    }

    static IEnumerable<DataRecord> ReadJsonArray(string path)
    {
        JsonNode? root;
        using (var reader = OpenText(path))
        {
            try { root = JsonNode.Parse(reader.ReadToEnd()); }
            catch (JsonException e) { throw new UserError($"{path}:{(e.LineNumber ?? 0) + 1}: malformed JSON: {Brief(e)}"); }
        }
        if (root is not JsonArray items) throw new UserError($"{path}: expected a JSON array of records");
        for (int i = 0; i < items.Count; i++)
            yield return new DataRecord(items[i]?.DeepClone(), new RecordLocation(path, i + 1, "item "));
    }

    static IEnumerable<DataRecord> ReadText(string path)
    {
        using var reader = OpenText(path);
        yield return new DataRecord(new JsonObject { ["text"] = reader.ReadToEnd() }, new RecordLocation(path, 1));
    }

    static char FirstChar(string path)
    {
        using var reader = OpenText(path);
        int c;
        while ((c = reader.Read()) >= 0 && char.IsWhiteSpace((char)c)) { }
        return c < 0 ? '\0' : (char)c;
    }

    // System.Text.Json messages end with "Path: $ | LineNumber: 0 | BytePositionInLine: 7."; keep the first sentence
    // and the column, so the error stays one readable line.
    static string Brief(JsonException e)
    {
        var m = e.Message.Split(" Path: ", 2)[0].Split(" LineNumber: ", 2)[0].ReplaceLineEndings(" ").Trim();
        return e.BytePositionInLine is long col ? $"{m} (column {col + 1})" : m;
    }
}
