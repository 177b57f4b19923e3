using static TorchSharp.torch;

namespace RlhfSharp.Training.Core;

/// <summary>
/// Gradient accumulation: <see cref="Steps"/> micro-batches make one optimizer step. Each micro-batch loss
/// is scaled by 1/Steps so the summed gradient equals the gradient of the mean loss over the whole
/// batch (as in nanoGPT's <c>loss = loss / gradient_accumulation_steps</c>).
/// </summary>
public sealed record GradAccumulation(int Steps = 1)
{
    public void Validate()
    {
        if (Steps < 1) throw new UserError($"gradient accumulation steps must be >= 1, got {Steps}");
    }

    /// <summary>The loss to call <c>backward()</c> on for one micro-batch.</summary>
    public Tensor Scale(Tensor microBatchLoss) => Steps == 1 ? microBatchLoss : microBatchLoss / Steps;

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
