using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Losses;

/// <summary>
/// Masked reductions. A mask is bool or float, same shape as the values, 1 (true) = counted.
/// Pads never enter a sum, mean or variance: they are replaced by 0 with <c>masked_fill</c>
/// before reducing (not multiplied by the mask), so an Inf/NaN sitting at a pad position cannot
/// turn a mean into NaN (0 * Inf = NaN), and its gradient there is exactly 0.
/// Sources: TRL <c>trl.core.masked_mean / masked_var / masked_whiten</c>.
/// </summary>
public static class Masked
{
    /// <summary>
    /// The dtype losses are computed in: float64 stays float64, everything else (bf16, fp16, float32)
    /// goes to float32, so log-softmax and losses never run in half precision (DESIGN: NaN in fp16).
    /// </summary>
    public static ScalarType ComputeType(Tensor x) =>
        x.dtype == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32;

    /// <summary>x in <see cref="ComputeType"/> (no copy when it already is).</summary>
    internal static Tensor Up(Tensor x) => x.to_type(ComputeType(x));

    /// <summary>The mask as bool (counted = true); accepts bool or any numeric mask (nonzero = counted).</summary>
    internal static Tensor AsBool(Tensor mask) =>
        mask.dtype == ScalarType.Bool ? mask.alias() : mask.ne(0);

    /// <summary>x with pads replaced by 0: <c>where(mask, x, 0)</c>.</summary>
    internal static Tensor Zeroed(Tensor x, Tensor boolMask) => x.masked_fill(boolMask.logical_not(), 0);

    /// <summary>Masked sum: <c>Σ_{mask} x</c> over <paramref name="dim"/> (all elements when null).</summary>
    public static Tensor Sum(Tensor x, Tensor mask, long? dim = null)
    {
        using var scope = torch.NewDisposeScope();
        var z = Zeroed(x, AsBool(mask));
        var s = dim is long d ? z.sum(d) : z.sum();
        return s.MoveToOuterDisposeScope();
    }

    /// <summary>Number of counted elements, in x's dtype (all, or along <paramref name="dim"/>).</summary>
    public static Tensor Count(Tensor mask, ScalarType dtype, long? dim = null)
    {
        using var scope = torch.NewDisposeScope();
        var m = AsBool(mask).to_type(dtype);
        var c = dim is long d ? m.sum(d) : m.sum();
        return c.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Masked mean: <c>Σ_{mask} x / Σ mask</c> over <paramref name="dim"/> (all elements when null).
    /// An empty selection gives 0 (the count is clamped to 1), not NaN, so a row without counted
    /// tokens contributes nothing instead of poisoning a whole batch.
    /// </summary>
    public static Tensor Mean(Tensor x, Tensor mask, long? dim = null)
    {
        using var scope = torch.NewDisposeScope();
        var sum = Sum(x, mask, dim);
        var count = Count(mask, x.dtype, dim).clamp_min(1);
        return (sum / count).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Masked variance over all counted elements: <c>Σ_{mask}(x - μ)² / (n - 1)</c> when
    /// <paramref name="unbiased"/> (Bessel's correction, as TRL's <c>masked_var(unbiased=True)</c>),
    /// else <c>/ n</c>. With fewer than 2 counted elements the variance is 0 (TRL raises instead;
    /// checking would cost a device-to-host sync on every call).
    /// </summary>
    public static Tensor Var(Tensor x, Tensor mask, bool unbiased = true)
    {
        using var scope = torch.NewDisposeScope();
        var mean = Mean(x, mask);
        var centred = x - mean;
        var biased = Mean(centred * centred, mask);
        if (!unbiased) return biased.MoveToOuterDisposeScope();
        var n = Count(mask, x.dtype);
        // n / (n - 1), with the denominator clamped so n <= 1 gives 0 * n = 0 rather than 0/0.
        return (biased * n / (n - 1).clamp_min(1)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Masked whitening, as TRL's <c>masked_whiten</c> (used for advantages, and for rewards with
    /// <c>shiftMean = false</c> as lm-human-preferences <c>whiten(rewards, shift_mean=False)</c>):
    /// <code>
    ///   μ = masked mean, σ² = masked unbiased variance,
    ///   w = (x - μ) / sqrt(σ² + 1e-8);   if !shiftMean: w += μ
    /// </code>
    /// Statistics come from counted elements only. Departure from TRL: pad positions of the result
    /// are 0 (TRL leaves whitened garbage there), so nothing downstream can read a pad value.
    /// </summary>
    public static Tensor Whiten(Tensor x, Tensor mask, bool shiftMean = true, double eps = 1e-8)
    {
        using var scope = torch.NewDisposeScope();
        var mean = Mean(x, mask);
        var variance = Var(x, mask, unbiased: true);
        var whitened = (x - mean) * torch.rsqrt(variance + eps);
        if (!shiftMean) whitened = whitened + mean;
        return Zeroed(whitened, AsBool(mask)).MoveToOuterDisposeScope();
    }
}
