using System.Text.Json.Nodes;

namespace RlhfSharp.Data;

/// <summary>K responses to one prompt ranked by a labeler. <see cref="Order"/> lists response indices from best to worst.</summary>
public sealed record Ranking(string Prompt, IReadOnlyList<string> Responses, IReadOnlyList<int> Order)
{
    /// <summary>The record's other fields, kept as they were.</summary>
    public IReadOnlyDictionary<string, JsonNode?> Metadata { get; init; } = Demonstration.Empty;
    /// <summary>"path:line" of the record; also the group id of its pairs.</summary>
    public string? Source { get; init; }

    /// <summary>Why <paramref name="order"/> is not a ranking of <paramref name="count"/> responses, or null when it is
    /// (a permutation of 0..count-1).</summary>
    public static string? CheckOrder(int count, IReadOnlyList<int> order)
    {
        if (count < 2) return $"a ranking needs at least 2 responses, got {count}";
        if (order.Count != count) return $"ranking has {order.Count} entries but there are {count} responses";
        var seen = new bool[count];
        foreach (var i in order)
        {
            if (i < 0 || i >= count) return $"ranking index {i} is out of range 0..{count - 1}";
            if (seen[i]) return $"ranking repeats index {i}";
            seen[i] = true;
        }
        return null;
    }

    /// <summary>The C(K,2) (chosen, rejected) response indices of a ranking <paramref name="order"/> (best first): for ranks
    /// a &lt; b, the response ranked a is chosen over the one ranked b. Pairs come in rank order (best vs 2nd, best vs 3rd,
    /// ..., 2nd vs 3rd, ...). The one place this expansion is defined: <see cref="ToPairs"/> and the labeling export use it.</summary>
    public static IEnumerable<(int Chosen, int Rejected)> PairIndices(IReadOnlyList<int> order)
    {
        for (int better = 0; better < order.Count; better++)
            for (int worse = better + 1; worse < order.Count; worse++)
                yield return (order[better], order[worse]);
    }

    /// <summary>All C(K,2) pairs as comparisons, in the order of <see cref="PairIndices"/>. Identical texts are not
    /// filtered here.</summary>
    public IEnumerable<Comparison> ToPairs()
    {
        if (CheckOrder(Responses.Count, Order) is { } problem) throw new ArgumentException(problem);
        return PairIndices(Order).Select(pair => new Comparison(Prompt, Responses[pair.Chosen], Responses[pair.Rejected])
        {
            Metadata = Metadata, Source = Source, GroupId = Source,
        });
    }
}
