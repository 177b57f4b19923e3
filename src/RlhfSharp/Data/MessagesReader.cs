using System.Text.Json.Nodes;

namespace RlhfSharp.Data;

/// <summary>Reads a <c>[{"role", "content"}...]</c> list (the OpenAI / Hugging Face chat layout) into turns.</summary>
static class MessagesReader
{
    public static List<ChatTurn> Read(DataRecord record, string field, bool needAssistant)
    {
        var list = record.RequireArray(field);
        if (list.Count == 0) throw record.Where.Error($"field \"{field}\" is empty");
        var turns = new List<ChatTurn>(list.Count);
        for (int i = 0; i < list.Count; i++)
        {
            var label = $"{field}[{i}]";
            if (list[i] is not JsonObject m) throw record.Where.Error($"\"{label}\" must be an object with role and content");
            var role = DataRecord.StringOf(m, "role", record.Where, label + ".role");
            var content = DataRecord.StringOf(m, "content", record.Where, label + ".content");
            turns.Add(new ChatTurn(ChatTurn.ParseRole(role)
                ?? throw record.Where.Error($"\"{label}.role\" is \"{role}\"; expected system, user or assistant"), content));
        }
        if (needAssistant && turns.All(t => t.Role != ChatRole.Assistant))
            throw record.Where.Error($"field \"{field}\" has no assistant turn to learn from");
        return turns;
    }
}
