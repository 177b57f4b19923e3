namespace RlhfSharp.Training.Core;

/// <summary>What to do with checkpoints already in a phase's output folder.</summary>
public enum ResumeMode
{
    /// <summary>Start from step 0; an output holding checkpoints is an error.</summary>
    Fresh,
    /// <summary>Continue from the latest checkpoint; an output without one is an error.</summary>
    Latest,
    /// <summary>Continue when there is a checkpoint, else start fresh (what a recipe rerun does).</summary>
    IfAny,
}
