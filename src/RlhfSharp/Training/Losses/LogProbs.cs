using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Losses;

/// <summary>
/// Per-token log-probabilities and entropies from logits.
/// Shapes: B = batch, T = time, V = vocabulary. logits[b, t] is the distribution of the token that
/// follows position t, so <c>tokens</c> must already be aligned with it (the caller shifts:
/// <c>tokens[b, t] = inputIds[b, t + 1]</c>).
/// Computed in float32 (float64 stays float64): bf16 logits are cast up before log-softmax.
/// </summary>
public static class LogProbs
{
    /// <summary>
    /// <c>log π(y_t | x, y_&lt;t) = log_softmax(logits / temperature)[b, t, tokens[b, t]]</c> → [B, T].
    /// Sampling and re-scoring must use the same temperature, or the KL between them is biased
    /// ("The N Implementation Details of RLHF with PPO", Huang et al., detail on temperature;
    /// TRL PPOTrainer divides logits by the sampling temperature before log-softmax).
    /// Exact for every target, however far below the row's maximum: no clamp, so a target 150 nats down gets its true
    /// log-probability and gradient. Computed as <c>log_softmax</c> then <c>gather</c> (the PyTorch idiom, as inside
    /// <c>F.cross_entropy</c>): one fused kernel each way, measured faster on CPU than <c>z[y] - logsumexp(z)</c>,
    /// about 1.7× on ordinary logits and 4–7× on very peaked rows (bench/README.md, <c>--only logprobs</c>).
    /// Values at pad positions are whatever the logits give there; mask them downstream.
    /// </summary>
    /// <param name="logits">[B, T, V], any float dtype.</param>
    /// <param name="tokens">[B, T] integer ids, &lt; V (pads may hold any valid id).</param>
    /// <param name="temperature">the sampling temperature the logits are divided by (default 1).</param>
    public static Tensor TokenLogProbs(Tensor logits, Tensor tokens, double temperature = 1.0)
    {
        CheckTemperature(temperature);
        using var scope = torch.NewDisposeScope();
        var z = Scaled(logits, temperature);                                   // [B, T, V]
        var index = tokens.to_type(ScalarType.Int64).unsqueeze(-1);           // [B, T, 1]
        return z.log_softmax(-1).gather(-1, index).squeeze(-1).MoveToOuterDisposeScope(); // [B, T]
    }

    /// <summary>
    /// Entropy of each next-token distribution, <c>H_t = -Σ_v p_v log p_v = logsumexp(z) - Σ_v p_v z_v</c>
    /// with <c>z = logits / temperature</c> → [B, T] (TRL <c>entropy_from_logits</c>; logged by
    /// lm-human-preferences as <c>policy/entropy</c>).
    /// </summary>
    public static Tensor Entropy(Tensor logits, double temperature = 1.0)
    {
        CheckTemperature(temperature);
        using var scope = torch.NewDisposeScope();
        var z = Scaled(logits, temperature);                                   // [B, T, V]
        var p = z.softmax(-1);                                                 // [B, T, V]
        return (z.logsumexp(-1) - (p * z).sum(-1)).MoveToOuterDisposeScope();  // [B, T]
    }

    /// <summary>
    /// Sequence log-probability of the response, <c>log π(y | x) = Σ_t mask_t · log π(y_t | …)</c> → [B]
    /// (DPO, Rafailov et al. 2023, eq. 7 uses the sum over response tokens; TRL
    /// <c>concatenated_forward</c>). With <paramref name="average"/> the sum is divided by the number
    /// of counted tokens, which TRL uses for IPO (<c>loss_type="ipo"</c>: mean log-prob per token).
    /// </summary>
    /// <param name="logits">[B, T, V].</param>
    /// <param name="tokens">[B, T], aligned with logits (see class remarks).</param>
    /// <param name="mask">[B, T], 1 = response token.</param>
    /// <param name="average">divide by the number of counted tokens (IPO) instead of summing (DPO).</param>
    /// <param name="temperature">the temperature the logits are divided by (default 1).</param>
    public static Tensor SequenceLogProbs(Tensor logits, Tensor tokens, Tensor mask, bool average = false, double temperature = 1.0)
    {
        using var scope = torch.NewDisposeScope();
        var logp = TokenLogProbs(logits, tokens, temperature);                 // [B, T]
        var result = average ? Masked.Mean(logp, mask, dim: 1) : Masked.Sum(logp, mask, dim: 1); // [B]
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// logits in compute dtype, divided by temperature (no division when it is 1). Nothing is clamped: every
    /// log-probability is exact however far below the row's maximum its logit lies (a floor would give targets
    /// 80+ nats down a constant log-prob and no gradient: DPO rejected tokens, PPO reference log-probs).
    /// The floor was there because peaked rows made the backward of <c>logsumexp</c> slow on CPU (exp underflow);
    /// <c>log_softmax</c>'s fused backward does not have that cost (bench/README.md).
    /// </summary>
    private static Tensor Scaled(Tensor logits, double temperature)
    {
        var z = Masked.Up(logits);
        return temperature == 1.0 ? z : z / temperature;
    }

    private static void CheckTemperature(double temperature)
    {
        if (!(temperature > 0) || double.IsInfinity(temperature))
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "temperature must be a positive finite number.");
    }
}
