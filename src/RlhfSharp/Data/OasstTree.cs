using System.Text.Json.Nodes;

namespace RlhfSharp.Data;

/// <summary>
/// OpenAssistant conversation trees (Köpf et al. 2023, "OpenAssistant Conversations", the <c>*_tree.jsonl</c> export):
/// each line is <c>{"message_tree_id", "tree_state", "prompt": node}</c> where a node is
/// <c>{"message_id", "text", "role": "prompter"|"assistant", "rank"?, "deleted", "review_result", "replies": [node...]}</c>.
/// Sibling replies that labelers ranked carry <c>rank</c> (0 = best).
///
/// Rules used here:
/// <list type="bullet">
/// <item>A reply is usable unless it is flagged <c>"deleted": true</c> or <c>"review_result": false</c> (failed review);
/// a missing flag counts as fine, so hand-made trees need not carry them.</item>
/// <item>Best path (demonstrations): from the root, follow at each node the usable reply with the lowest <c>rank</c>
/// (ties: the first in file order); if no usable reply is ranked, the first usable one. Trailing prompter turns are
/// dropped so the conversation ends with an assistant reply; a tree with no assistant reply gives none.</item>
/// <item>Pairs (comparisons): at every node, each two usable assistant replies that both have a rank and whose ranks
/// differ give a pair, the lower rank chosen (pairs in rank order: best vs 2nd, best vs 3rd, ...); the prompt is the conversation from the root down to that node.
/// Unranked replies give no pairs.</item>
/// </list>
/// </summary>
public static class OasstTree
{
    /// <summary>Whether the record looks like an OpenAssistant tree: a <c>prompt</c> object with <c>replies</c>.</summary>
    public static bool Looks(DataRecord record) => record.Value is JsonObject o && o["prompt"] is JsonObject p && p.ContainsKey("replies");

    /// <summary>The best-ranked path as a demonstration, or null when the tree has no assistant reply.</summary>
    public static Demonstration? BestPath(DataRecord record)
    {
        var node = Root(record);
        var turns = new List<ChatTurn> { Turn(node, record.Where, "prompt") };
        var label = "prompt";
        while (true)
        {
            var usable = Usable(node, record.Where, label);
            if (usable.Count == 0) break;
            var ranked = usable.Where(r => Rank(r.Node, record.Where, r.Label) is not null).ToList();
            var next = ranked.Count > 0 ? ranked.OrderBy(r => Rank(r.Node, record.Where, r.Label)).First() : usable[0];
            node = next.Node; label = next.Label;
            turns.Add(Turn(node, record.Where, label));
        }
        while (turns.Count > 0 && turns[^1].Role != ChatRole.Assistant) turns.RemoveAt(turns.Count - 1);
        if (turns.Count == 0) return null;
        return new Demonstration(turns)
        {
            Metadata = record.Extras("prompt"),
            Source = record.Where.ToString(),
        };
    }

    /// <summary>All sibling-rank pairs of the tree (see the class comment), in depth-first order.</summary>
    public static IEnumerable<Comparison> Pairs(DataRecord record)
    {
        var meta = record.Extras("prompt");
        var results = new List<Comparison>();
        Walk(Root(record), "prompt", []);
        return results;

        void Walk(JsonObject node, string label, List<ChatTurn> above)
        {
            var path = new List<ChatTurn>(above) { Turn(node, record.Where, label) };
            var usable = Usable(node, record.Where, label);
            var ranked = usable
                .Where(r => RoleOf(r.Node, record.Where, r.Label) == ChatRole.Assistant)
                .Select(r => (r.Node, r.Label, Rank: Rank(r.Node, record.Where, r.Label)))
                .Where(r => r.Rank is not null).OrderBy(r => r.Rank).ToList(); // stable: ties keep file order
            if (ranked.Count >= 2)
            {
                var prompt = Transcript.Render(path, assistantCue: true);
                var group = (node["message_id"] as JsonValue)?.ToString() ?? $"{record.Where}/{label}";
                for (int a = 0; a < ranked.Count; a++)
                    for (int b = a + 1; b < ranked.Count; b++)
                        if (ranked[a] is var w && ranked[b] is var l && w.Rank < l.Rank)
                            results.Add(new Comparison(prompt,
                                Transcript.AsResponse(Text(w.Node, record.Where, w.Label)),
                                Transcript.AsResponse(Text(l.Node, record.Where, l.Label)))
                            {
                                PromptMessages = path, Metadata = meta, GroupId = group, Source = record.Where.ToString(),
                            });
            }
            foreach (var r in usable) Walk(r.Node, r.Label, path);
        }
    }

    static JsonObject Root(DataRecord record) => record.Object["prompt"] as JsonObject
        ?? throw record.Where.Error("field \"prompt\" must be an OpenAssistant message object with \"replies\"");

    static List<(JsonObject Node, string Label)> Usable(JsonObject node, RecordLocation where, string label)
    {
        var list = new List<(JsonObject, string)>();
        if (node["replies"] is null) return list;
        if (node["replies"] is not JsonArray replies) throw where.Error($"field \"{label}.replies\" must be a list");
        for (int i = 0; i < replies.Count; i++)
        {
            var childLabel = $"{label}.replies[{i}]";
            if (replies[i] is not JsonObject child) throw where.Error($"\"{childLabel}\" must be an object");
            if (Flag(child, "deleted") == true || Flag(child, "review_result") == false) continue;
            list.Add((child, childLabel));
        }
        return list;
    }

    static bool? Flag(JsonObject node, string name) =>
        node[name] is JsonValue v && v.TryGetValue(out bool b) ? b : null;

    static int? Rank(JsonObject node, RecordLocation where, string label) => node["rank"] switch
    {
        null => null,
        JsonValue v when v.TryGetValue(out int r) => r,
        JsonValue v when v.TryGetValue(out double d) && d == Math.Floor(d) => (int)d,
        _ => throw where.Error($"field \"{label}.rank\" must be an integer"),
    };

    static string Text(JsonObject node, RecordLocation where, string label) =>
        DataRecord.StringOf(node, "text", where, $"{label}.text");

    static ChatRole RoleOf(JsonObject node, RecordLocation where, string label)
    {
        var name = DataRecord.StringOf(node, "role", where, $"{label}.role");
        return ChatTurn.ParseRole(name) ?? throw where.Error($"field \"{label}.role\" has unknown role \"{name}\"");
    }

    static ChatTurn Turn(JsonObject node, RecordLocation where, string label) =>
        new(RoleOf(node, where, label), Text(node, where, label));
}
