namespace RlhfSharp.Training.RewardModeling;

/// <summary>
/// One prompt's comparisons as one batch element (InstructGPT §3.5): its distinct responses, each scored once, and its
/// pairs as indices into them. K ranked responses give K rows and C(K,2) pairs instead of 2·C(K,2) rows.
/// </summary>
/// <param name="Rows">distinct token sequences (prompt + response).</param>
/// <param name="Chosen">per pair, the row of the preferred response.</param>
/// <param name="Rejected">per pair, the row of the other response.</param>
public sealed record RankingGroup(int[][] Rows, int[] Chosen, int[] Rejected);

/// <summary>Builds <see cref="RankingGroup"/>s from encoded pairs.</summary>
public static class RankingGroups
{
    /// <summary>
    /// Groups encoded pairs by <paramref name="groupIds"/> (pairs from one ranking or one sibling set share an id), in
    /// order of first appearance; a pair without an id is a group of its own. Identical sequences within a group
    /// become one row.
    /// </summary>
    public static List<RankingGroup> From(IReadOnlyList<(int[] Chosen, int[] Rejected)> pairs, IReadOnlyList<string?> groupIds)
    {
        if (pairs.Count != groupIds.Count) throw new ArgumentException("one group id per pair");
        var order = new List<string>();
        var members = new Dictionary<string, List<int>>();
        for (int i = 0; i < pairs.Count; i++)
        {
            var key = groupIds[i] is { } g ? "g:" + g : "p:" + i;
            if (!members.TryGetValue(key, out var list)) { members[key] = list = []; order.Add(key); }
            list.Add(i);
        }
        return order.Select(key =>
        {
            var rows = new List<int[]>();
            var rowOf = new Dictionary<string, int>();
            int Row(int[] ids)
            {
                var k = string.Join(",", ids);
                if (!rowOf.TryGetValue(k, out int r)) { rowOf[k] = r = rows.Count; rows.Add(ids); }
                return r;
            }
            var idx = members[key];
            var chosen = idx.Select(i => Row(pairs[i].Chosen)).ToArray();
            var rejected = idx.Select(i => Row(pairs[i].Rejected)).ToArray();
            return new RankingGroup([.. rows], chosen, rejected);
        }).ToList();
    }
}
