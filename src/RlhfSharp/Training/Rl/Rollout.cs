using static TorchSharp.torch;

namespace RlhfSharp.Training.Rl;

/// <summary>
/// One sampled rollout batch scored without gradients, as every RL trainer needs it: the sequences, the sampled
/// response tokens and their mask, the policy's and the frozen reference's log-probs of those tokens (both at the
/// sampling temperature), and whether each response ended. Shapes: B rows, P = the common left-padded prompt length,
/// N = the longest response, C = the policy's hidden size. Owns its tensors.
/// </summary>
public sealed class Rollout : IDisposable
{
    /// <summary>[B,P+N] left-padded prompts followed by right-padded responses.</summary>
    public required Tensor Sequences { get; init; }
    /// <summary>[B,P+N] 1 on real tokens, 0 on padding.</summary>
    public required Tensor AttentionMask { get; init; }
    /// <summary>[B,N] sampled response ids, pad after the stop token.</summary>
    public required Tensor Responses { get; init; }
    /// <summary>[B,N] float32, 1 up to and including the stop token; every per-token mean is taken under it.</summary>
    public required Tensor ResponseMask { get; init; }
    /// <summary>[B,P+N,C] the policy's final hidden states at rollout time (PPO's shared-trunk value head reads them).</summary>
    public required Tensor PolicyHidden { get; init; }
    /// <summary>[B,N] log π_old of the sampled tokens: the policy at rollout time, re-scored at the sampling temperature.</summary>
    public required Tensor OldLogProbs { get; init; }
    /// <summary>[B,N] log π_ref of the same tokens under the frozen reference (SFT) model, on the policy's device.</summary>
    public required Tensor RefLogProbs { get; init; }
    /// <summary>[B] bool: the response emitted the stop id (false = it hit the length limit).</summary>
    public required Tensor Ended { get; init; }
    /// <summary>P: responses start at column P of <see cref="Sequences"/>.</summary>
    public required int PromptLength { get; init; }
    /// <summary>Host copy of each response's ids, cut after the stop token (kept).</summary>
    public required int[][] ResponseIds { get; init; }
    /// <summary>[B] each row's prompt, as an index into the trainer's prompt list.</summary>
    public required long[] PromptIndices { get; init; }

    /// <summary>Disposes every tensor.</summary>
    public void Dispose()
    {
        foreach (var t in new[] { Sequences, AttentionMask, Responses, ResponseMask, PolicyHidden, OldLogProbs, RefLogProbs, Ended })
            t.Dispose();
    }
}
