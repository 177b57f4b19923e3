using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Losses;

/// <summary>Result of <see cref="RewardModelObjective.PairwiseLoss(Tensor, Tensor, Tensor?)"/>. Metrics are detached scalars.</summary>
/// <param name="Loss">scalar, differentiable.</param>
/// <param name="Accuracy">fraction of pairs with s_w &gt; s_l (a tie counts as wrong).</param>
/// <param name="Margin">mean of s_w - s_l.</param>
public sealed record PairwiseLossOutput(Tensor Loss, Tensor Accuracy, Tensor Margin) : IDisposable
{
    /// <summary>Disposes every tensor of the result.</summary>
    public void Dispose() { Loss.Dispose(); Accuracy.Dispose(); Margin.Dispose(); }
}

/// <summary>Reward-model objective on human comparisons.</summary>
public static class RewardModelObjective
{
    /// <summary>
    /// Pairwise (Bradley–Terry) loss, InstructGPT (Ouyang et al. 2022) eq. 1:
    /// <code>
    ///   loss = -(1/B) Σ_b log σ(r(x, y_w) - r(x, y_l))
    /// </code>
    /// computed with <c>logsigmoid</c>, which is stable for any margin (log(sigmoid(·)) underflows to
    /// -Inf for margins below about -100 in float32). InstructGPT puts all C(K, 2) pairs of a prompt
    /// in one batch element and divides by C(K, 2): the weighted overload below does that.
    /// </summary>
    /// <param name="sChosen">[B] scores of the preferred responses, s_w.</param>
    /// <param name="sRejected">[B] scores of the other responses, s_l.</param>
    public static PairwiseLossOutput PairwiseLoss(Tensor sChosen, Tensor sRejected) => PairwiseLoss(sChosen, sRejected, null);

    /// <summary>
    /// The same loss with a weight per pair, <c>loss = -Σ_b w_b log σ(s_w - s_l)</c>. With ranking groups batched whole,
    /// <c>w = 1 / C(K_g, 2)</c> gives the sum over prompts of each prompt's mean over its C(K,2) comparisons; dividing by
    /// the number of prompts (the trainer does, over a whole optimizer step) is InstructGPT's eq. 1. Weights summing to 1
    /// give a weighted mean. Accuracy and margin stay plain means over pairs.
    /// </summary>
    /// <param name="sChosen">[B] scores of the preferred responses, s_w.</param>
    /// <param name="sRejected">[B] scores of the other responses, s_l.</param>
    /// <param name="weights">[B], or null for the plain mean.</param>
    public static PairwiseLossOutput PairwiseLoss(Tensor sChosen, Tensor sRejected, Tensor? weights)
    {
        using var scope = torch.NewDisposeScope();
        var margin = Masked.Up(sChosen) - Masked.Up(sRejected);               // [B]
        var logLik = torch.nn.functional.logsigmoid(margin);                  // [B]
        var loss = weights is null ? -logLik.mean() : -(logLik * weights.to_type(logLik.dtype)).sum();
        using var noGrad = torch.no_grad();
        var accuracy = margin.gt(0).to_type(margin.dtype).mean();
        var meanMargin = margin.detach().mean();
        return new PairwiseLossOutput(loss.MoveToOuterDisposeScope(), accuracy.MoveToOuterDisposeScope(), meanMargin.MoveToOuterDisposeScope());
    }
}
