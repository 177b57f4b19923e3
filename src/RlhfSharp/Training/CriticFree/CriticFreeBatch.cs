using static TorchSharp.torch;

namespace RlhfSharp.Training.CriticFree;

/// <summary>
/// One rollout of a critic-free method, everything its update needs, computed without gradients. B = prompts × G rows,
/// the G answers to one prompt next to each other; per-token tensors cover the response only (N columns).
/// </summary>
public sealed class CriticFreeBatch : IDisposable
{
    /// <summary>[B,P+N] left-padded prompts followed by right-padded responses.</summary>
    public required Tensor Sequences { get; init; }
    /// <summary>[B,P+N] 1 on real tokens, 0 on padding.</summary>
    public required Tensor AttentionMask { get; init; }
    /// <summary>[B,N] sampled response ids, pad after the stop token.</summary>
    public required Tensor Responses { get; init; }
    /// <summary>[B,N] float, 1 up to and including the stop token.</summary>
    public required Tensor ResponseMask { get; init; }
    /// <summary>[B,N] log π_old of the sampled tokens at rollout time.</summary>
    public required Tensor OldLogProbs { get; init; }
    /// <summary>[B,N] log π_ref of the same tokens.</summary>
    public required Tensor RefLogProbs { get; init; }
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
    /// <summary>[B] bool: the response emitted the stop id.</summary>
    public required Tensor Ended { get; init; }
    /// <summary>P, the common left-padded prompt length; responses start at column P.</summary>
    public required int PromptLength { get; init; }
    /// <summary>[B] each row's prompt index in the trainer's prompt list.</summary>
    public required long[] PromptIndices { get; init; }

    /// <summary>Disposes every tensor of the batch.</summary>
    public void Dispose()
    {
        foreach (var t in new[] { Sequences, AttentionMask, Responses, ResponseMask, OldLogProbs, RefLogProbs, Scores, SequenceKl, Rewards, Advantages, Ended }.Concat(TermScores))
            t.Dispose();
    }
}
