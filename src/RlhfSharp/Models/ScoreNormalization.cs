namespace RlhfSharp.Models;

/// <summary>
/// The reward normalisation a <see cref="ScalarHeadModel"/> carries (lm-human-preferences' reward gain and bias,
/// Ziegler et al. 2019): scores of the reference samples become mean 0, std 1. The gain is always multiplied into
/// <c>score.weight</c>, so it is in the weights and <c>transformers</c> sees it too. The shift is folded into the
/// final norm's bias where there is one (GPT-2 <c>ln_f.bias</c>: <see cref="ShiftInWeights"/>); Llama, Qwen2 and
/// Mistral end in an RMSNorm without a bias and the HF head has none either, so there the model adds
/// <see cref="Shift"/> to every score and value itself (<see cref="RuntimeShift"/>), and the shift lives in the
/// folder's <c>reward_normalization.json</c> (which <c>transformers</c> does not read: its scores are off by it).
/// </summary>
public sealed record ScoreNormalization
{
    /// <summary>Total gain applied to the head, 1/std of the raw scores (already in <c>score.weight</c>).</summary>
    public required double Gain { get; init; }

    /// <summary>-mean/std of the scores measured: with a run-time shift, the whole constant the model adds (earlier
    /// normalisations included); when in the weights, the amount last folded into them.</summary>
    public required double Shift { get; init; }

    /// <summary>True when <see cref="Shift"/> is folded into a bias of the weights; false when the model adds it at run time.</summary>
    public required bool ShiftInWeights { get; init; }

    /// <summary>What the statistics were measured on, in words (e.g. "first 128 training pairs, chosen and rejected").</summary>
    public string MeasuredOn { get; init; } = "";

    /// <summary>How many sequences the statistics were measured on.</summary>
    public int Samples { get; init; }

    /// <summary>Mean of the scores before normalising, on those sequences.</summary>
    public double MeanBefore { get; init; }
    /// <summary>Sample standard deviation of the scores before normalising.</summary>
    public double StdBefore { get; init; }
    /// <summary>Mean of the scores after normalising.</summary>
    public double MeanAfter { get; init; }
    /// <summary>Sample standard deviation of the scores after normalising.</summary>
    public double StdAfter { get; init; }

    /// <summary>The constant the model adds to its head's output: <see cref="Shift"/> unless it is in the weights.</summary>
    public double RuntimeShift => ShiftInWeights ? 0.0 : Shift;
}
