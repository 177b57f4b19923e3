namespace RlhfSharp.Training.Core;

/// <summary>The output folder does not match the resume mode; front ends add how to resume in their own terms.</summary>
public sealed class ResumeError(string phase, string output, string problem) : UserError($"{phase}: {problem}")
{
    /// <summary>The phase ("sft", "ppo", ...).</summary>
    public string Phase { get; } = phase;
    /// <summary>The output folder checked.</summary>
    public string Output { get; } = output;
    /// <summary>What is wrong, without the phase prefix.</summary>
    public string Problem { get; } = problem;
}
