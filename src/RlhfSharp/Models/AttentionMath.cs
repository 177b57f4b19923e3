using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Models;

/// <summary>
/// What every attention layer of one forward shares: position ids and the additive attention bias.
/// Dimensions: B batch, T new tokens, S = cache length + T, H query heads, Hkv key/value heads, D head dim.
/// </summary>
public sealed record AttentionInputs(Tensor Positions, Tensor? Bias, bool IsCausal, int PastLength)
{
    /// <summary>
    /// positions [B,T]: cumsum(mask) - 1 clamped at 0, so a left-padded row numbers its real tokens 0,1,2,...
    /// like an unpadded row (HF generate does the same). Without a mask: past .. past+T-1.
    /// bias [B,1,T,S] (additive, in <paramref name="dtype"/>) or null when SDPA's own causal flag suffices.
    /// </summary>
    public static AttentionInputs Build(Tensor? mask, int past, long B, int T, int? slidingWindow, ScalarType dtype, Device device)
    {
        int S = past + T;
        if (mask is not null && (mask.dim() != 2 || mask.shape[0] != B || mask.shape[1] != S))
            throw new ArgumentException($"attention mask must be [B={B}, S={S}] (cache {past} + new {T}), got [{string.Join(",", mask.shape)}]");
        Tensor positions = mask is null
            ? torch.arange(past, S, dtype: ScalarType.Int64, device: device).unsqueeze(0).expand(B, T)
            : (mask.to(ScalarType.Int64).cumsum(1) - 1).clamp_min(0).narrow(1, past, T);

        bool windowed = slidingWindow is int w && w < S;
        if (mask is null && !windowed)
        {
            if (past == 0) return new(positions, null, true, past);   // plain causal: SDPA's fast path
            if (T == 1) return new(positions, null, false, past);     // one new token sees the whole cache
        }
        var q = torch.arange(past, S, dtype: ScalarType.Int64, device: device).unsqueeze(1);   // [T,1] absolute query index
        var k = torch.arange(0, S, dtype: ScalarType.Int64, device: device).unsqueeze(0);      // [1,S] key index
        var allowed = k <= q;                                                                   // [T,S] causal
        // Mistral: a query sees keys with q - k < window (HF's sliding-window mask).
        if (windowed) allowed = allowed.logical_and((q - k) < slidingWindow!.Value);
        allowed = mask is null
            ? allowed.unsqueeze(0).unsqueeze(0)                                                 // [1,1,T,S]
            : allowed.unsqueeze(0).logical_and(mask.to(ScalarType.Bool).unsqueeze(1)).unsqueeze(1); // [B,1,T,S]
        // A finite large negative rather than -inf: a pad query with no visible key gets a uniform softmax, not NaN.
        var min = torch.finfo(dtype).min;
        var bias = torch.zeros(allowed.shape, dtype: dtype, device: device).masked_fill(allowed.logical_not(), min);
        return new(positions, bias, false, past);
    }
}

/// <summary>The attention kernel every layer calls: SDPA with grouped-query expansion.</summary>
public static class AttentionMath
{
    /// <summary>
    /// Scaled dot-product attention with grouped-query heads: q [B,H,T,D], k/v [B,Hkv,S,D] -> [B,H,T,D].
    /// Scale 1/sqrt(D) (GPT-2 with scale_attn_weights, Llama).
    /// </summary>
    public static Tensor Attend(Tensor q, Tensor k, Tensor v, AttentionInputs attention)
    {
        long H = q.shape[1], Hkv = k.shape[1];
        if (H != Hkv)
        {
            // GQA: each kv head serves H/Hkv consecutive query heads (HF repeat_kv).
            k = k.repeat_interleave(H / Hkv, dim: 1);
            v = v.repeat_interleave(H / Hkv, dim: 1);
        }
        return torch.nn.functional.scaled_dot_product_attention(q, k, v, attention.Bias, 0.0, attention.IsCausal);
    }
}
