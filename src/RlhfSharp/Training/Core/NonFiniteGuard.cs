using static TorchSharp.torch;

namespace RlhfSharp.Training.Core;

/// <summary>A loss, gradient norm or other training scalar became NaN or infinite.</summary>
public sealed class NonFiniteError(long step, IReadOnlyList<string> names, string message) : UserError(message)
{
    /// <summary>The optimizer step at which it happened.</summary>
    public long Step { get; } = step;
    /// <summary>Names of the values that were not finite.</summary>
    public IReadOnlyList<string> Names { get; } = names;
}

/// <summary>
/// Stops training at the first NaN/Inf with the step and the culprit named, instead of silently
/// training on garbage (DESIGN.md: "NaN/Inf caught with the step named"). All values are checked with
/// one host sync.
/// </summary>
public static class NonFiniteGuard
{
    /// <summary>What to try next, appended to the error message.</summary>
    public const string Hint = "lower the learning rate, keep gradient clipping on, compute losses in float32, " +
                               "or resume from the last checkpoint";

    /// <summary>Throws <see cref="NonFiniteError"/> if any named tensor holds a NaN or Inf.</summary>
    public static void Check(long step, params (string Name, Tensor Value)[] values)
    {
        if (values.Length == 0) return;
        using var scope = NewDisposeScope();
        // One flag per value, pulled to the host together.
        var dev = values[0].Value.device;
        var flags = stack(values.Select(v => v.Value.isfinite().all().to(dev)).ToArray()).cpu().data<bool>().ToArray();
        if (flags.All(f => f)) return;

        var bad = values.Where((_, i) => !flags[i]).ToList();
        string Describe((string Name, Tensor Value) v) =>
            v.Value.numel() == 1 ? $"{v.Name}={v.Value.to(ScalarType.Float64).cpu().item<double>()}" : $"{v.Name} ({v.Value.isnan().sum().item<long>()} NaN of {v.Value.numel()})";
        throw new NonFiniteError(step, bad.Select(b => b.Name).ToList(),
            $"step {step}: non-finite {string.Join(", ", bad.Select(Describe))}; hint: {Hint}");
    }

    /// <summary>Convenience for the common pair.</summary>
    public static void Check(long step, Tensor loss, Tensor gradNorm) => Check(step, ("loss", loss), ("grad_norm", gradNorm));
}
