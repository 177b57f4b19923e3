using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RlhfSharp.Models.Lora;

/// <summary>
/// LoRA (Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language Models"): a frozen weight W0 plus a trainable
/// low-rank update, h = W0 x + (alpha / r) B A x, with A [r, in] and B [out, r]. A starts random and B at zero, so the
/// update is zero at the start and training begins from the base model (§4.1). Dropout, when set, applies to the
/// adapter's input only. A and B are stored as nn.Linear weights ([r, in] and [out, r]) whatever the base layout,
/// which is how PEFT stores <c>lora_A.weight</c> and <c>lora_B.weight</c>, for GPT-2's Conv1D as well.
/// </summary>
public sealed class LowRankAdapter : nn.Module
{
    /// <summary>Down projection A [r, in].</summary>
    public readonly Parameter lora_A;   // [r, in]
    /// <summary>Up projection B [out, r], zero at creation.</summary>
    public readonly Parameter lora_B;   // [out, r]

    /// <summary>The factor alpha / r (or alpha / sqrt(r) for rsLoRA) applied to B A x.</summary>
    public double Scaling { get; }
    /// <summary>Dropout probability on the adapter's input (training only).</summary>
    public double Dropout { get; }
    /// <summary>False switches the adapter off: the projection then computes its base weights only.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>A [<paramref name="rank"/>, in] drawn as nn.Linear's default (kaiming-uniform, a = sqrt(5); PEFT's
    /// default init), B [out, rank] zero; created on <paramref name="device"/> in <paramref name="dtype"/>.</summary>
    public LowRankAdapter(long inFeatures, long outFeatures, int rank, double scaling, double dropout, ScalarType dtype, Device device)
        : base(nameof(LowRankAdapter))
    {
        if (rank < 1) throw new ArgumentOutOfRangeException(nameof(rank), $"LoRA rank must be >= 1, got {rank}");
        // Drawn in float32 on the CPU generator, so a seed gives the same A in every dtype and on every device.
        using (var a = torch.empty(rank, inFeatures, dtype: ScalarType.Float32))
        {
            nn.init.kaiming_uniform_(a, a: Math.Sqrt(5));
            lora_A = new Parameter(a.to(dtype, device));
        }
        lora_B = new Parameter(torch.zeros(outFeatures, rank, dtype: dtype, device: device));
        Scaling = scaling;
        Dropout = dropout;
        RegisterComponents();
    }

    /// <summary>Rank r.</summary>
    public long Rank => lora_A.shape[0];

    /// <summary>x [..., in] -> scaling * B A dropout(x) [..., out], in x's dtype.</summary>
    public Tensor Delta(Tensor x, bool training)
    {
        var input = training && Dropout > 0 ? nn.functional.dropout(x, Dropout, training: true) : x;
        var down = nn.functional.linear(input.to(lora_A.dtype), lora_A);                 // [..., r]
        return (nn.functional.linear(down, lora_B) * Scaling).to(x.dtype);               // [..., out]
    }

    /// <summary>The dense update scaling * B A [out, in] (float64 when the adapter is float64).</summary>
    public Tensor DeltaWeight() => lora_B.matmul(lora_A) * Scaling;                      // [out, r] @ [r, in]
}
