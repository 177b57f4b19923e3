using RlhfSharp.Training.Rl;
using static TorchSharp.torch;

namespace RlhfSharp.Training.CriticFree;

/// <summary>
/// One rollout of a critic-free method, everything its update needs, computed without gradients: the sampled
/// <see cref="Rl.Rollout"/> and what the method derives from it. B = prompts × G rows, the G answers to one prompt next
/// to each other; per-token tensors cover the response only (N columns).
/// </summary>
public sealed class CriticFreeBatch : IDisposable
{
    /// <summary>The sampled sequences, their masks, log π_old and log π_ref, the stop flags and the prompt of each row.</summary>
    public required Rollout Rollout { get; init; }
    /// <summary>[B] the weighted sum of the reward terms, after the missing-EOS penalty.</summary>
    public required Tensor Scores { get; init; }
    /// <summary>[B] per reward term, its unweighted score (the order of the trainer's terms).</summary>
    public required IReadOnlyList<Tensor> TermScores { get; init; }
    /// <summary>[B] Σ_t (log π_old − log π_ref) over each response: the k1 KL of the sequence.</summary>
    public required Tensor SequenceKl { get; init; }
    /// <summary>[B] what the advantages are computed from: the score, minus β·KL for RLOO.</summary>
    public required Tensor Rewards { get; init; }
    /// <summary>[B] one advantage per response.</summary>
    public required Tensor Advantages { get; init; }

    /// <summary>Disposes every tensor of the batch, the rollout's included.</summary>
    public void Dispose()
    {
        Rollout.Dispose();
        foreach (var t in new[] { Scores, SequenceKl, Rewards, Advantages }.Concat(TermScores))
            t.Dispose();
    }
}
