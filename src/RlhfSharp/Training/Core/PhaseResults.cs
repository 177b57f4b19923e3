namespace RlhfSharp.Training.Core;

/// <summary>Builds <see cref="PhaseResult"/>s from trainer results.</summary>
public static class PhaseResults
{
    /// <summary>The result of a supervised phase (pretrain, sft, reward, dpo).</summary>
    public static PhaseResult From(string phase, Supervised.TrainResult result) => new()
    {
        Phase = phase, OutputDir = result.OutputDir, Steps = result.Steps, Seconds = result.Seconds,
        ResumedFromStep = result.ResumedFromStep, Metrics = new Dictionary<string, double> { ["loss"] = result.FinalLoss },
        Eval = result.Eval,
    };
}
