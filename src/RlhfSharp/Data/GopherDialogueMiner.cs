using System.Text.Json.Nodes;

namespace RlhfSharp.Data;

/// <summary>A dialogue found in raw text: two speakers alternating, <see cref="Turns"/>[0] by <see cref="FirstSpeaker"/>.</summary>
public sealed record MinedDialogue(string FirstSpeaker, string SecondSpeaker, IReadOnlyList<string> Turns, int FirstParagraph)
{
    /// <summary>The dialogue as a <c>messages</c> demonstration: the first speaker is the user, the second the assistant;
    /// the speaker names are kept as metadata <c>"speakers": [first, second]</c>.</summary>
    public Demonstration ToDemonstration() =>
        new(Turns.Select((t, i) => new ChatTurn(i % 2 == 0 ? ChatRole.User : ChatRole.Assistant, t)).ToList())
        {
            Metadata = new Dictionary<string, JsonNode?> { ["speakers"] = new JsonArray(FirstSpeaker, SecondSpeaker) },
        };
}

/// <summary>
/// Finds dialogues in raw text the way Gopher's dialogue data was selected (Rae et al. 2021, "Scaling Language Models:
/// Methods, Analysis &amp; Insights from Training Gopher", dialogue-tuned Gopher): paragraphs are blocks separated by blank
/// lines; a dialogue is a run of at least 6 consecutive paragraphs that each start with a speaker prefix
/// (<see cref="SpeakerPrefix"/>), where the even paragraphs of the run share one prefix, the odd ones another, and the two
/// differ. Runs are maximal; after a run is taken the search resumes after it, so runs never share a paragraph
/// (a third speaker ends a run, and may start the next one).
/// </summary>
public static class GopherDialogueMiner
{
    /// <summary>Shortest run of speaker paragraphs that counts as a dialogue (6, as in Gopher's selection).</summary>
    public const int DefaultMinParagraphs = 6;

    /// <summary>Splits text into paragraphs: blocks of lines separated by blank (whitespace-only) lines, each trimmed.</summary>
    public static List<string> Paragraphs(string text)
    {
        var result = new List<string>();
        var current = new List<string>();
        foreach (var line in text.ReplaceLineEndings("\n").Split('\n'))
        {
            if (string.IsNullOrWhiteSpace(line)) { Flush(); continue; }
            current.Add(line.TrimEnd());
        }
        Flush();
        return result;

        void Flush()
        {
            if (current.Count > 0) result.Add(string.Join("\n", current).Trim());
            current.Clear();
        }
    }

    /// <summary>The dialogues in <paramref name="text"/> (see the class rule), in text order; <paramref name="minParagraphs"/> must be at least 2.</summary>
    public static IReadOnlyList<MinedDialogue> Mine(string text, int minParagraphs = DefaultMinParagraphs)
    {
        if (minParagraphs < 2) throw new ArgumentOutOfRangeException(nameof(minParagraphs), "a dialogue needs at least 2 paragraphs");
        var paragraphs = Paragraphs(text);
        var parsed = paragraphs.Select(SpeakerPrefix.Parse).ToList();
        var found = new List<MinedDialogue>();
        int i = 0;
        while (i < parsed.Count)
        {
            if (parsed[i] is not { } first || i + 1 >= parsed.Count || parsed[i + 1] is not { } second
                || first.Prefix == second.Prefix)
            {
                i++;
                continue;
            }
            int end = i + 2; // exclusive
            while (end < parsed.Count && parsed[end] is { } p && p.Prefix == ((end - i) % 2 == 0 ? first.Prefix : second.Prefix)) end++;
            if (end - i >= minParagraphs)
            {
                var turns = parsed.Skip(i).Take(end - i).Select(p => p!.Value.Content).ToList();
                found.Add(new MinedDialogue(first.Prefix.Name, second.Prefix.Name, turns, i));
                i = end;
            }
            else i = end - 1; // a shorter run may start at its last paragraph (e.g. where a third speaker came in)
        }
        return found;
    }
}
