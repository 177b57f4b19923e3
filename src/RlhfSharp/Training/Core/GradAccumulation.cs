using static TorchSharp.torch;

namespace RlhfSharp.Training.Core;

/// <summary>
/// Gradient accumulation: <see cref="Steps"/> micro-batches make one optimizer step, and together they give the
/// gradient one big batch would:
/// <code>
///   g = Σ_k ∇ S_k / N,    S_k = Σ_{i in micro-batch k} ℓ_i (summed per-item loss),   N = Σ_k n_k (items in the step)
/// </code>
/// An item is what the loss averages over: a counted token for language-model losses (pretraining, SFT), a pair or a
/// ranking for DPO and the reward model. Each micro-batch's SUM is divided by the whole step's count, not its own mean
/// by <see cref="Steps"/>: averaging per-micro-batch means weighs the tokens of a short micro-batch up. This is HF
/// Trainer's rule since transformers 4.46 (<c>num_items_in_batch</c>: the items of all accumulated micro-batches are
/// counted before the first forward pass, and each loss sum is divided by that count).
/// </summary>
public sealed record GradAccumulation(int Steps = 1)
{
    /// <summary>Throws a <see cref="UserError"/> unless <see cref="Steps"/> &gt;= 1.</summary>
    public void Validate()
    {
        if (Steps < 1) throw new UserError($"gradient accumulation steps must be >= 1, got {Steps}");
    }

    /// <summary>The loss to call <c>backward()</c> on for one micro-batch: <c>S_k / N</c>.</summary>
    /// <param name="microBatchLossSum">S_k, the micro-batch's per-item losses summed (scalar).</param>
    /// <param name="stepItems">N, the items of every micro-batch of this optimizer step (an empty step counts as 1).</param>
    public static Tensor Scale(Tensor microBatchLossSum, long stepItems) => microBatchLossSum / Math.Max(1, stepItems);

    /// <summary>True after the last micro-batch of an optimizer step (micro-batch index is 0-based and global).</summary>
    public bool IsStepBoundary(long microBatchIndex) => (microBatchIndex + 1) % Steps == 0;

    /// <summary>Splits a global batch size into the micro-batch size, which must divide exactly.</summary>
    public int MicroBatchSize(int batchSize)
    {
        if (batchSize < 1 || batchSize % Steps != 0)
            throw new UserError($"batch size {batchSize} must be a positive multiple of gradient accumulation steps {Steps}");
        return batchSize / Steps;
    }
}
