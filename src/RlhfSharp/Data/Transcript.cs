namespace RlhfSharp.Data;

/// <summary>
/// The plain-text conversation format of Anthropic's HH-RLHF data (Bai et al. 2022): each turn is
/// <c>"\n\nHuman: text"</c> or <c>"\n\nAssistant: text"</c>. Conversations that arrive as turns (OpenAssistant trees,
/// <c>messages</c> records) are rendered this way wherever a single prompt string is needed, so that
/// <c>Prompt + Response</c> is always one complete transcript: prompts end with the cue <c>"\n\nAssistant:"</c> and
/// responses start with a space, exactly as in HH.
/// </summary>
public static class Transcript
{
    /// <summary>Starts a human turn: <c>"\n\nHuman:"</c>.</summary>
    public const string HumanMarker = "\n\nHuman:";
    /// <summary>Starts an assistant turn, and ends a prompt as its cue: <c>"\n\nAssistant:"</c>.</summary>
    public const string AssistantMarker = "\n\nAssistant:";

    /// <summary>Renders turns as an HH transcript; with <paramref name="assistantCue"/> it ends with "\n\nAssistant:".
    /// System turns are rendered as Human turns (HH has no system role).</summary>
    public static string Render(IEnumerable<ChatTurn> turns, bool assistantCue)
    {
        var sb = new System.Text.StringBuilder();
        foreach (var t in turns)
            sb.Append(t.Role == ChatRole.Assistant ? AssistantMarker : HumanMarker).Append(' ').Append(t.Content);
        if (assistantCue) sb.Append(AssistantMarker);
        return sb.ToString();
    }

    /// <summary>A response as it follows a rendered prompt: one leading space (HH convention).</summary>
    public static string AsResponse(string text) => " " + text;

    /// <summary>Splits an HH transcript into turns; text before the first marker is ignored, and a trailing empty
    /// "\n\nAssistant:" cue yields no turn. Returns the turns in order.</summary>
    public static IReadOnlyList<ChatTurn> Parse(string transcript)
    {
        var turns = new List<ChatTurn>();
        int pos = NextMarker(transcript, 0, out var role, out var len);
        while (pos >= 0)
        {
            int start = pos + len;
            int next = NextMarker(transcript, start, out var nextRole, out var nextLen);
            var content = (next < 0 ? transcript[start..] : transcript[start..next]).Trim();
            if (content.Length > 0 || next >= 0) turns.Add(new ChatTurn(role, content));
            pos = next; role = nextRole; len = nextLen;
        }
        return turns;
    }

    static int NextMarker(string s, int from, out ChatRole role, out int length)
    {
        int h = s.IndexOf(HumanMarker, from, StringComparison.Ordinal);
        int a = s.IndexOf(AssistantMarker, from, StringComparison.Ordinal);
        if (h < 0 && a < 0) { role = default; length = 0; return -1; }
        bool human = h >= 0 && (a < 0 || h < a);
        role = human ? ChatRole.User : ChatRole.Assistant;
        length = human ? HumanMarker.Length : AssistantMarker.Length;
        return human ? h : a;
    }

    /// <summary>
    /// Splits an HH pair of full transcripts into (prompt, chosen, rejected). The prompt is the text up to and including
    /// the last "\n\nAssistant:" that both transcripts share (inside their common prefix); the responses are the rest,
    /// keeping their leading space. When neither response contains the marker this is the usual rule "split each at its
    /// LAST \n\nAssistant:" (as TRL's <c>extract_anthropic_prompt</c>); it differs only where a response itself contains
    /// "\n\nAssistant:" (3 of the first 600 rows of the helpful test split), where splitting each at its own last
    /// marker would give two different prompts. Returns null when the transcripts share no such marker.
    /// </summary>
    public static (string Prompt, string Chosen, string Rejected)? SplitPair(string chosen, string rejected)
    {
        int common = 0, max = Math.Min(chosen.Length, rejected.Length);
        while (common < max && chosen[common] == rejected[common]) common++;
        // The marker must lie inside the common prefix chosen[..common].
        int at = common == 0 ? -1 : chosen.LastIndexOf(AssistantMarker, common - 1, StringComparison.Ordinal);
        if (at < 0) return null;
        int cut = at + AssistantMarker.Length;
        return (chosen[..cut], chosen[cut..], rejected[cut..]);
    }
}
