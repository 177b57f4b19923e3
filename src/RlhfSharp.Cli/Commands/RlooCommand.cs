using RlhfSharp.Configuration;
using RlhfSharp.Training.Core;
using RlhfSharp.Training.CriticFree;

namespace RlhfSharp.Cli.Commands;

/// <summary><c>rlhf rloo</c>: RLOO through <see cref="RlooPhase"/>; every hyperparameter comes from <see cref="RlooConfig.Schema"/>.</summary>
public sealed class RlooCommand : CriticFreeCommand<RlooConfig>
{
    public override string Description => "RLOO (Back to Basics): k responses per prompt, each baselined by the other k-1, KL in the reward, no value model; against a reward model and/or verifiable rewards.";
    protected override ConfigSchema<RlooConfig> Schema => RlooConfig.Schema;
    protected override PhaseResult RunPhase(RlooConfig config, CriticFreeSources sources, RunOptions run) => RlooPhase.Run(config, sources, run);
}
