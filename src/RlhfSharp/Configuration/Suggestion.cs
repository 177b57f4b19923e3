namespace RlhfSharp.Configuration;

/// <summary>"Did you mean" for a mistyped key or option: the closest known name by edit distance, when it is close.</summary>
public static class Suggestion
{
    /// <summary>The known name nearest to <paramref name="given"/>, or null when none is within a third of its length.</summary>
    public static string? Closest(string given, IEnumerable<string> known)
    {
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (var name in known)
        {
            int distance = EditDistance(given, name);
            if (distance < bestDistance) (best, bestDistance) = (name, distance);
        }
        int tolerance = Math.Max(1, given.Length / 3);
        return bestDistance <= tolerance ? best : null;
    }

    /// <summary>" (did you mean 'x'?)" or "".</summary>
    public static string Hint(string given, IEnumerable<string> known) =>
        Closest(given, known) is { } near ? $"; did you mean '{near}'?" : "";

    /// <summary>Levenshtein distance: insertions, deletions and substitutions, one each.</summary>
    public static int EditDistance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) previous[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
                current[j] = Math.Min(substitution, Math.Min(previous[j] + 1, current[j - 1] + 1));
            }
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
