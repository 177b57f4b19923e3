using System.Text.Json.Nodes;
using RlhfSharp.Data;

namespace RlhfSharp.Labeling;

/// <summary>
/// Reads tasks with Data's record reader (JSONL, JSON array or Parquet; see <see cref="RecordSource"/>): one
/// <c>{"prompt": "...", "responses": ["...", ...]}</c> per record, with an optional <c>id</c> (string or number) and any
/// other fields kept as metadata. Blank lines are skipped; errors name the file and line.
/// </summary>
public static class TaskImport
{
    public const int MaxResponses = 26; // the page letters outputs A..Z

    public static IReadOnlyList<(NewTask Task, RecordLocation Where)> Read(string path) =>
        RecordSource.Read(path).Select(record => (FromRecord(record), record.Where)).ToList();

    /// <summary>Imports a file in one transaction; returns the ids added.</summary>
    public static IReadOnlyList<string> Import(LabelStore store, string path)
    {
        var tasks = Read(path);
        return store.AddTasks(tasks.Select(entry => entry.Task).ToList(), index => tasks[index].Where.ToString());
    }

    /// <summary>One task record; a record that is not one is a user error naming its location.</summary>
    public static NewTask FromRecord(DataRecord record)
    {
        var prompt = record.RequireString("prompt");
        if (string.IsNullOrWhiteSpace(prompt)) throw record.Where.Error("\"prompt\" must be a non-empty string");
        var responses = record.RequireStrings("responses");
        if (responses.Count is < 2 or > MaxResponses)
            throw record.Where.Error($"a task needs 2 to {MaxResponses} responses to rank; found {responses.Count}");

        // An "id" that is present must be usable (null included): a silently derived id would hide a broken export.
        string? id = !record.Object.ContainsKey("id") ? null : record.Object["id"] switch
        {
            JsonValue text when text.TryGetValue(out string? value) && value.Trim().Length > 0 => value.Trim(),
            JsonValue number when number.GetValueKind() == System.Text.Json.JsonValueKind.Number => number.ToJsonString(),
            _ => throw record.Where.Error("\"id\" must be a non-empty string or a number"),
        };
        var extras = record.Extras("prompt", "responses", "id");
        string? metadata = extras.Count == 0 ? null : new JsonObject(extras).ToJsonString();
        return new NewTask(id, prompt, responses, metadata);
    }
}
