namespace RlhfSharp.Demo;

/// <summary>
/// Labelers who rank K responses by the gold reward plus their own Gaussian noise. The noise is calibrated so that
/// two labelers order a shared pair the same way about 73% of the time — the inter-labeler agreement that
/// InstructGPT reports (Ouyang et al. 2022, §3.4: 72.6 ± 1.5%).
/// </summary>
public sealed class SimulatedLabelers(double noiseStd, int seed)
{
    /// <summary>The agreement the noise is calibrated to: InstructGPT's inter-labeler agreement, ~73%.</summary>
    public const double InstructGptAgreement = 0.73;
    readonly Random rng = new(seed);

    /// <summary>Std of the Gaussian noise added to each response's reward before ranking, in reward units.</summary>
    public double NoiseStd { get; } = noiseStd;

    /// <summary>Response indices, best first.</summary>
    public int[] Rank(IReadOnlyList<double> gold)
    {
        // The jitter breaks gold ties at random, as a person choosing between two equally good answers would.
        var utility = gold.Select(g => g + NoiseStd * Gaussian(rng) + 1e-9 * rng.NextDouble()).ToArray();
        return Enumerable.Range(0, gold.Count).OrderByDescending(i => utility[i]).ToArray();
    }

    /// <summary>
    /// Chance that two labelers agree on a pair whose gold rewards differ by d: each orders it the gold way with
    /// p = Phi(|d| / (sigma * sqrt 2)), and they agree with p^2 + (1-p)^2. A gold tie is a coin flip (1/2).
    /// </summary>
    public static double ExpectedAgreement(IEnumerable<IReadOnlyList<double>> tasks, double sigma)
    {
        double sum = 0; long n = 0;
        foreach (var g in tasks)
            for (int i = 0; i < g.Count; i++)
                for (int j = i + 1; j < g.Count; j++)
                {
                    double d = Math.Abs(g[i] - g[j]);
                    double p = d == 0 ? 0.5 : sigma == 0 ? 1.0 : NormalCdf(d / (sigma * Math.Sqrt(2)));
                    sum += p * p + (1 - p) * (1 - p); n++;
                }
        return n == 0 ? double.NaN : sum / n;
    }

    /// <summary>The noise that gives <paramref name="target"/> agreement on these tasks (bisection; agreement falls as noise grows).
    /// Returns 0 when even noiseless labelers agree less than the target (too many gold ties).</summary>
    public static double CalibrateNoise(IReadOnlyList<IReadOnlyList<double>> tasks, double target = InstructGptAgreement)
    {
        if (ExpectedAgreement(tasks, 0) <= target) return 0;
        double lo = 0, hi = 1;
        while (ExpectedAgreement(tasks, hi) > target && hi < 1e4) hi *= 2;
        for (int it = 0; it < 60; it++)
        {
            double mid = (lo + hi) / 2;
            if (ExpectedAgreement(tasks, mid) > target) lo = mid; else hi = mid;
        }
        return (lo + hi) / 2;
    }

    /// <summary>Fraction of response pairs that two rankings (best first) of the same responses order the same way.</summary>
    public static (long agree, long pairs) PairAgreement(IReadOnlyList<int> a, IReadOnlyList<int> b)
    {
        var posA = Positions(a); var posB = Positions(b);
        long agree = 0, pairs = 0;
        for (int i = 0; i < a.Count; i++)
            for (int j = i + 1; j < a.Count; j++)
            {
                pairs++;
                if (posA[i] < posA[j] == posB[i] < posB[j]) agree++;
            }
        return (agree, pairs);
    }

    /// <summary>Each response's place in a ranking (best first): the inverse permutation, position[response] = rank.</summary>
    public static int[] Positions(IReadOnlyList<int> ranking)
    {
        var position = new int[ranking.Count];
        for (int rank = 0; rank < ranking.Count; rank++) position[ranking[rank]] = rank;
        return position;
    }

    /// <summary>A standard normal draw (Box–Muller).</summary>
    public static double Gaussian(Random r) => Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble());

    /// <summary>Standard normal CDF via erf (Abramowitz &amp; Stegun 7.1.26, |error| &lt; 1.5e-7).</summary>
    public static double NormalCdf(double x)
    {
        double z = Math.Abs(x) / Math.Sqrt(2), t = 1 / (1 + 0.3275911 * z);
        double erf = 1 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.Exp(-z * z);
        return 0.5 * (1 + (x >= 0 ? erf : -erf));
    }
}
