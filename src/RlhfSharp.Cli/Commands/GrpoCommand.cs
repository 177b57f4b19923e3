using RlhfSharp.Configuration;
using RlhfSharp.Training.Core;
using RlhfSharp.Training.CriticFree;

namespace RlhfSharp.Cli.Commands;

/// <summary><c>rlhf grpo</c>: GRPO through <see cref="GrpoPhase"/>; every hyperparameter comes from <see cref="GrpoConfig.Schema"/>.</summary>
public sealed class GrpoCommand : CriticFreeCommand<GrpoConfig>
{
    public override string Description => "GRPO (DeepSeekMath): G responses per prompt, group-normalised advantages, no value model; against a reward model and/or verifiable rewards.";
    protected override ConfigSchema<GrpoConfig> Schema => GrpoConfig.Schema;
    protected override PhaseResult RunPhase(GrpoConfig config, CriticFreeSources sources, RunOptions run) => GrpoPhase.Run(config, sources, run);
}
