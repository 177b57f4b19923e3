using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Losses;

/// <summary>Which preference loss <see cref="DpoObjective.DpoLoss"/> computes (TRL <c>loss_type</c>).</summary>
public enum DpoLossType
{
    /// <summary>DPO, Rafailov et al. 2023 eq. 7: <c>-log σ(β·h)</c> (TRL <c>"sigmoid"</c>).</summary>
    Sigmoid,
    /// <summary>IPO, Azar et al. 2023 (the sampled IPO loss): <c>(h - 1/(2β))²</c> (TRL <c>"ipo"</c>).</summary>
    Ipo,
}

/// <summary>Result of <see cref="DpoObjective.DpoLoss"/>. Only <c>Loss</c> carries a gradient.</summary>
/// <param name="Loss">scalar, mean over pairs.</param>
/// <param name="ChosenRewards">[B] implicit rewards β·(log π(y_w) - log π_ref(y_w)).</param>
/// <param name="RejectedRewards">[B] implicit rewards β·(log π(y_l) - log π_ref(y_l)).</param>
/// <param name="Accuracy">fraction of pairs with chosen reward &gt; rejected reward.</param>
/// <param name="Margin">mean of chosen - rejected reward.</param>
public sealed record DpoLossOutput(Tensor Loss, Tensor ChosenRewards, Tensor RejectedRewards, Tensor Accuracy, Tensor Margin) : IDisposable
{
    /// <summary>Disposes every tensor of the result.</summary>
    public void Dispose() { Loss.Dispose(); ChosenRewards.Dispose(); RejectedRewards.Dispose(); Accuracy.Dispose(); Margin.Dispose(); }
}

/// <summary>Direct preference optimisation objectives.</summary>
public static class DpoObjective
{
    /// <summary>
    /// DPO / IPO loss on sequence log-probabilities (<see cref="LogProbs.SequenceLogProbs"/>):
    /// <code>
    ///   h = (log π(y_w) - log π(y_l)) - (log π_ref(y_w) - log π_ref(y_l))
    ///   DPO: loss = mean_b [ -(1-ε)·log σ(β·h) - ε·log σ(-β·h) ]     (Rafailov et al. 2023 eq. 7;
    ///                                                              ε = label smoothing, cDPO, as TRL)
    ///   IPO: loss = mean_b (h - 1/(2β))²                            (Azar et al. 2023, sampled IPO loss; as TRL)
    /// </code>
    /// β = 0.1 (TRL <c>DPOConfig.beta</c>; Rafailov et al. use 0.1 for most experiments). For IPO, TRL
    /// passes per-token AVERAGE log-probs (<c>SequenceLogProbs(average: true)</c>); DPO uses sums.
    /// The reference log-probs are detached here. Implicit rewards β·(log π - log π_ref) are as TRL
    /// logs them (<c>rewards/chosen</c>, <c>rewards/accuracies</c>, <c>rewards/margins</c>).
    /// </summary>
    /// <param name="policyChosenLogp">[B] log π(y_w | x), with grad.</param>
    /// <param name="policyRejectedLogp">[B] log π(y_l | x), with grad.</param>
    /// <param name="refChosenLogp">[B] log π_ref(y_w | x).</param>
    /// <param name="refRejectedLogp">[B] log π_ref(y_l | x).</param>
    /// <param name="beta">β, &gt; 0 (default 0.1).</param>
    /// <param name="type">DPO (sigmoid) or IPO.</param>
    /// <param name="labelSmoothing">ε of cDPO, in [0, 0.5) (default 0: plain DPO); used by the sigmoid loss.</param>
    public static DpoLossOutput DpoLoss(
        Tensor policyChosenLogp, Tensor policyRejectedLogp, Tensor refChosenLogp, Tensor refRejectedLogp,
        double beta = 0.1, DpoLossType type = DpoLossType.Sigmoid, double labelSmoothing = 0.0)
    {
        if (!(beta > 0)) throw new ArgumentOutOfRangeException(nameof(beta), beta, "beta must be > 0.");
        if (!(labelSmoothing >= 0 && labelSmoothing < 0.5))
            throw new ArgumentOutOfRangeException(nameof(labelSmoothing), labelSmoothing, "label smoothing must be in [0, 0.5).");
        using var scope = torch.NewDisposeScope();
        var dtype = Masked.ComputeType(policyChosenLogp);
        var piW = policyChosenLogp.to_type(dtype);                            // [B]
        var piL = policyRejectedLogp.to_type(dtype);
        var refW = refChosenLogp.to_type(dtype).detach();
        var refL = refRejectedLogp.to_type(dtype).detach();
        var h = (piW - piL) - (refW - refL);                                  // [B]

        Tensor perPair = type switch
        {
            DpoLossType.Sigmoid => labelSmoothing == 0
                ? -torch.nn.functional.logsigmoid(beta * h)
                : -(1 - labelSmoothing) * torch.nn.functional.logsigmoid(beta * h)
                  - labelSmoothing * torch.nn.functional.logsigmoid(-beta * h),
            DpoLossType.Ipo => (h - 1.0 / (2.0 * beta)).square(),
            _ => throw new ArgumentOutOfRangeException(nameof(type)),
        };
        var loss = perPair.mean();

        using var noGrad = torch.no_grad();
        var chosenRewards = beta * (piW.detach() - refW);                      // [B]
        var rejectedRewards = beta * (piL.detach() - refL);                    // [B]
        var accuracy = chosenRewards.gt(rejectedRewards).to_type(dtype).mean();
        var margin = (chosenRewards - rejectedRewards).mean();
        return new DpoLossOutput(loss.MoveToOuterDisposeScope(), chosenRewards.MoveToOuterDisposeScope(),
            rejectedRewards.MoveToOuterDisposeScope(), accuracy.MoveToOuterDisposeScope(), margin.MoveToOuterDisposeScope());
    }
}
