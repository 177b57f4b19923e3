using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Losses;

/// <summary>
/// Log-probabilities of response tokens from a causal LM's final hidden states, without the prompt's logits: at a
/// 50k vocabulary a full [B,T,V] float32 tensor is most of PPO's memory, and only the N response positions are used.
/// Pure tensor functions, so PPO and evaluation (KL of samples to a reference) score responses the same way.
/// Shapes: B rows, T = P + N positions, C hidden, V vocabulary.
/// </summary>
public static class ResponseLogProbs
{
    /// <summary>hidden [B,T,C] → float32 (float64 for a float64 model) logits of positions P-1 .. T-2, the ones that predict
    /// the N response tokens → [B,N,V].</summary>
    public static Tensor Logits(Tensor hidden, Tensor lmHead, int promptLength) =>
        AtLeastFloat32(nn.functional.linear(hidden[.., (promptLength - 1)..^1], lmHead));

    // bf16/fp16 logits widen to float32 for log-softmax; float32 and float64 stay as they are.
    static Tensor AtLeastFloat32(Tensor t) => t.dtype is ScalarType.BFloat16 or ScalarType.Float16 ? t.to(ScalarType.Float32) : t;

    /// <summary>
    /// Response-token log-probs [B,N] with the head and log-softmax run <paramref name="rowsPerChunk"/> rows at a time,
    /// so at most [rowsPerChunk,N,V] logits exist at once. For scoring without gradients (PPO rollouts).
    /// </summary>
    public static Tensor Chunked(Tensor hidden, Tensor lmHead, int promptLength, Tensor responses, double temperature, int rowsPerChunk = 8)
    {
        using var scope = NewDisposeScope();
        var parts = new List<Tensor>();
        for (long r = 0; r < hidden.shape[0]; r += rowsPerChunk)
        {
            long n = Math.Min(rowsPerChunk, hidden.shape[0] - r);
            using var chunk = NewDisposeScope();
            var logits = Logits(hidden.narrow(0, r, n), lmHead, promptLength);                 // [n,N,V]
            parts.Add(LogProbs.TokenLogProbs(logits, responses.narrow(0, r, n), temperature).MoveToOuterDisposeScope());
        }
        return cat(parts, 0).MoveToOuterDisposeScope();                                        // [B,N]
    }
}
