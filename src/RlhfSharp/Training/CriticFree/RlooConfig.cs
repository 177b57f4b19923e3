using RlhfSharp.Configuration;

namespace RlhfSharp.Training.CriticFree;

/// <summary>
/// RLOO settings (Ahmadian et al. 2024, "Back to Basics: Revisiting REINFORCE Style Optimization for Learning from
/// Human Feedback in LLMs"): k responses per prompt, each baselined by the mean reward of the other k − 1; the KL to
/// the reference goes into the reward, per sequence, as in the paper: reward = score − β · Σ_t log(π/π_ref). The
/// loss is the paper's REINFORCE on the sequence log-probability, or the PPO-style clipped ratio. k = 4 as the paper's
/// best setting; β 0.05 as TRL RLOOConfig.
/// </summary>
public sealed record RlooConfig
{
    /// <summary>The phase's name: its recipe section and its output subfolder in a pipeline.</summary>
    public const string Section = "rloo";

    /// <summary>k: responses sampled per prompt (Ahmadian et al. 2024 report k = 4 best of 2 and 4).</summary>
    public int GroupSize { get; init; } = 4;
    /// <summary>The settings RLOO shares with GRPO.</summary>
    public CriticFreeSettings Common { get; init; } = new();
    /// <summary>β of the KL penalty in the reward, k1 summed over the response (TRL RLOOConfig beta 0.05; the same
    /// concept as PPO's kl_coef, hence the name).</summary>
    public double KlCoef { get; init; } = 0.05;
    /// <summary>REINFORCE (the paper) or the clipped ratio (PPO-style, for num_iterations &gt; 1).</summary>
    public GroupPolicyLoss Loss { get; init; } = GroupPolicyLoss.Reinforce;

    /// <summary>What the shared trainer runs for these settings.</summary>
    public CriticFreeObjective Objective => new()
    {
        Phase = Section, GroupSize = GroupSize, Advantage = GroupAdvantage.LeaveOneOut, RewardKlCoef = KlCoef, Loss = Loss,
        Aggregation = Losses.LossAggregation.Bnpo,
    };

    /// <summary>Throws a <see cref="ConfigError"/> naming the first key that breaks its rule.</summary>
    public void Validate() => Schema.Validate(this);

    /// <summary>Every RLOO setting, declared once: the CLI options, recipe keys, validation and docs/pipeline.md come from it.</summary>
    public static ConfigSchema<RlooConfig> Schema { get; } = new SchemaBuilder<RlooConfig>(Section, () => new())
        .Add("group_size", "K", "Responses sampled per prompt; each is baselined by the mean reward of the other k-1 (>= 2).", "Ahmadian et al. 2024", c => c.GroupSize, (c, v) => c with { GroupSize = v }, Rules.AtLeast(2))
        .AddRange(CriticFreeSettings.For<RlooConfig>(c => c.Common, (c, s) => c with { Common = s }))
        .Add("kl_coef", "BETA", "beta of the KL penalty in the reward: reward = score - beta * sum over the response of log(pi/pi_ref), as the paper (and PPO's kl_coef).", "TRL RLOOConfig beta", c => c.KlCoef, (c, v) => c with { KlCoef = v }, Rules.NonNegative)
        .Add("loss", "TYPE", "reinforce: -A * log pi(response), the paper's estimator (on-policy: num_iterations 1). clipped: PPO's clipped ratio per token with the response's advantage, token mean.", "Ahmadian et al. 2024",
            c => c.Loss == GroupPolicyLoss.Clipped ? "clipped" : "reinforce",
            (c, v) => c with { Loss = v switch { "reinforce" => GroupPolicyLoss.Reinforce, "clipped" => GroupPolicyLoss.Clipped, _ => throw new ConfigError(Section, "loss", $"must be one of reinforce, clipped, got '{v}'") } })
        .Rule("mini_batch_size", c => CriticFreeSettings.MiniBatchProblem(c.Common, c.GroupSize))
        .Rule("rollout_url", c => Rl.RolloutEngineSettings.Problem(c.Common.RolloutEngine))
        .Rule("num_iterations", c => c.Loss == GroupPolicyLoss.Reinforce && c.Common.NumIterations > 1
            ? $"must be 1 with loss reinforce (REINFORCE is on-policy; reuse samples with loss clipped), got {c.Common.NumIterations}" : null)
        .Build();
}
