namespace RlhfSharp.Data;

/// <summary>A question with its accepted answers; no answers means the question cannot be known and the right reply abstains.</summary>
public sealed record QaItem(string Question, IReadOnlyList<string> Answers, RecordLocation Where)
{
    /// <summary>Whether the question has at least one accepted answer; false means the right reply abstains.</summary>
    public bool Known => Answers.Count > 0;
}

/// <summary>
/// Reads <c>{"question": "...", "answers": ["...", ...]}</c> records (JSONL, JSON array or Parquet). <c>"answers": []</c>
/// marks a question the model cannot know. A missing or non-list <c>answers</c>, a non-string or blank answer, or an empty
/// question is a <see cref="UserError"/> naming the file and line.
/// </summary>
public static class QaReader
{
    /// <summary>
    /// The questions of <paramref name="path"/>, in file order, question and answers trimmed and exact repeats among a
    /// question's answers removed. A file without questions is a <see cref="UserError"/>.
    /// </summary>
    public static IReadOnlyList<QaItem> Read(string path)
    {
        var items = RecordSource.Read(path).Select(FromRecord).ToList();
        if (items.Count == 0) throw new UserError($"{path}: no questions");
        return items;
    }

    static QaItem FromRecord(DataRecord record)
    {
        var question = record.RequireString("question").Trim();
        if (question.Length == 0) throw record.Where.Error("\"question\" is empty");
        var answers = record.RequireStrings("answers").Select(a => a.Trim()).ToList();
        if (answers.Any(a => a.Length == 0)) throw record.Where.Error("\"answers\" holds a blank answer");
        return new QaItem(question, answers.Distinct(StringComparer.Ordinal).ToList(), record.Where);
    }
}
