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
    /// Computed as <c>z[y] - logsumexp(z)</c> so that no second [B, T, V] float tensor is kept.
    /// Values at pad positions are whatever the logits give there; mask them downstream.
    /// </summary>
    /// <param name="logits">[B, T, V], any float dtype.</param>
    /// <param name="tokens">[B, T] integer ids, &lt; V (pads may hold any valid id).</param>
    public static Tensor TokenLogProbs(Tensor logits, Tensor tokens, double temperature = 1.0)
    {
        CheckTemperature(temperature);
        using var scope = torch.NewDisposeScope();
        var z = Scaled(logits, temperature);                                   // [B, T, V]
        var picked = z.gather(-1, tokens.to_type(ScalarType.Int64).unsqueeze(-1)).squeeze(-1); // [B, T]
        return (picked - z.logsumexp(-1)).MoveToOuterDisposeScope();           // [B, T]
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
    public static Tensor SequenceLogProbs(Tensor logits, Tensor tokens, Tensor mask, bool average = false, double temperature = 1.0)
    {
        using var scope = torch.NewDisposeScope();
        var logp = TokenLogProbs(logits, tokens, temperature);                 // [B, T]
        var result = average ? Masked.Mean(logp, mask, dim: 1) : Masked.Sum(logp, mask, dim: 1); // [B]
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>Float32 logits more than this below the row's maximum are raised to it (see <see cref="Scaled"/>).</summary>
    public const double Float32LogitFloor = 80.0;

    /// <summary>
    /// logits in compute dtype, divided by temperature (no division when it is 1). In float32, logits more than
    /// <see cref="Float32LogitFloor"/> below the row's maximum are raised to that floor (a constant, so they get no
    /// gradient): on CPU, <c>exp</c> of logits far below the maximum underflows on a slow path. Measured on this op
    /// ([16,64,8192], forward + backward): rows with all but one logit near -120 took 152 ms without the floor and 98 ms
    /// with it; ordinary rows 59 ms without and 105 ms with (README, known limitations). The change in any
    /// log-probability is below 1e-30.
    /// </summary>
    private static Tensor Scaled(Tensor logits, double temperature)
    {
        var z = Masked.Up(logits);
        if (temperature != 1.0) z = z / temperature;
        if (z.dtype != ScalarType.Float32) return z;
        using var floor = (z.detach().amax([-1], keepdim: true) - Float32LogitFloor);
        return z.maximum(floor);
    }

    private static void CheckTemperature(double temperature)
    {
        if (!(temperature > 0) || double.IsInfinity(temperature))
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "temperature must be a positive finite number.");
    }
}
