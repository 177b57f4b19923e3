namespace RlhfSharp.Evaluation;

/// <summary>How eval commands fit generation into a model's context (its position table), so that a default
/// --max-new-tokens never makes a request fail on a short-context model.</summary>
public static class ContextFit
{
    /// <summary>
    /// Prompts and a response budget that fit in <paramref name="context"/> positions: the full budget when the longest
    /// prompt leaves room, else at least min(budget, context / 2) new tokens with prompts cut from the left to make room.
    /// </summary>
    public static (List<IReadOnlyList<int>> Prompts, int NewTokens) ForGeneration(IReadOnlyList<IReadOnlyList<int>> prompts, int maxNewTokens, int context)
    {
        if (maxNewTokens < 1) throw new UserError($"max-new-tokens must be at least 1 (got {maxNewTokens})");
        if (context <= 0) return (prompts.ToList(), maxNewTokens);
        int longest = prompts.Max(p => p.Count);
        int newTokens = Math.Min(maxNewTokens, context - longest);
        int floor = Math.Max(1, Math.Min(maxNewTokens, context / 2));
        if (newTokens >= floor) return (prompts.ToList(), newTokens);
        int keep = context - floor;
        return (prompts.Select(p => (IReadOnlyList<int>)(p.Count > keep ? p.Skip(p.Count - keep).ToList() : p)).ToList(), floor);
    }
}
