namespace RlhfSharp.Evaluation;

/// <summary>A point estimate with its 95% confidence interval.</summary>
public readonly record struct Estimate(double Value, double Lo, double Hi, int N)
{
    /// <summary><c>value [lo, hi]</c> to three decimals.</summary>
    public override string ToString() => $"{Value:F3} [{Lo:F3}, {Hi:F3}]";

    /// <summary>The interval clipped to [<paramref name="min"/>, <paramref name="max"/>], the range the quantity lives in
    /// (a normal-approximation interval can reach past it).</summary>
    public Estimate Within(double min, double max) => this with { Lo = Math.Max(min, Lo), Hi = Math.Min(max, Hi) };
}

/// <summary>Confidence intervals for evaluation figures (means and rates).</summary>
public static class Statistics
{
    /// <summary>Mean with a normal-approximation 95% interval (mean ± 1.96·s/√n, s the sample std).</summary>
    public static Estimate Mean(IReadOnlyList<double> xs)
    {
        int n = xs.Count;
        if (n == 0) return new(double.NaN, double.NaN, double.NaN, 0);
        double m = xs.Average();
        if (n == 1) return new(m, m, m, 1);
        double s = Math.Sqrt(xs.Sum(x => (x - m) * (x - m)) / (n - 1));
        double h = 1.96 * s / Math.Sqrt(n);
        return new(m, m - h, m + h, n);
    }

    /// <summary>A rate with the Wilson score 95% interval, which stays inside [0, 1] and behaves at 0 and 1.</summary>
    public static Estimate Rate(int successes, int n)
    {
        if (n == 0) return new(double.NaN, double.NaN, double.NaN, 0);
        const double z = 1.96;
        double p = (double)successes / n, z2 = z * z;
        double centre = (p + z2 / (2 * n)) / (1 + z2 / n);
        double half = z * Math.Sqrt(p * (1 - p) / n + z2 / (4.0 * n * n)) / (1 + z2 / n);
        return new(p, Math.Max(0, centre - half), Math.Min(1, centre + half), n);
    }

    /// <summary>The Wilson score 95% interval of a rate whose success count may be fractional (a tie counted as half a
    /// success); equals <see cref="Rate(int, int)"/> for whole counts.</summary>
    public static Estimate Rate(double successes, int n)
    {
        if (n == 0) return new(double.NaN, double.NaN, double.NaN, 0);
        const double z = 1.96;
        double p = successes / n, z2 = z * z;
        double centre = (p + z2 / (2 * n)) / (1 + z2 / n);
        double half = z * Math.Sqrt(p * (1 - p) / n + z2 / (4.0 * n * n)) / (1 + z2 / n);
        return new(p, Math.Max(0, centre - half), Math.Min(1, centre + half), n);
    }
}
