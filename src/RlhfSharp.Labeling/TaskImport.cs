using System.Text.Json;

namespace RlhfSharp.Labeling;

/// <summary>
/// Reads tasks from JSONL: one <c>{"prompt": "...", "responses": ["...", ...]}</c> per line, with an
/// optional <c>id</c> (string or number) and any other fields kept as metadata. Blank lines are skipped.
/// </summary>
public static class TaskImport
{
    public const int MaxResponses = 26; // the page letters outputs A..Z

    public static IReadOnlyList<(NewTask Task, int Line)> Read(string path)
    {
        if (!File.Exists(path)) throw new UserError($"{path}: file not found");
        var tasks = new List<(NewTask, int)>();
        int lineNo = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNo++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            tasks.Add((Parse(line, $"{path}:{lineNo}"), lineNo));
        }
        return tasks;
    }

    /// <summary>Imports a file in one transaction; returns the ids added.</summary>
    public static IReadOnlyList<string> Import(LabelStore store, string path)
    {
        var tasks = Read(path);
        return store.AddTasks(tasks.Select(t => t.Task).ToList(), i => $"{path}:{tasks[i].Line}");
    }

    public static NewTask Parse(string line, string where)
    {
        JsonElement o;
        try { o = JsonDocument.Parse(line).RootElement; }
        catch (JsonException e) { throw new UserError($"{where}: not valid JSON ({e.Message})", e); }
        if (o.ValueKind != JsonValueKind.Object) throw new UserError($"{where}: expected a JSON object with prompt and responses");
        if (!o.TryGetProperty("prompt", out var p) || p.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(p.GetString()))
            throw new UserError($"{where}: \"prompt\" must be a non-empty string");
        if (!o.TryGetProperty("responses", out var rs) || rs.ValueKind != JsonValueKind.Array)
            throw new UserError($"{where}: \"responses\" must be an array of strings");
        var responses = new List<string>();
        foreach (var r in rs.EnumerateArray())
        {
            if (r.ValueKind != JsonValueKind.String) throw new UserError($"{where}: response {responses.Count} is not a string");
            responses.Add(r.GetString()!);
        }
        if (responses.Count is < 2 or > MaxResponses)
            throw new UserError($"{where}: a task needs 2 to {MaxResponses} responses to rank; found {responses.Count}");

        string? id = null;
        if (o.TryGetProperty("id", out var idEl))
        {
            id = idEl.ValueKind switch
            {
                JsonValueKind.String when idEl.GetString()!.Trim().Length > 0 => idEl.GetString()!.Trim(),
                JsonValueKind.Number => idEl.GetRawText(),
                _ => throw new UserError($"{where}: \"id\" must be a non-empty string or a number"),
            };
        }
        var meta = o.EnumerateObject().Where(m => m.Name is not ("prompt" or "responses" or "id")).ToList();
        string? metadata = meta.Count == 0 ? null
            : JsonSerializer.Serialize(meta.ToDictionary(m => m.Name, m => m.Value));
        return new NewTask(id, p.GetString()!, responses, metadata);
    }
}
