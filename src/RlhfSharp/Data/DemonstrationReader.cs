using System.Text.Json.Nodes;

namespace RlhfSharp.Data;

/// <summary>The record layouts a demonstration file may use; <see cref="Auto"/> decides per record from its fields.</summary>
public enum DemonstrationFormat
{
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
    public static IReadOnlyList<Demonstration> Read(string path, DemonstrationFormat format = DemonstrationFormat.Auto,
        RecordFileType fileType = RecordFileType.Auto) =>
        RecordSource.Read(path, fileType).SelectMany(r => FromRecord(r, format)).ToList();

    /// <summary>The demonstrations of one record (self-instruct gives several, an OpenAssistant tree without an answer none).</summary>
    public static IEnumerable<Demonstration> FromRecord(DataRecord r, DemonstrationFormat format = DemonstrationFormat.Auto)
    {
        if (format == DemonstrationFormat.Auto) format = Detect(r);
        var src = r.Where.ToString();
        switch (format)
        {
            case DemonstrationFormat.PromptResponse:
                var response = r.Has("response") || !r.Has("completion") ? "response" : "completion";
                if (!r.Has(response)) throw r.Where.Error("missing field \"response\" (or \"completion\")");
                return [Demonstration.FromPair(r.RequireString("prompt"), r.RequireString(response))
                    with { Metadata = r.Extras("prompt", "response", "completion"), Source = src }];
            case DemonstrationFormat.Messages:
                return [new Demonstration(MessagesReader.Read(r, "messages", needAssistant: true))
                    { Metadata = r.Extras("messages"), Source = src }];
            case DemonstrationFormat.Instruction:
                return [Demonstration.FromPair(UserTurn(r.RequireString("instruction"), r.OptionalString("input")), r.RequireString("output"))
                    with { Metadata = r.Extras("instruction", "input", "output"), Source = src }];
            case DemonstrationFormat.SelfInstruct:
                return SelfInstruct(r);
            default:
                return OasstTree.BestPath(r) is { } d ? [d] : [];
        }
    }

    /// <summary>The layout of a record from the fields it has; a user error listing them when none fits.</summary>
    public static DemonstrationFormat Detect(DataRecord r)
    {
        var o = r.Object;
        if (OasstTree.Looks(r)) return DemonstrationFormat.OasstTree;
        if (r.Has("messages")) return DemonstrationFormat.Messages;
        if (r.Has("instruction") && r.Has("instances")) return DemonstrationFormat.SelfInstruct;
        if (r.Has("instruction")) return DemonstrationFormat.Instruction;
        if (r.Has("prompt")) return DemonstrationFormat.PromptResponse;
        throw r.Where.Error($"cannot tell the demonstration format from fields [{string.Join(", ", o.Select(kv => kv.Key))}]; " +
                            "expected prompt+response, messages, instruction+output, instruction+instances, or an OpenAssistant tree");
    }

    // Alpaca (Taori et al. 2023) and self-instruct keep the input apart from the instruction; as one user turn they are
    // joined by a blank line, the same separation Alpaca's own prompt template uses.
    static string UserTurn(string instruction, string? input) =>
        string.IsNullOrWhiteSpace(input) ? instruction : instruction + "\n\n" + input;

    static IEnumerable<Demonstration> SelfInstruct(DataRecord r)
    {
        var instruction = r.RequireString("instruction");
        var instances = r.RequireArray("instances");
        var meta = r.Extras("instruction", "instances");
        var list = new List<Demonstration>();
        for (int i = 0; i < instances.Count; i++)
        {
            if (instances[i] is not JsonObject inst) throw r.Where.Error($"\"instances[{i}]\" must be an object");
            var input = inst["input"] is null ? null : DataRecord.StringOf(inst, "input", r.Where, $"instances[{i}].input");
            var output = DataRecord.StringOf(inst, "output", r.Where, $"instances[{i}].output");
            list.Add(Demonstration.FromPair(UserTurn(instruction, input), output) with { Metadata = meta, Source = r.Where.ToString() });
        }
        return list;
    }
}
