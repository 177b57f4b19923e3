using RlhfSharp.Training.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Supervised;

/// <summary>What one micro-batch gives back: its per-item losses SUMMED (scalar, differentiable; the loop divides by the
/// step's item count, see <see cref="GradAccumulation"/>), detached per-batch metrics (scalars on the device, pulled to
/// the host only on logging steps) and how many tokens it processed (host count, for tokens/s).</summary>
public sealed record MicroBatchOutput(Tensor LossSum, IReadOnlyDictionary<string, Tensor> Metrics, long Tokens);

/// <summary>
/// One phase's data and objective, driven by <see cref="SupervisedLoop"/>: pretraining, SFT, reward modelling and DPO
/// differ only here. Examples are addressed by index so the loop's <c>EpochSampler</c> owns the order (and resume).
/// </summary>
public interface ISupervisedTask
{
    /// <summary>Short phase name ("pretrain", "sft", "reward", "dpo") for messages.</summary>
    string Phase { get; }

    /// <summary>Number of training examples (blocks, demonstrations, pairs).</summary>
    int ExampleCount { get; }

    /// <summary>How many items the loss of these examples averages over, counted on the host before any forward pass:
    /// counted tokens (pretraining, SFT) or examples (DPO pairs, reward rankings). The loop adds it up over a step's
    /// micro-batches, so accumulated micro-batches weigh every item as one big batch does.</summary>
    long LossItems(long[] indices);

    /// <summary>Forward pass and summed loss on the given examples (the model is in train mode; gradients on).
    /// <c>LossSum / LossItems(indices)</c> is the micro-batch's mean loss.</summary>
    MicroBatchOutput Forward(long[] indices);

    /// <summary>Names of <see cref="MicroBatchOutput.Metrics"/> that are counts over the micro-batch (e.g. response
    /// tokens), which data-parallel ranks add up; the others are means, which they average.</summary>
    IReadOnlySet<string> CountMetrics => new HashSet<string>();

    /// <summary>Held-out metrics as host doubles, names prefixed <c>eval_</c>; null when there is no eval data.</summary>
    IReadOnlyDictionary<string, double>? Evaluate();
}

/// <summary>What a trainer returns: final training loss, the last evaluation (empty without eval data), steps and time.</summary>
public sealed record TrainResult(
    long Steps,
    double FinalLoss,
    IReadOnlyDictionary<string, double> Eval,
    double Seconds,
    long? ResumedFromStep,
    string OutputDir)
{
    /// <summary>An eval metric by name (e.g. "eval_loss", "eval_accuracy"), or NaN.</summary>
    public double EvalMetric(string name) => Eval.TryGetValue(name, out var v) ? v : double.NaN;
}
