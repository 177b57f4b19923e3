using static TorchSharp.torch;

namespace RlhfSharp.Training.Supervised;

/// <summary>
/// A right-padded causal-LM batch. <see cref="Targets"/>[b,t] = <see cref="InputIds"/>[b,t+1]; <see cref="LossMask"/>[b,t]
/// is 1 where that next token is a trained token (SFT: assistant tokens; DPO: the response) and 0 at prompt tokens,
/// the last position and pads, so prompt positions get exactly zero gradient.
/// </summary>
public sealed record LmBatch(Tensor InputIds, Tensor AttentionMask, Tensor Targets, Tensor LossMask, long Tokens)
{
    /// <summary>Builds [B,T] tensors from encoded examples (T = the longest row), on <paramref name="device"/>.</summary>
    public static LmBatch Build(IReadOnlyList<EncodedExample> rows, int padId, Device device)
    {
        int B = rows.Count, T = Math.Max(1, rows.Max(r => r.Length));
        var ids = new long[B * T]; var attn = new long[B * T]; var tgt = new long[B * T]; var loss = new float[B * T];
        long tokens = 0;
        for (int b = 0; b < B; b++)
        {
            var r = rows[b];
            tokens += r.Length;
            for (int t = 0; t < T; t++)
            {
                int o = b * T + t;
                bool real = t < r.Length;
                ids[o] = real ? r.Ids[t] : padId;
                attn[o] = real ? 1 : 0;
                bool hasNext = t + 1 < r.Length;
                tgt[o] = hasNext ? r.Ids[t + 1] : padId;
                loss[o] = hasNext && r.Trained[t + 1] ? 1f : 0f;
            }
        }
        return new LmBatch(tensor(ids, [B, T]).to(device), tensor(attn, [B, T]).to(device),
                           tensor(tgt, [B, T]).to(device), tensor(loss, [B, T]).to(device), tokens);
    }
}
