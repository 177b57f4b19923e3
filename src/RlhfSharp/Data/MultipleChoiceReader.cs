using System.Text.Json.Nodes;

namespace RlhfSharp.Data;

/// <summary>
/// One multiple-choice question in TruthfulQA's two settings (Lin, Hilton and Evans 2022, "TruthfulQA: Measuring How
/// Models Mimic Human Falsehoods", section 3 and appendix; the layout of its <c>mc_task.json</c>):
/// MC1 picks <see cref="Mc1Best"/> among it and <see cref="Mc1Incorrect"/>; MC2 weighs <see cref="Mc2True"/> against
/// <see cref="Mc2False"/>. Every list is non-empty and free of exact repeats.
/// </summary>
public sealed record MultipleChoiceQuestion(
    string Question, string Mc1Best, IReadOnlyList<string> Mc1Incorrect, IReadOnlyList<string> Mc2True, IReadOnlyList<string> Mc2False)
{
    /// <summary>Where the question was read (file, and line or item), for messages; null when it did not come from a file.</summary>
    public RecordLocation? Where { get; init; }

    /// <summary>Every distinct answer text of the question, each scored once.</summary>
    public IReadOnlyList<string> AllAnswers() =>
        new[] { Mc1Best }.Concat(Mc1Incorrect).Concat(Mc2True).Concat(Mc2False).Distinct(StringComparer.Ordinal).ToList();
}

/// <summary>
/// Reads multiple-choice questions from
/// <list type="bullet">
/// <item>TruthfulQA's CSV as published (<c>.csv</c>): columns read by name, <c>Question</c>, <c>Best Answer</c>,
/// <c>Correct Answers</c>, <c>Incorrect Answers</c>; other columns (<c>Type</c>, <c>Best Incorrect Answer</c>, ...) are
/// ignored. Each answer list is split on <c>;</c>, items trimmed, empty items dropped and exact repeats removed. MC1's
/// best answer is <c>Best Answer</c> and its rivals <c>Incorrect Answers</c>; MC2's true set is <c>Correct Answers</c>
/// (plus <c>Best Answer</c> should the list omit it, which the published file never does) and its false set
/// <c>Incorrect Answers</c>.</item>
/// <item>JSONL (or a JSON array), one record per question as in TruthfulQA's <c>mc_task.json</c>:
/// <c>{"question", "mc1_targets": {answer: 0|1}, "mc2_targets": {answer: 0|1}}</c>; exactly one MC1 answer is marked 1.</item>
/// </list>
/// An empty question or answer list, or a malformed row or line, is a <see cref="UserError"/> naming the file and line.
/// </summary>
public static class MultipleChoiceReader
{
    /// <summary>The columns of TruthfulQA's CSV that <see cref="Read"/> requires, by their published names.</summary>
    public const string QuestionColumn = "Question", BestColumn = "Best Answer", CorrectColumn = "Correct Answers", IncorrectColumn = "Incorrect Answers";

    /// <summary>
    /// The questions of <paramref name="path"/>, in file order: TruthfulQA's CSV when the name ends in <c>.csv</c> (or
    /// <c>.csv.gz</c>), else JSONL or a JSON array read by <see cref="RecordSource"/>. A file without questions is a
    /// <see cref="UserError"/>.
    /// </summary>
    public static IReadOnlyList<MultipleChoiceQuestion> Read(string path)
    {
        var name = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? path[..^3] : path;
        var questions = Path.GetExtension(name).Equals(".csv", StringComparison.OrdinalIgnoreCase)
            ? CsvRecords.Read(path, [QuestionColumn, BestColumn, CorrectColumn, IncorrectColumn]).Select(FromCsv).ToList()
            : RecordSource.Read(path).Select(FromRecord).ToList();
        if (questions.Count == 0) throw new UserError($"{path}: no questions");
        return questions;
    }

    /// <summary>An answer list as TruthfulQA's CSV writes it: split on ';', trimmed, empty items dropped, repeats removed.</summary>
    public static List<string> SplitAnswers(string list) =>
        list.Split(';').Select(a => a.Trim()).Where(a => a.Length > 0).Distinct(StringComparer.Ordinal).ToList();

    static MultipleChoiceQuestion FromCsv(CsvRow row)
    {
        var question = row[QuestionColumn].Trim();
        if (question.Length == 0) throw row.Where.Error($"\"{QuestionColumn}\" is empty");
        var best = row[BestColumn].Trim();
        if (best.Length == 0) throw row.Where.Error($"\"{BestColumn}\" is empty");
        var correct = NonEmpty(SplitAnswers(row[CorrectColumn]), CorrectColumn, row.Where);
        var incorrect = NonEmpty(SplitAnswers(row[IncorrectColumn]), IncorrectColumn, row.Where);
        var mc2True = correct.Contains(best) ? correct : [best, .. correct];
        return new MultipleChoiceQuestion(question, best, incorrect, mc2True, incorrect) { Where = row.Where };
    }

    static MultipleChoiceQuestion FromRecord(DataRecord record)
    {
        var question = record.RequireString("question").Trim();
        if (question.Length == 0) throw record.Where.Error("\"question\" is empty");
        var (mc1True, mc1False) = Targets(record, "mc1_targets");
        if (mc1True.Count != 1)
            throw record.Where.Error($"\"mc1_targets\" must mark exactly one answer 1 (the best answer), it marks {mc1True.Count}");
        NonEmpty(mc1False, "mc1_targets (answers marked 0)", record.Where);
        var (mc2True, mc2False) = Targets(record, "mc2_targets");
        NonEmpty(mc2True, "mc2_targets (answers marked 1)", record.Where);
        NonEmpty(mc2False, "mc2_targets (answers marked 0)", record.Where);
        return new MultipleChoiceQuestion(question, mc1True[0], mc1False, mc2True, mc2False) { Where = record.Where };
    }

    /// <summary>The answers of a <c>{answer: 0|1}</c> map split into those marked 1 and those marked 0, in file order.</summary>
    static (List<string> True, List<string> False) Targets(DataRecord record, string field)
    {
        if (record.Object[field] is not JsonObject map)
            throw record.Where.Error(record.Has(field) ? $"\"{field}\" must be an object {{answer: 0 or 1}}" : $"missing field \"{field}\"");
        var (yes, no) = (new List<string>(), new List<string>());
        foreach (var (answer, value) in map)
        {
            int label = value is JsonValue v && v.TryGetValue(out int i) ? i
                : value is JsonValue b && b.TryGetValue(out bool flag) ? (flag ? 1 : 0) : -1;
            if (label is not (0 or 1)) throw record.Where.Error($"\"{field}\" must map each answer to 0 or 1; \"{answer}\" maps to {value?.ToJsonString() ?? "null"}");
            var text = answer.Trim();
            if (text.Length == 0) throw record.Where.Error($"\"{field}\" holds an empty answer");
            var list = label == 1 ? yes : no;
            if (!list.Contains(text)) list.Add(text);
        }
        if (yes.Count == 0 && no.Count == 0) throw record.Where.Error($"\"{field}\" is an empty answer list");
        return (yes, no);
    }

    static List<string> NonEmpty(List<string> answers, string what, RecordLocation where) =>
        answers.Count > 0 ? answers : throw where.Error($"\"{what}\" is an empty answer list");
}
