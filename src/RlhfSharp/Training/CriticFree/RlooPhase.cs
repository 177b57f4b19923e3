using RlhfSharp.Training.Core;

namespace RlhfSharp.Training.CriticFree;

/// <summary>
/// RLOO from HF folders, the library's one entry (Ahmadian et al. 2024): policy and frozen reference from the SFT
/// folder, rewards from a reward-model folder and/or verifiable rewards on the prompts' answers, k responses per prompt
/// each baselined by the other k − 1, the KL in the reward, and no value model. The CLI's <c>rlhf rloo</c>, the recipe
/// runner and the demo call this.
/// </summary>
public static class RlooPhase
{
    /// <summary>The phase's name: its output subfolder in a pipeline and its recipe section.</summary>
    public const string Name = RlooConfig.Section;

    /// <summary>Validates <paramref name="config"/>, opens the folders and data of <paramref name="sources"/>, trains and
    /// writes the policy as an HF folder into <see cref="RunOptions.Output"/>.</summary>
    public static PhaseResult Run(RlooConfig config, CriticFreeSources sources, RunOptions run)
    {
        config.Validate();
        return CriticFreePhase.Run(config.Common, config.Objective, sources, run);
    }
}
