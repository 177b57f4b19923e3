namespace RlhfSharp.Training.Core;

/// <summary>
/// The output folder does not match <see cref="RunOptions.Resume"/>: a fresh run found checkpoints there, or a resume
/// found none. Front ends say how to resume in their own terms from <see cref="Mode"/> and <see cref="CheckpointsDir"/>.
/// </summary>
public sealed class ResumeError(string phase, ResumeMode mode, string output, string checkpointsDir)
    : UserError(mode == ResumeMode.Fresh
        ? $"{phase}: {output} already holds {phase} checkpoints; resume to continue, or choose another output folder"
        : $"{phase}: resume asked, but {checkpointsDir} holds no complete checkpoint")
{
    /// <summary>The phase ("sft", "ppo", ...).</summary>
    public string Phase { get; } = phase;
    /// <summary>The mode that could not be honoured: Fresh (checkpoints were found) or Latest (none were).</summary>
    public ResumeMode Mode { get; } = mode;
    /// <summary>The output folder checked.</summary>
    public string Output { get; } = output;
    /// <summary>Its checkpoints folder.</summary>
    public string CheckpointsDir { get; } = checkpointsDir;
}
