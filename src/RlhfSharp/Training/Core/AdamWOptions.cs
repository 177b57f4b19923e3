namespace RlhfSharp.Training.Core;

/// <summary>
/// Hyper-parameters of <see cref="AdamW"/>. Defaults are PyTorch's <c>torch.optim.AdamW</c>
/// (lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 1e-2). nanoGPT trains with weight decay 0.1
/// and beta2 0.95; phase configs pick their own values and cite them.
/// </summary>
public sealed record AdamWOptions
{
    /// <summary>Initial learning rate; <see cref="AdamW.Lr"/> may be changed every step (a schedule).</summary>
    public double Lr { get; init; } = 1e-3;
    /// <summary>Decay of the first-moment (mean) estimate (PyTorch default 0.9).</summary>
    public double Beta1 { get; init; } = 0.9;
    /// <summary>Decay of the second-moment estimate (PyTorch default 0.999).</summary>
    public double Beta2 { get; init; } = 0.999;
    /// <summary>Added to the denominator for stability (PyTorch default 1e-8).</summary>
    public double Eps { get; init; } = 1e-8;

    /// <summary>Decoupled weight decay (Loshchilov &amp; Hutter 2019), applied only to the decay group.</summary>
    public double WeightDecay { get; init; } = 1e-2;

    /// <summary>
    /// Mixed precision (Micikevicius et al. 2018): for bf16/fp16 parameters, keep a float32 master copy and float32
    /// moments, update those, and write the rounded result back into the half-precision weights. Without it a half
    /// weight takes the update in its own precision, and steps below half an ulp (lr 1e-5 on a weight of 1: bf16's ulp
    /// there is 2^-7) are lost. No effect on float32 parameters. Default off (PyTorch's AdamW on half parameters).
    /// </summary>
    public bool MasterWeights { get; init; }

    /// <summary>Throws a <see cref="UserError"/> naming the first value out of range.</summary>
    public void Validate()
    {
        if (!(Lr >= 0) || double.IsInfinity(Lr)) throw new UserError($"optimizer: lr must be a finite number >= 0, got {Lr}");
        if (!(Beta1 >= 0 && Beta1 < 1)) throw new UserError($"optimizer: beta1 must be in [0, 1), got {Beta1}");
        if (!(Beta2 >= 0 && Beta2 < 1)) throw new UserError($"optimizer: beta2 must be in [0, 1), got {Beta2}");
        if (!(Eps > 0)) throw new UserError($"optimizer: eps must be > 0, got {Eps}");
        if (!(WeightDecay >= 0)) throw new UserError($"optimizer: weight_decay must be >= 0, got {WeightDecay}");
    }
}
