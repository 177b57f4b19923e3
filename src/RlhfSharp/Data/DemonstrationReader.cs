using System.Text.Json.Nodes;

namespace RlhfSharp.Data;

/// <summary>The record layouts a demonstration file may use; <see cref="Auto"/> decides per record from its fields.</summary>
public enum DemonstrationFormat
{
    /// <summary>Decide per record from its fields.</summary>
    Auto,
    /// <summary><c>{"prompt", "response"}</c> (<c>"completion"</c> is a synonym of response) → [user, assistant].</summary>
    PromptResponse,
    /// <summary><c>{"messages": [{"role", "content"}...]}</c>, roles system/user/assistant (also prompter/human).</summary>
    Messages,
    /// <summary>Alpaca: <c>{"instruction", "input"?, "output"}</c>; the user turn is the instruction, then a blank line
    /// and the input when the input is not empty.</summary>
    Instruction,
    /// <summary>Self-instruct seed tasks (Wang et al. 2022): <c>{"instruction", "instances": [{"input", "output"}...]}</c>,
    /// one demonstration per instance, user turn built as for <see cref="Instruction"/>.</summary>
    SelfInstruct,
    /// <summary>OpenAssistant trees: the best-ranked path of each tree (see <see cref="OasstTree"/>).</summary>
    OasstTree,
}

/// <summary>Reads supervised-finetuning demonstrations from JSONL, JSON, or Parquet (see <see cref="RecordSource"/>).</summary>
public static class DemonstrationReader
{
    /// <summary>Reads every demonstration of a file (storage per <paramref name="fileType"/>, see <see cref="RecordSource"/>); errors name the file and line.</summary>
    public static IReadOnlyList<Demonstration> Read(string path, DemonstrationFormat format = DemonstrationFormat.Auto,
        RecordFileType fileType = RecordFileType.Auto) =>
        RecordSource.Read(path, fileType).SelectMany(r => FromRecord(r, format)).ToList();

    /// <summary>The demonstrations of one record (self-instruct gives several, an OpenAssistant tree without an answer none).</summary>
    public static IEnumerable<Demonstration> FromRecord(DataRecord record, DemonstrationFormat format = DemonstrationFormat.Auto)
    {
        if (format == DemonstrationFormat.Auto) format = Detect(record);
        var src = record.Where.ToString();
        switch (format)
        {
            case DemonstrationFormat.PromptResponse:
                var response = record.Has("response") || !record.Has("completion") ? "response" : "completion";
                if (!record.Has(response)) throw record.Where.Error("missing field \"response\" (or \"completion\")");
                return [Demonstration.FromPair(record.RequireString("prompt"), record.RequireString(response))
                    with { Metadata = record.Extras("prompt", "response", "completion"), Source = src }];
            case DemonstrationFormat.Messages:
                return [new Demonstration(MessagesReader.Read(record, "messages", needAssistant: true))
                    { Metadata = record.Extras("messages"), Source = src }];
            case DemonstrationFormat.Instruction:
                return [Demonstration.FromPair(UserTurn(record.RequireString("instruction"), record.OptionalString("input")), record.RequireString("output"))
                    with { Metadata = record.Extras("instruction", "input", "output"), Source = src }];
            case DemonstrationFormat.SelfInstruct:
                return SelfInstruct(record);
            default:
                return OasstTree.BestPath(record) is { } d ? [d] : [];
        }
    }

    /// <summary>The layout of a record from the fields it has; a user error listing them when none fits.</summary>
    public static DemonstrationFormat Detect(DataRecord record)
    {
        var o = record.Object;
        if (OasstTree.Looks(record)) return DemonstrationFormat.OasstTree;
        if (record.Has("messages")) return DemonstrationFormat.Messages;
        if (record.Has("instruction") && record.Has("instances")) return DemonstrationFormat.SelfInstruct;
        if (record.Has("instruction")) return DemonstrationFormat.Instruction;
        if (record.Has("prompt")) return DemonstrationFormat.PromptResponse;
        throw record.Where.Error($"cannot tell the demonstration format from fields [{string.Join(", ", o.Select(kv => kv.Key))}]; " +
                            "expected prompt+response, messages, instruction+output, instruction+instances, or an OpenAssistant tree");
    }

    // Alpaca (Taori et al. 2023) and self-instruct keep the input apart from the instruction; as one user turn they are
    // joined by a blank line, the same separation Alpaca's own prompt template uses.
    static string UserTurn(string instruction, string? input) =>
        string.IsNullOrWhiteSpace(input) ? instruction : instruction + "\n\n" + input;

    static IEnumerable<Demonstration> SelfInstruct(DataRecord record)
    {
        var instruction = record.RequireString("instruction");
        var instances = record.RequireArray("instances");
        var meta = record.Extras("instruction", "instances");
        var list = new List<Demonstration>();
        for (int i = 0; i < instances.Count; i++)
        {
            if (instances[i] is not JsonObject inst) throw record.Where.Error($"\"instances[{i}]\" must be an object");
            var input = inst["input"] is null ? null : DataRecord.StringOf(inst, "input", record.Where, $"instances[{i}].input");
            var output = DataRecord.StringOf(inst, "output", record.Where, $"instances[{i}].output");
            list.Add(Demonstration.FromPair(UserTurn(instruction, input), output) with { Metadata = meta, Source = record.Where.ToString() });
        }
        return list;
    }
}
