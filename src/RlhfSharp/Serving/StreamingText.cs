namespace RlhfSharp.Serving;

/// <summary>
/// Turns the growing decoded text of a response into safe pieces to emit: never half a multi-byte character (the
/// decoder writes U+FFFD for an incomplete UTF-8 byte sequence, so trailing U+FFFDs, at most 3, are held back until the
/// next token completes them), never text that a later token could still rewrite, and never the start of a stop sequence that may
/// still complete. The concatenation of all pieces equals <see cref="Final"/>.
/// </summary>
public sealed class StreamingText(IReadOnlyList<string> stopSequences)
{
    readonly string[] _stops = stopSequences.Where(s => s.Length > 0).ToArray();
    string _text = "";
    int _emitted;

    /// <summary>Whether the text has reached a stop sequence (generation should end).</summary>
    public bool Stopped { get; private set; }

    /// <summary>The response text so far, cut before the first stop sequence.</summary>
    public string Final => _text;

    /// <summary>Takes the full decoded text after a new token; returns the piece that is now safe to emit.</summary>
    public string Update(string decoded)
    {
        int cut = FirstStop(decoded);
        if (cut >= 0) { Stopped = true; _text = decoded[..cut]; }
        else _text = decoded;
        int safe = Stopped ? _text.Length : _text.Length - HeldBack(_text);
        return Take(safe);
    }

    /// <summary>Everything not yet emitted (call once generation has ended).</summary>
    public string Flush() => Take(_text.Length);

    string Take(int safe)
    {
        if (safe <= _emitted) return "";
        var piece = _text[_emitted..safe];
        _emitted = safe;
        return piece;
    }

    int FirstStop(string text)
    {
        int best = -1;
        foreach (var stop in _stops)
        {
            int at = text.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && (best < 0 || at < best)) best = at;
        }
        return best;
    }

    /// <summary>Characters at the end to keep back: a trailing U+FFFD run (an unfinished character), and the longest
    /// suffix that is a proper prefix of a stop sequence.</summary>
    int HeldBack(string text)
    {
        // An unfinished UTF-8 sequence is at most 3 bytes, which decode to at most 3 replacement characters; a longer
        // run (a model emitting invalid bytes) is final before its last 3.
        int replacement = 0;
        while (replacement < Math.Min(3, text.Length) && text[text.Length - 1 - replacement] == '\uFFFD') replacement++;
        int partial = 0;
        foreach (var stop in _stops)
            for (int n = Math.Min(stop.Length - 1, text.Length); n > partial; n--)
                if (string.CompareOrdinal(text, text.Length - n, stop, 0, n) == 0) { partial = n; break; }
        // Also never split a surrogate pair.
        int held = Math.Max(replacement, partial);
        if (held < text.Length && char.IsHighSurrogate(text[text.Length - 1 - held])) held++;
        return held;
    }
}
