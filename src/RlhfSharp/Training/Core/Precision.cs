using RlhfSharp.Configuration;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Core;

/// <summary>
/// The <c>dtype</c> setting of the trainers: fp32, or bf16 mixed precision (Micikevicius et al. 2018, with bfloat16 as
/// in Kalamkar et al. 2019): weights and activations in bf16, float32 master weights and AdamW moments
/// (<see cref="AdamWOptions.MasterWeights"/>), and everything that sums many terms in float32 (logits before
/// log-softmax, losses, reductions, value outputs; the models cast there). LoRA adapters stay float32.
/// </summary>
public static class Precision
{
    /// <summary>Full float32.</summary>
    public const string Fp32 = "fp32";
    /// <summary>bf16 weights and activations with float32 master weights.</summary>
    public const string Bf16 = "bf16";

    /// <summary>The help text of every <c>dtype</c> setting.</summary>
    public const string Help = "fp32, or bf16: bf16 weights and activations, float32 master weights and AdamW state, log-softmax, losses and reductions in float32. Checkpoints are bf16 plus the float32 master in the optimizer state.";

    /// <summary>The rule of every <c>dtype</c> setting.</summary>
    public static Func<string, string?> Rule => Rules.OneOf(Fp32, Bf16);

    /// <summary>The weights' dtype for a setting value (checked by <see cref="Rule"/> first).</summary>
    public static ScalarType Parse(string dtype) => dtype == Bf16 ? ScalarType.BFloat16 : ScalarType.Float32;
}
