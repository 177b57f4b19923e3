namespace RlhfSharp.Evaluation;

/// <summary>Wins, ties and losses of A against B, prompt by prompt.</summary>
public sealed record WinRateResult(Estimate WinRate, int Wins, int Ties, int Losses);

/// <summary>
/// InstructGPT's headline measure (Ouyang et al. 2022, section 4.1): how often A's output is preferred to B's on the same
/// prompt. Here a judge (a reward model) scores both; A wins a prompt when its score is strictly higher, and a tie counts
/// half. The 95% interval is the Wilson score interval of that rate, with ties counted as half a success.
/// </summary>
public static class WinRate
{
    /// <summary>
    /// The win rate of A over B from the judge's scores: <c>a[i]</c> and <c>b[i]</c> are A's and B's scores on prompt i.
    /// Lists of different lengths are an <see cref="ArgumentException"/>.
    /// </summary>
    public static WinRateResult FromScores(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        if (a.Count != b.Count) throw new ArgumentException($"{a.Count} scores for A but {b.Count} for B");
        int wins = 0, ties = 0;
        for (int i = 0; i < a.Count; i++)
        {
            if (a[i] > b[i]) wins++;
            else if (a[i] == b[i]) ties++;
        }
        return FromCounts(wins, ties, a.Count - wins - ties);
    }

    /// <summary>The win rate from counted verdicts (e.g. people's): (wins + ties / 2) / (wins + ties + losses), with the
    /// Wilson 95% interval of that rate. Negative counts are an <see cref="ArgumentException"/>.</summary>
    public static WinRateResult FromCounts(int wins, int ties, int losses)
    {
        if (wins < 0 || ties < 0 || losses < 0) throw new ArgumentException($"negative count: {wins} wins, {ties} ties, {losses} losses");
        return new WinRateResult(Statistics.Rate(wins + 0.5 * ties, wins + ties + losses), wins, ties, losses);
    }
}
