using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Models;

/// <summary>
/// Rotary position embedding as HF Llama applies it: the head dim is split in halves (not interleaved pairs),
/// x' = x*cos + rotate_half(x)*sin with cos/sin of angle pos * inv_freq repeated over both halves.
/// Not a module: it has no weights, and HF's inv_freq is a non-persistent buffer absent from checkpoints.
/// </summary>
public sealed class RotaryEmbedding
{
    readonly float[] _invFreq;                                   // [D/2]
    (DeviceType type, int index, Tensor t)? _onDevice;          // cached copy (not a Tensor field: not a buffer)

    /// <summary>Precomputes inv_freq [D/2] from <paramref name="config"/> (head dim, theta, rope scaling).</summary>
    public RotaryEmbedding(TransformerConfig config) => _invFreq = InverseFrequencies(config);

    /// <summary>
    /// inv_freq[i] = theta^(-2i/D); with Llama-3 scaling (transformers modeling_rope_utils._compute_llama3_parameters):
    /// wavelengths longer than original_ctx/low_freq_factor are divided by factor, shorter than
    /// original_ctx/high_freq_factor kept, and those between blended with
    /// s = (original_ctx/wavelen - low) / (high - low): (1-s)*f/factor + s*f.
    /// </summary>
    public static float[] InverseFrequencies(TransformerConfig config)
    {
        int half = config.HeadDim / 2;
        var inv = new float[half];
        for (int i = 0; i < half; i++)
        {
            // float32 as HF computes it, so angles match to the last bit that matters.
            float f = (float)(1.0 / Math.Pow(config.RopeTheta, (float)(2 * i) / config.HeadDim));
            if (config.RopeScaling is { } s)
            {
                double lowWavelen = s.OriginalMaxPositions / s.LowFreqFactor, highWavelen = s.OriginalMaxPositions / s.HighFreqFactor;
                double wavelen = 2 * Math.PI / f;
                if (wavelen > lowWavelen) f = (float)(f / s.Factor);
                else if (wavelen >= highWavelen)
                {
                    double sm = (s.OriginalMaxPositions / wavelen - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor);
                    f = (float)((1 - sm) * f / s.Factor + sm * f);
                }
            }
            inv[i] = f;
        }
        return inv;
    }

    /// <summary>positions [B,T] int64 -> (cos, sin) [B,1,T,D] in <paramref name="dtype"/>; angles in float32.</summary>
    public (Tensor cos, Tensor sin) CosSin(Tensor positions, ScalarType dtype)
    {
        var dev = positions.device;
        if (_onDevice is not { } c || c.type != dev.type || c.index != dev.index)
        {
            _onDevice?.t.Dispose();
            var t = torch.tensor(_invFreq, device: dev).DetachFromDisposeScope();
            _onDevice = (dev.type, dev.index, t);
        }
        var freqs = positions.to(ScalarType.Float32).unsqueeze(-1) * _onDevice!.Value.t;   // [B,T,D/2]
        var emb = torch.cat([freqs, freqs], -1).unsqueeze(1);                             // [B,1,T,D]
        return (emb.cos().to(dtype), emb.sin().to(dtype));
    }

    /// <summary>x [B,h,T,D] rotated by (cos, sin) [B,1,T,D].</summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        long half = x.shape[^1] / 2;
        var x1 = x.narrow(-1, 0, half);
        var x2 = x.narrow(-1, half, half);
        var rotated = torch.cat([x2.neg(), x1], -1);   // rotate_half
        return x * cos + rotated * sin;
    }
}
