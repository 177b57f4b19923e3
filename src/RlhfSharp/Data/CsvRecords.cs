using System.Text;

namespace RlhfSharp.Data;

/// <summary>One CSV data row: its fields by header name, and the line the row starts on (a quoted field may span lines).</summary>
public sealed record CsvRow(IReadOnlyDictionary<string, string> Fields, RecordLocation Where)
{
    /// <summary>The field under <paramref name="column"/>; the reader has checked that every required column exists.</summary>
    public string this[string column] => Fields[column];
}

/// <summary>
/// Reads a comma-separated file as published by most data sets (RFC 4180): the first row names the columns; a field
/// may be quoted with <c>"</c>, a quote inside a quoted field is doubled (<c>""</c>), and a quoted field may hold commas
/// and line breaks. Blank lines are skipped. A malformed row (an unterminated quote, text after a closing quote, a field
/// count that differs from the header's, a missing required column) is a <see cref="UserError"/> "path:line: ...".
/// </summary>
public static class CsvRecords
{
    /// <summary>
    /// The data rows of <paramref name="path"/> (gzipped when it ends in <c>.gz</c>), in file order, after the header row
    /// has been checked to hold every one of <paramref name="requiredColumns"/>. A missing file, an empty file or a
    /// malformed row is a <see cref="UserError"/>, raised while the rows are enumerated.
    /// </summary>
    public static IEnumerable<CsvRow> Read(string path, IReadOnlyList<string> requiredColumns)
    {
        if (!File.Exists(path)) throw new UserError($"{path}: file not found");
        using var reader = RecordSource.OpenText(path);
        var text = reader.ReadToEnd();
        string[]? header = null;
        foreach (var (fields, line) in Rows(text, path))
        {
            var where = new RecordLocation(path, line);
            if (header is null)
            {
                header = fields.Select(f => f.Trim()).ToArray();
                var missing = requiredColumns.Where(c => !header.Contains(c)).ToList();
                if (missing.Count > 0)
                    throw where.Error($"the header lacks the column{(missing.Count > 1 ? "s" : "")} {string.Join(", ", missing.Select(m => $"\"{m}\""))} (it has {string.Join(", ", header.Select(h => $"\"{h}\""))})");
                continue;
            }
            if (fields.Count != header.Length)
                throw where.Error($"malformed CSV row: {fields.Count} field{(fields.Count == 1 ? "" : "s")}, the header has {header.Length}");
            var map = new Dictionary<string, string>(StringComparer.Ordinal);
            for (int i = 0; i < header.Length; i++) map.TryAdd(header[i], fields[i]);
            yield return new CsvRow(map, where);
        }
        if (header is null) throw new UserError($"{path}: empty CSV file (no header row)");
    }

    /// <summary>The rows of <paramref name="text"/> with the 1-based line each starts on; blank lines are skipped.</summary>
    static IEnumerable<(List<string> Fields, long Line)> Rows(string text, string path)
    {
        int i = 0;
        long line = 1;
        while (i < text.Length)
        {
            long start = line;
            if (text[i] == '\n' || (text[i] == '\r' && i + 1 < text.Length && text[i + 1] == '\n'))   // a blank line
            {
                i += text[i] == '\r' ? 2 : 1; line++;
                continue;
            }
            var fields = new List<string>();
            var field = new StringBuilder();
            bool endOfRow = false;
            while (!endOfRow)
            {
                if (i < text.Length && text[i] == '"')
                {
                    i++;
                    while (true)
                    {
                        if (i >= text.Length) throw new UserError($"{path}:{start}: malformed CSV row: a quoted field is never closed");
                        char c = text[i++];
                        if (c == '"')
                        {
                            if (i < text.Length && text[i] == '"') { field.Append('"'); i++; continue; }
                            break;
                        }
                        if (c == '\n') line++;
                        field.Append(c);
                    }
                    if (i < text.Length && text[i] is not (',' or '\n' or '\r'))
                        throw new UserError($"{path}:{line}: malformed CSV row: text after a closing quote (a quote inside a quoted field is written \"\")");
                }
                else
                {
                    while (i < text.Length && text[i] is not (',' or '\n' or '\r'))
                    {
                        if (text[i] == '"') throw new UserError($"{path}:{line}: malformed CSV row: a quote inside an unquoted field");
                        field.Append(text[i++]);
                    }
                }
                fields.Add(field.ToString());
                field.Clear();
                if (i < text.Length && text[i] == ',') { i++; continue; }
                if (i < text.Length && text[i] == '\r') i++;
                if (i < text.Length && text[i] == '\n') i++;
                line++;
                endOfRow = true;
            }
            yield return (fields, start);
        }
    }
}
