using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Losses;

/// <summary>
/// The critic-free methods: GRPO (Shao et al. 2024, DeepSeekMath) and RLOO (Ahmadian et al. 2024, "Back to Basics").
/// Both sample G responses per prompt and baseline each reward by the others of its group instead of a value model.
/// A batch holds the groups one after another: rows g·G … g·G + G − 1 answer the same prompt.
/// </summary>
public static partial class GroupObjectives
{
    /// <summary>
    /// GRPO's group-relative advantage of each response (DeepSeekMath eq. 3 with outcome supervision; TRL
    /// GRPOTrainer):
    /// <code>
    ///   A_i = (r_i − mean_group(r)) / (std_group(r) + eps)       scaleByStd (TRL scale_rewards="group")
    ///   A_i =  r_i − mean_group(r)                                !scaleByStd (Dr. GRPO, Liu et al. 2025; TRL "none")
    /// </code>
    /// std is the unbiased (Bessel) standard deviation, as <c>torch.std</c> in TRL; eps = 1e-4 as TRL. A group whose
    /// rewards are all equal carries no signal: its advantages are exactly 0 (set explicitly, so rounding in the
    /// mean cannot leave ±1e-17 / 1e-4 behind).
    /// </summary>
    /// <param name="rewards">[B] one reward per response, B = groups · <paramref name="groupSize"/>.</param>
    /// <param name="groupSize">G ≥ 2.</param>
    /// <param name="scaleByStd">divide by the group's standard deviation (GRPO) or not (Dr. GRPO).</param>
    /// <param name="eps">added to the standard deviation (TRL 1e-4).</param>
    /// <returns>[B] advantages in float32 (float64 stays float64).</returns>
    public static Tensor GrpoAdvantages(Tensor rewards, int groupSize, bool scaleByStd = true, double eps = 1e-4)
    {
        using var scope = NewDisposeScope();
        var r = Grouped(rewards, groupSize);                                   // [B/G, G]
        var adv = r - r.mean([1], keepdim: true);
        if (scaleByStd) adv = adv / (r.std(1, unbiased: true, keepdim: true) + eps);
        return ZeroWhereConstant(adv, r).reshape(-1).MoveToOuterDisposeScope(); // [B]
    }

    /// <summary>
    /// RLOO's leave-one-out advantage (Ahmadian et al. 2024, eq. for the RLOO estimator; Kool et al. 2019):
    /// <code>
    ///   A_i = r_i − (1 / (G − 1)) Σ_{j≠i} r_j   =   G / (G − 1) · (r_i − mean_group(r))
    /// </code>
    /// computed in the first form. A group whose rewards are all equal gets advantages of exactly 0.
    /// </summary>
    /// <param name="rewards">[B] one reward per response (RLOO: the score minus β·KL of the sequence).</param>
    /// <param name="groupSize">G ≥ 2.</param>
    /// <returns>[B] advantages in float32 (float64 stays float64).</returns>
    public static Tensor RlooAdvantages(Tensor rewards, int groupSize)
    {
        using var scope = NewDisposeScope();
        var r = Grouped(rewards, groupSize);                                   // [B/G, G]
        var othersMean = (r.sum(1, keepdim: true) - r) / (groupSize - 1);      // [B/G, G]
        return ZeroWhereConstant(r - othersMean, r).reshape(-1).MoveToOuterDisposeScope(); // [B]
    }

    /// <summary>The fraction of groups whose rewards are all equal (zero standard deviation), which give no gradient:
    /// a figure to watch (TRL logs it as <c>frac_reward_zero_std</c>). Scalar.</summary>
    /// <param name="rewards">[B] one reward per response.</param>
    /// <param name="groupSize">G ≥ 2.</param>
    public static Tensor ZeroStdGroupFraction(Tensor rewards, int groupSize)
    {
        using var scope = NewDisposeScope();
        var r = Grouped(rewards, groupSize);
        return ConstantGroups(r).to_type(r.dtype).mean().MoveToOuterDisposeScope();
    }

    /// <summary>rewards [B] as [B/G, G] in the compute dtype; B must be a multiple of G ≥ 2.</summary>
    static Tensor Grouped(Tensor rewards, int groupSize)
    {
        if (groupSize < 2) throw new ArgumentOutOfRangeException(nameof(groupSize), groupSize, "a group needs at least 2 responses");
        if (rewards.dim() != 1 || rewards.shape[0] % groupSize != 0)
            throw new ArgumentException($"rewards must be [B] with B a multiple of the group size {groupSize}, got [{string.Join(",", rewards.shape)}]");
        return Masked.Up(rewards).view(-1, groupSize);
    }

    /// <summary>[B/G, 1] true where every reward of the group is the same.</summary>
    static Tensor ConstantGroups(Tensor grouped) => grouped.amax([1], keepdim: true).eq(grouped.amin([1], keepdim: true));

    static Tensor ZeroWhereConstant(Tensor advantages, Tensor grouped) => advantages.masked_fill(ConstantGroups(grouped), 0);
}
