using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Losses;

/// <summary>
/// Language-model cross-entropy, the objective of pretraining, SFT and the PPO-ptx term.
/// <code>
///   CE = -(1 / N) Σ_{b,t: mask=1} log p(targets[b,t] | x[b, ≤t]),   N = Σ mask
/// </code>
/// Targets are already shifted by the caller: <c>targets[b, t] = inputIds[b, t + 1]</c>, and the
/// position whose next token does not exist (the last one, and pads) is masked out.
/// SFT (InstructGPT §3.5; TRL SFTTrainer <c>completion_only_loss</c>) is the same loss with the mask
/// set on response tokens only; prompt positions then get exactly zero gradient.
/// </summary>
public static class LanguageModelObjective
{
    /// <summary>
    /// Mean NLL over counted tokens (scalar, differentiable). <paramref name="lossMask"/> null = every
    /// position counted. Targets at uncounted positions may hold any valid id (e.g. a pad id).
    /// </summary>
    /// <param name="logits">[B, T, V], any float dtype (computed in float32, float64 kept).</param>
    /// <param name="targets">[B, T] next-token ids.</param>
    /// <param name="lossMask">[B, T] bool or float, 1 = counted; or null.</param>
    public static Tensor LanguageModelLoss(Tensor logits, Tensor targets, Tensor? lossMask = null)
    {
        using var scope = torch.NewDisposeScope();
        var nll = -LogProbs.TokenLogProbs(logits, targets);                    // [B, T]
        var loss = lossMask is null ? nll.mean() : Masked.Mean(nll, lossMask);
        return loss.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Summed NLL and the number of counted tokens, for perplexity accumulated over batches
    /// (<c>ppl = exp(Σ sumNll / Σ count)</c>), or for a loss normalised by a token count taken over
    /// several gradient-accumulation micro-batches. <c>SumNll</c> is a differentiable scalar in the
    /// compute dtype; <c>Count</c> is an int64 scalar.
    /// </summary>
    public static (Tensor SumNll, Tensor Count) LanguageModelNllSum(Tensor logits, Tensor targets, Tensor? lossMask = null)
    {
        using var scope = torch.NewDisposeScope();
        var nll = -LogProbs.TokenLogProbs(logits, targets);                    // [B, T]
        Tensor sum, count;
        if (lossMask is null)
        {
            sum = nll.sum();
            count = torch.tensor(nll.numel(), ScalarType.Int64, device: nll.device);
        }
        else
        {
            sum = Masked.Sum(nll, lossMask);
            count = Masked.AsBool(lossMask).sum().to_type(ScalarType.Int64);
        }
        return (sum.MoveToOuterDisposeScope(), count.MoveToOuterDisposeScope());
    }
}
