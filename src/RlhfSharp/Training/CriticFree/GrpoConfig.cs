using RlhfSharp.Configuration;
using RlhfSharp.Training.Losses;

namespace RlhfSharp.Training.CriticFree;

/// <summary>
/// GRPO settings (Shao et al. 2024, DeepSeekMath; TRL GRPOConfig): G responses per prompt, advantages normalised
/// within each group, the clipped surrogate per token, and optionally β times a k3 KL to the reference in the loss.
/// Defaults are TRL's current ones: num_generations 8, beta 0.0 (no KL term in the loss; DeepSeekMath used 0.04, and
/// DAPO and Dr. GRPO train without it), scale_rewards "group", epsilon 0.2, num_iterations 1, and the loss aggregation of TRL's default
/// loss_type "dapo", which is <c>bnpo</c> here (see <see cref="LossAggregation.Bnpo"/>).
/// </summary>
public sealed record GrpoConfig
{
    /// <summary>The phase's name: its recipe section and its output subfolder in a pipeline.</summary>
    public const string Section = "grpo";

    /// <summary>G: responses sampled per prompt (TRL num_generations 8).</summary>
    public int GroupSize { get; init; } = 8;
    /// <summary>The settings GRPO shares with RLOO.</summary>
    public CriticFreeSettings Common { get; init; } = new();
    /// <summary>β of the k3 KL to the reference in the loss (TRL beta 0.0: no KL term; the KL is still measured and logged).</summary>
    public double Beta { get; init; }
    /// <summary>Divide group-centred rewards by the group's std (TRL scale_rewards "group"); false = Dr. GRPO ("none").</summary>
    public bool ScaleRewards { get; init; } = true;
    /// <summary>How per-token losses are aggregated (TRL's default "dapo" = <see cref="LossAggregation.Bnpo"/> here).</summary>
    public LossAggregation LossAggregation { get; init; } = LossAggregation.Bnpo;

    /// <summary>What the shared trainer runs for these settings.</summary>
    public CriticFreeObjective Objective => new()
    {
        Phase = Section, GroupSize = GroupSize, Advantage = ScaleRewards ? GroupAdvantage.MeanStd : GroupAdvantage.Mean,
        LossKlCoef = Beta, Loss = GroupPolicyLoss.Clipped, Aggregation = LossAggregation,
    };

    /// <summary>Throws a <see cref="ConfigError"/> naming the first key that breaks its rule.</summary>
    public void Validate() => Schema.Validate(this);

    static readonly string[] Aggregations = ["grpo", "bnpo", "dr_grpo"];

    /// <summary>Every GRPO setting, declared once: the CLI options, recipe keys, validation and docs/pipeline.md come from it.</summary>
    public static ConfigSchema<GrpoConfig> Schema { get; } = new SchemaBuilder<GrpoConfig>(Section, () => new())
        .Add("group_size", "G", "Responses sampled per prompt; advantages compare each with the others of its group (>= 2).", "TRL num_generations", c => c.GroupSize, (c, v) => c with { GroupSize = v }, Rules.AtLeast(2))
        .AddRange(CriticFreeSettings.For<GrpoConfig>(c => c.Common, (c, s) => c with { Common = s }))
        .Add("beta", "BETA", "Weight of the k3 KL to the reference in the loss; 0 = no KL term (the KL is still logged).", "TRL beta 0.0", c => c.Beta, (c, v) => c with { Beta = v }, Rules.NonNegative)
        .Add("scale_rewards", "MODE", "group: advantage (r - group mean) / (group std + 1e-4), as GRPO. none: r - group mean, as Dr. GRPO (no difficulty bias from the std).", "TRL scale_rewards",
            c => c.ScaleRewards ? "group" : "none",
            (c, v) => c with { ScaleRewards = v switch { "group" => true, "none" => false, _ => throw new ConfigError(Section, "scale_rewards", $"must be one of group, none, got '{v}'") } })
        .Add("loss_aggregation", "MODE", "bnpo: token mean over the minibatch (TRL's default loss_type dapo is the same when one minibatch is one optimizer step, as here). grpo: mean per sequence, then over sequences. dr_grpo: sum / (sequences x max_new_tokens).", "TRL loss_type",
            c => Aggregations[(int)c.LossAggregation],
            (c, v) => c with { LossAggregation = Array.IndexOf(Aggregations, v) is var i and >= 0 ? (LossAggregation)i : throw new ConfigError(Section, "loss_aggregation", $"must be one of {string.Join(", ", Aggregations)}, got '{v}'") })
        .Rule("mini_batch_size", c => CriticFreeSettings.MiniBatchProblem(c.Common, c.GroupSize))
        .Rule("rollout_url", c => Rl.RolloutEngineSettings.Problem(c.Common.RolloutEngine))
        .Build();
}
