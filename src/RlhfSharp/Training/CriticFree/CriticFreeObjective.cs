using RlhfSharp.Training.Losses;

namespace RlhfSharp.Training.CriticFree;

/// <summary>How a critic-free method turns a group's rewards into advantages.</summary>
public enum GroupAdvantage
{
    /// <summary>GRPO: (r − group mean) / (group std + 1e-4).</summary>
    MeanStd,
    /// <summary>Dr. GRPO: r − group mean.</summary>
    Mean,
    /// <summary>RLOO: r − mean of the other G − 1 rewards.</summary>
    LeaveOneOut,
}

/// <summary>The policy loss of a critic-free method.</summary>
public enum GroupPolicyLoss
{
    /// <summary>The per-token clipped surrogate with the sequence advantage (<see cref="GroupObjectives.ClippedGroupLoss"/>).</summary>
    Clipped,
    /// <summary>REINFORCE on the sequence log-probability (<see cref="GroupObjectives.ReinforceLoss"/>).</summary>
    Reinforce,
}

/// <summary>
/// What distinguishes GRPO from RLOO for the shared trainer: the group size, where the KL to the reference goes (into
/// the reward as k1 per sequence, RLOO; into the loss as k3 per token, GRPO), the advantage and the loss. Made by
/// <see cref="GrpoConfig.Objective"/> and <see cref="RlooConfig.Objective"/>.
/// </summary>
public sealed record CriticFreeObjective
{
    /// <summary>"grpo" or "rloo": the phase's name in messages, metrics files and plots.</summary>
    public required string Phase { get; init; }
    /// <summary>G, responses per prompt (≥ 2).</summary>
    public required int GroupSize { get; init; }
    /// <summary>How rewards become advantages.</summary>
    public required GroupAdvantage Advantage { get; init; }
    /// <summary>β of the KL in the reward: reward = score − β · Σ_t (log π_old − log π_ref) (RLOO; 0 for GRPO).</summary>
    public double RewardKlCoef { get; init; }
    /// <summary>β of the k3 KL term in the loss (GRPO; 0 for RLOO).</summary>
    public double LossKlCoef { get; init; }
    /// <summary>The policy loss.</summary>
    public GroupPolicyLoss Loss { get; init; } = GroupPolicyLoss.Clipped;
    /// <summary>How the clipped loss is aggregated over tokens and sequences.</summary>
    public LossAggregation Aggregation { get; init; } = LossAggregation.Bnpo;
}
