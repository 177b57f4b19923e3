using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Losses;

/// <summary>Double-array helpers: the references in these tests are naive loops over double[],
/// never the tensor code under test.</summary>
internal static class LossTestUtil
{
    /// <summary>n uniform values in [-scale, scale), rounded to float32 so the float32 tensor and the
    /// double reference see the same inputs. SplitMix64, not System.Random: seeded System.Random
    /// gives strongly correlated streams for neighbouring seeds (near-ties between "independent" inputs).</summary>
    public static double[] Rand(int seed, int n, double scale = 1.0)
    {
        ulong state = (ulong)seed * 0x9E3779B97F4A7C15UL;
        var a = new double[n];
        for (int i = 0; i < n; i++) a[i] = (float)((Unit(ref state) * 2 - 1) * scale);
        return a;
    }

    public static long[] RandIds(int seed, int n, int vocab)
    {
        ulong state = (ulong)seed * 0x9E3779B97F4A7C15UL + 1;
        var a = new long[n];
        for (int i = 0; i < n; i++) a[i] = (long)(Unit(ref state) * vocab);
        return a;
    }

    /// <summary>SplitMix64 step → uniform double in [0, 1).</summary>
    static double Unit(ref ulong state)
    {
        ulong z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (z >> 11) * (1.0 / (1UL << 53));
    }

    public static Tensor T(double[] data, long[] shape, ScalarType dtype = ScalarType.Float32) =>
        torch.tensor(data, shape).to_type(dtype);

    public static Tensor Ids(long[] data, long[] shape) => torch.tensor(data, shape);

    /// <summary>A [B, T] float mask from rows of 0/1.</summary>
    public static Tensor Mask(int[][] rows, out double[] flat)
    {
        int b = rows.Length, t = rows[0].Length;
        flat = new double[b * t];
        for (int i = 0; i < b; i++) for (int j = 0; j < t; j++) flat[i * t + j] = rows[i][j];
        return torch.tensor(flat, new long[] { b, t }).to_type(ScalarType.Float32);
    }

    public static double[] D(Tensor t)
    {
        using var c = t.detach().cpu().to_type(ScalarType.Float64).contiguous();
        return c.data<double>().ToArray();
    }

    public static double S(Tensor t) => D(t).Single();

    public static void Close(double expected, double actual, double tol = 1e-5, string what = "")
    {
        double scale = Math.Max(1.0, Math.Abs(expected));
        Assert.True(Math.Abs(expected - actual) <= tol * scale,
            $"{what}: expected {expected:R}, got {actual:R} (tol {tol})");
    }

    public static void Close(double[] expected, double[] actual, double tol = 1e-5, string what = "")
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Close(expected[i], actual[i], tol, $"{what}[{i}]");
    }

    /// <summary>log Σ exp(z_v / temperature) and log-softmax over one row of logits, in double.</summary>
    public static double[] LogSoftmax(double[] logits, int offset, int v, double temperature = 1.0)
    {
        double max = double.NegativeInfinity;
        for (int k = 0; k < v; k++) max = Math.Max(max, logits[offset + k] / temperature);
        double s = 0;
        for (int k = 0; k < v; k++) s += Math.Exp(logits[offset + k] / temperature - max);
        double lse = max + Math.Log(s);
        var r = new double[v];
        for (int k = 0; k < v; k++) r[k] = logits[offset + k] / temperature - lse;
        return r;
    }

    public static double LogSigmoid(double x) => x >= 0 ? -Math.Log(1 + Math.Exp(-x)) : x - Math.Log(1 + Math.Exp(x));
    public static double Sigmoid(double x) => 1.0 / (1.0 + Math.Exp(-x));

    /// <summary>Rows with pads in different places: right pad, full, left+right pad (a middle-of-batch
    /// row), a pad hole in the middle, and an empty row.</summary>
    public static readonly int[][] MixedMask =
    {
        new[] { 1, 1, 1, 0, 0, 0 },
        new[] { 1, 1, 1, 1, 1, 1 },
        new[] { 0, 0, 1, 1, 1, 0 },
        new[] { 1, 1, 0, 0, 1, 1 },
        new[] { 0, 0, 0, 0, 0, 0 },
    };
}
