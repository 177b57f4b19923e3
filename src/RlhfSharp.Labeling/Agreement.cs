namespace RlhfSharp.Labeling;

/// <summary>Agreed and compared pair counts; <see cref="Fraction"/> is null when nothing was compared.</summary>
public sealed record AgreementCount(long Agreed, long Compared)
{
    public double? Fraction => Compared == 0 ? null : (double)Agreed / Compared;
    public AgreementCount Add(long agreed, long compared) => new(Agreed + agreed, Compared + compared);
}

/// <summary>Overall, per labeler, and per pair of labelers (keys "a|b" with a &lt; b ordinally).</summary>
public sealed record AgreementReport(
    AgreementCount Overall,
    IReadOnlyDictionary<string, AgreementCount> PerLabeler,
    IReadOnlyDictionary<string, AgreementCount> PerPair);

/// <summary>
/// Inter-labeler agreement. For two labelers who ranked the same task, every pair of responses
/// is ordered by both; agreement is the fraction ordered the same way. Counts are pooled:
/// overall = all agreed pairs / all compared pairs over every task and every two labelers of it;
/// a labeler's figure pools the comparisons they take part in.
/// </summary>
public static class Agreement
{
    public static AgreementReport Compute(IEnumerable<(string TaskId, string Labeler, IReadOnlyList<int> Ranking)> labels)
    {
        var overall = new AgreementCount(0, 0);
        var perLabeler = new SortedDictionary<string, AgreementCount>(StringComparer.Ordinal);
        var perPair = new SortedDictionary<string, AgreementCount>(StringComparer.Ordinal);
        foreach (var l in labels) perLabeler.TryAdd(l.Labeler, new(0, 0));

        foreach (var task in labels.GroupBy(l => l.TaskId))
        {
            var ls = task.OrderBy(l => l.Labeler, StringComparer.Ordinal).ToList();
            for (int a = 0; a < ls.Count; a++)
                for (int b = a + 1; b < ls.Count; b++)
                {
                    var (agreed, compared) = Compare(ls[a].Ranking, ls[b].Ranking);
                    overall = overall.Add(agreed, compared);
                    perLabeler[ls[a].Labeler] = perLabeler[ls[a].Labeler].Add(agreed, compared);
                    perLabeler[ls[b].Labeler] = perLabeler[ls[b].Labeler].Add(agreed, compared);
                    var key = ls[a].Labeler + "|" + ls[b].Labeler;
                    perPair[key] = perPair.GetValueOrDefault(key, new(0, 0)).Add(agreed, compared);
                }
        }
        return new AgreementReport(overall, perLabeler, perPair);
    }

    /// <summary>How many of the response pairs that both rankings contain they order the same way.</summary>
    public static (long Agreed, long Compared) Compare(IReadOnlyList<int> first, IReadOnlyList<int> second)
    {
        var px = Positions(first);
        var py = Positions(second);
        var shared = px.Keys.Where(py.ContainsKey).OrderBy(i => i).ToList();
        long agreed = 0, compared = 0;
        for (int i = 0; i < shared.Count; i++)
            for (int j = i + 1; j < shared.Count; j++)
            {
                int r = shared[i], s = shared[j];
                compared++;
                if ((px[r] < px[s]) == (py[r] < py[s])) agreed++;
            }
        return (agreed, compared);
    }

    static Dictionary<int, int> Positions(IReadOnlyList<int> ranking)
    {
        var d = new Dictionary<int, int>();
        for (int i = 0; i < ranking.Count; i++) d[ranking[i]] = i;
        return d;
    }
}
