using System.Text.Json;
using RlhfSharp.Data;

namespace RlhfSharp.Labeling;

/// <summary>
/// Checks a label body against its task and turns it into a <see cref="LabelInput"/>, or says what
/// is wrong in one sentence (sent back with the 400). Body:
/// <c>{"ranking":[ids best first], "ratings":{"id":1..7}, "flags":{"id":[flag...]}, "notes":"text"}</c>;
/// <c>notes</c> may also be an object of per-response notes.
/// </summary>
public static class LabelValidation
{
    public const int MaxNotesChars = 20_000;

    public static (LabelInput? Label, string? Error) Validate(JsonElement body, int responseCount)
    {
        if (body.ValueKind != JsonValueKind.Object) return Fail("the body must be a JSON object");
        foreach (var p in body.EnumerateObject())
            if (p.Name is not ("ranking" or "ratings" or "flags" or "notes"))
                return Fail($"unknown field '{Trim(p.Name)}'; expected ranking, ratings, flags, notes");

        // Ranking: a permutation of 0..K-1, best first (checked by Data's rule, the one the comparison reader applies).
        if (!body.TryGetProperty("ranking", out var rankingJson) || rankingJson.ValueKind != JsonValueKind.Array)
            return Fail("ranking must be an array of response ids, best first");
        var ranking = new List<int>();
        foreach (var item in rankingJson.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt32(out var id))
                return Fail($"ranking: {Trim(item.GetRawText())} is not a response id (ids are whole numbers)");
            ranking.Add(id);
        }
        if (Ranking.CheckOrder(responseCount, ranking) is { } problem) return Fail(problem);

        // Ratings: 1..7 for every response.
        if (!body.TryGetProperty("ratings", out var rt) || rt.ValueKind != JsonValueKind.Object)
            return Fail("ratings must be an object mapping each response id to a rating from 1 to 7");
        var ratings = new Dictionary<int, int>();
        foreach (var p in rt.EnumerateObject())
        {
            if (!TryKey(p.Name, responseCount, out var id, out var err)) return Fail("ratings: " + err);
            if (p.Value.ValueKind != JsonValueKind.Number || !p.Value.TryGetInt32(out var v) || v is < 1 or > 7)
                return Fail($"ratings: the rating of response {id} must be a whole number from 1 to 7");
            if (!ratings.TryAdd(id, v)) return Fail($"ratings: response id {id} appears twice");
        }
        if (ratings.Count != responseCount)
            return Fail($"ratings: every response needs a rating; missing {string.Join(", ", Enumerable.Range(0, responseCount).Except(ratings.Keys))}");

        // Flags: optional; each a list drawn from the fixed eight, no repeats.
        var flags = Enumerable.Range(0, responseCount).ToDictionary(i => i, _ => (IReadOnlyList<string>)[]);
        if (body.TryGetProperty("flags", out var fl) && fl.ValueKind != JsonValueKind.Null)
        {
            if (fl.ValueKind != JsonValueKind.Object) return Fail("flags must be an object mapping response ids to lists of flags");
            foreach (var p in fl.EnumerateObject())
            {
                if (!TryKey(p.Name, responseCount, out var id, out var err)) return Fail("flags: " + err);
                if (p.Value.ValueKind != JsonValueKind.Array) return Fail($"flags: the flags of response {id} must be a list");
                var list = new List<string>();
                foreach (var f in p.Value.EnumerateArray())
                {
                    if (f.ValueKind != JsonValueKind.String || !LabelFlags.IsKnown(f.GetString()!))
                        return Fail($"flags: unknown flag {Trim(f.GetRawText())} on response {id}; allowed: {string.Join(", ", LabelFlags.All)}");
                    if (!list.Contains(f.GetString()!)) list.Add(f.GetString()!);
                }
                flags[id] = list;
            }
        }

        // Notes: free text, or per-response text; kept verbatim as JSON.
        var notes = "\"\"";
        if (body.TryGetProperty("notes", out var no) && no.ValueKind != JsonValueKind.Null)
        {
            if (no.ValueKind == JsonValueKind.Object)
            {
                foreach (var p in no.EnumerateObject())
                {
                    if (!TryKey(p.Name, responseCount, out _, out var err)) return Fail("notes: " + err);
                    if (p.Value.ValueKind != JsonValueKind.String) return Fail("notes: per-response notes must be strings");
                }
            }
            else if (no.ValueKind != JsonValueKind.String) return Fail("notes must be a string (or an object of per-response strings)");
            notes = no.GetRawText();
            if (notes.Length > MaxNotesChars) return Fail($"notes: longer than {MaxNotesChars} characters");
        }
        return (new LabelInput(ranking, ratings, flags, notes), null);
    }

    static bool TryKey(string key, int responseCount, out int id, out string error)
    {
        error = "";
        if (!int.TryParse(key, System.Globalization.NumberStyles.None, null, out id) || key != id.ToString())
        { error = $"'{Trim(key)}' is not a response id"; return false; }
        if (id >= responseCount) { error = $"unknown response id {id}; this task's ids are 0..{responseCount - 1}"; return false; }
        return true;
    }

    const int QuotedChars = 60; // enough to recognise the offending text in a one-line error

    static string Trim(string text) => text.Length <= QuotedChars ? text : text[..QuotedChars] + "…";

    static (LabelInput?, string?) Fail(string message) => (null, message);
}
