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
    /// <remarks>
    /// An all-ones <paramref name="mask"/> (an unpadded batch) is treated as no mask, so it takes SDPA's
    /// <c>is_causal</c> path without an explicit bias, where flash attention can run on a GPU; a padded batch keeps
    /// the explicit mask. Telling the two apart reads one flag from the device (on a GPU, a sync) once per forward;
    /// single-token decode steps (T = 1 after a cache) skip the check and keep the mask as given, so a generation
    /// loop has no host sync per token (the sampler passes no mask at all when its prompts are unpadded).
    /// </remarks>
    public static AttentionInputs Build(Tensor? mask, int past, long B, int T, int? slidingWindow, ScalarType dtype, Device device)
    {
        CheckMaskShape(mask, past, B, T);
        bool decodeStep = T == 1 && past > 0;
        if (mask is not null && !decodeStep && AllOnes(mask)) mask = null;   // unpadded: cumsum - 1 = past .. S-1 as below
        bool windowed = slidingWindow is int w && w < past + T;
        if (mask is null && !windowed)
        {
            var positions = torch.arange(past, past + T, dtype: ScalarType.Int64, device: device).unsqueeze(0).expand(B, T);
            if (past == 0) return new(positions, null, true, past);   // plain causal: SDPA's fast path (flash on GPU)
            if (T == 1) return new(positions, null, false, past);     // one new token sees the whole cache
        }
        return BuildMasked(mask, past, B, T, slidingWindow, dtype, device);
    }

    /// <summary>
    /// The explicit-mask path: always an additive bias [B or 1,1,T,S] and <see cref="IsCausal"/> false. <see cref="Build"/>
    /// uses it for padded batches, windowed attention and several new tokens after a cache (SDPA's <c>is_causal</c>
    /// aligns its triangle to the top-left, which is wrong when T &lt; S); tests and benchmarks use it to compare the
    /// fast path against the masked one.
    /// </summary>
    public static AttentionInputs BuildMasked(Tensor? mask, int past, long B, int T, int? slidingWindow, ScalarType dtype, Device device)
    {
        CheckMaskShape(mask, past, B, T);
        int S = past + T;
        Tensor positions = mask is null
            ? torch.arange(past, S, dtype: ScalarType.Int64, device: device).unsqueeze(0).expand(B, T)
            : (mask.to(ScalarType.Int64).cumsum(1) - 1).clamp_min(0).narrow(1, past, T);
        bool windowed = slidingWindow is int w && w < S;
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

    static void CheckMaskShape(Tensor? mask, int past, long B, int T)
    {
        int S = past + T;
        if (mask is not null && (mask.dim() != 2 || mask.shape[0] != B || mask.shape[1] != S))
            throw new ArgumentException($"attention mask must be [B={B}, S={S}] (cache {past} + new {T}), got [{string.Join(",", mask.shape)}]");
    }

    // One flag read back from the mask's device: on CPU a reduction, on a GPU also a sync (see Build's remarks).
    static bool AllOnes(Tensor mask)
    {
        using var scope = torch.NewDisposeScope();
        return mask.ne(0).all().item<bool>();
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
