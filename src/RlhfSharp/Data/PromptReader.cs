using System.Text.Json.Nodes;

namespace RlhfSharp.Data;

/// <summary>A prompt for RL (PPO) rollouts. <see cref="Text"/> is what a plain language model continues; when the source
/// was a conversation (<c>messages</c>), it is the HH transcript ending in "\n\nAssistant:" and <see cref="Messages"/>
/// holds the turns for trainers that apply a chat template.</summary>
public sealed record Prompt(string Text)
{
    /// <summary>The prompt as turns when the source was a conversation; null otherwise.</summary>
    public IReadOnlyList<ChatTurn>? Messages { get; init; }
    /// <summary>The reference answer of a record's optional <c>answer</c> field (a string, or a number kept as written),
    /// which verifiable rewards (GRPO/RLOO <c>reward_fn</c>) compare responses with; null when absent.</summary>
    public string? Answer { get; init; }
    /// <summary>The record's other fields, kept as they were.</summary>
    public IReadOnlyDictionary<string, JsonNode?> Metadata { get; init; } = Demonstration.Empty;
    /// <summary>"path:line" of the record or line this came from.</summary>
    public string? Source { get; init; }
}

/// <summary>
/// Reads PPO prompts: a text file (<c>.txt</c>) with one prompt per non-blank line, or records (JSONL, JSON, Parquet)
/// that are <c>{"prompt": "..."}</c>, <c>{"text": "..."}</c>, <c>{"messages": [...]}</c>, or a bare JSON string per line (as OpenAssistant's
/// <c>prompt_lottery</c> export). An object may carry an <c>answer</c> (a string or a number) for verifiable rewards.
/// </summary>
public static class PromptReader
{
    /// <summary>Reads every prompt of a file: one per non-blank line of a text file, else one per record (<see cref="FromRecord"/>).</summary>
    public static IReadOnlyList<Prompt> Read(string path, RecordFileType fileType = RecordFileType.Auto)
    {
        if (fileType == RecordFileType.Auto) fileType = RecordSource.Detect(path);
        if (fileType == RecordFileType.Text)
            return RecordSource.ReadLines(path).Select(l => new Prompt(l.Line) { Source = l.Where.ToString() }).ToList();
        return RecordSource.Read(path, fileType).Select(FromRecord).ToList();
    }

    /// <summary>The prompt of one record: a bare string, <c>messages</c>, <c>prompt</c>, or <c>text</c> (<c>prompt</c> wins over <c>text</c>); anything else is a user error naming the record.</summary>
    public static Prompt FromRecord(DataRecord record)
    {
        var src = record.Where.ToString();
        if (record.Value is JsonValue v && v.TryGetValue(out string? s)) return new Prompt(s) { Source = src };
        if (record.Has("messages"))
        {
            var turns = MessagesReader.Read(record, "messages", needAssistant: false);
            return new Prompt(Transcript.Render(turns, assistantCue: true))
                { Messages = turns, Answer = AnswerOf(record), Metadata = record.Extras("messages", AnswerField), Source = src };
        }
        // {"text": ...} is how many prompt files store a prompt (the labeling app's among them); "prompt" wins over it.
        if (!record.Has("prompt") && record.Has("text"))
            return new Prompt(record.RequireString("text")) { Answer = AnswerOf(record), Metadata = record.Extras("text", AnswerField), Source = src };
        if (record.Has("prompt") || record.Value is JsonObject)
            return new Prompt(record.RequireString("prompt")) { Answer = AnswerOf(record), Metadata = record.Extras("prompt", AnswerField), Source = src };
        throw record.Where.Error($"expected a prompt (a string, or an object with \"prompt\", \"text\" or \"messages\"), got {DataRecord.Describe(record.Value)}");
    }

    /// <summary>The optional field holding a prompt's reference answer.</summary>
    public const string AnswerField = "answer";

    /// <summary>The <c>answer</c> field: a string as is, a number as written in the file (<c>42</c>, <c>3.5</c>), null
    /// when absent; any other type is a user error naming the record.</summary>
    static string? AnswerOf(DataRecord record) => record.Object[AnswerField] switch
    {
        null => null,
        JsonValue v when v.TryGetValue(out string? text) => text,
        JsonValue v when v.GetValueKind() == System.Text.Json.JsonValueKind.Number => v.ToJsonString(),
        var other => throw record.Where.Error($"field \"{AnswerField}\" must be a string or a number, got {DataRecord.Describe(other)}"),
    };
}
