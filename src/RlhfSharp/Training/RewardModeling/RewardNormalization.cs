using System.Globalization;
using RlhfSharp.Checkpoints;
using RlhfSharp.Models;
using RlhfSharp.Training.Core;
using static TorchSharp.torch;

namespace RlhfSharp.Training.RewardModeling;

/// <summary>
/// lm-human-preferences' reward normalisation (Ziegler et al. 2019): after training, set the reward's gain and bias so
/// scores of reference samples have mean 0 and std 1 (sample std, n - 1). Our head is bias-free (HF layout), so: the
/// gain 1/std scales <c>score.weight</c> (exact); the shift -mean/std goes into the final norm's bias along the head's
/// direction (<c>ln_f.bias += -m/std * w/|w|²</c>, exact because the RM uses the final hidden state only through the
/// head) where that bias exists (GPT-2), and otherwise (Llama, Qwen2, Mistral: RMSNorm has no bias) becomes the
/// model's run-time shift. Either way the model carries a <see cref="ScoreNormalization"/>, which the saver writes to
/// <c>reward_normalization.json</c> and the loader reads back, so every reader of the reward model's scores (PPO, eval,
/// best-of-n) sees normalised scores.
/// </summary>
public static class RewardNormalization
{
    /// <summary><c>reward_normalization.json</c>, beside the weights.</summary>
    public const string File = ScoreNormalizationFile.Name;

    /// <summary>What <see cref="RewardTrainer"/> measures on: <paramref name="pairs"/> training pairs in file order, both
    /// responses of each (a response in several pairs, as rankings give, counts once per pair).</summary>
    public static string TrainingPairsDescription(int pairs) =>
        $"the first {pairs} training pairs' chosen and rejected responses (prompt + response, as the reward model scores them)";

    /// <summary>
    /// Normalises <paramref name="model"/> on <paramref name="samples"/> (token ids of prompt + response) and writes
    /// <c>reward_normalization.json</c> into <paramref name="outputDir"/>; the model's next save writes the same file.
    /// Normalising an already normalised model composes: the result has mean 0 and std 1 on the new samples.
    /// </summary>
    public static ScoreNormalization Apply(ScalarHeadModel model, IReadOnlyList<int[]> samples, int padId, string outputDir,
        ITrainingProgress? progress, string? measuredOn = null)
    {
        var normalization = Apply(model, samples, padId, measuredOn ?? TrainingPairsDescription(samples.Count / 2));
        ScoreNormalizationFile.Write(outputDir, normalization);
        progress?.Message(string.Create(CultureInfo.InvariantCulture,
            $"reward: normalised on {samples.Count} samples (mean {normalization.MeanBefore:G4} -> {normalization.MeanAfter:G4}, std {normalization.StdBefore:G4} -> {normalization.StdAfter:G4})"));
        return normalization;
    }

    /// <summary>Normalises the model in memory on <paramref name="samples"/>, described by <paramref name="measuredOn"/>.</summary>
    public static ScoreNormalization Apply(ScalarHeadModel model, IReadOnlyList<int[]> samples, int padId, string measuredOn)
    {
        if (samples.Count == 0) throw new UserError("reward normalisation: no samples to measure on");
        var before = RewardTrainer.Score(model, samples, padId);   // includes any earlier run-time shift
        var (mean, rawStd) = MeanStd(before);
        double std = rawStd > 1e-8 ? rawStd : 1.0;   // constant scores (or one sample): shift only
        var previous = model.Normalization;
        // Wanted: (s - mean)/std with s = w·h + r (r: the earlier run-time shift) = (w/std)·h + (r - mean)/std.
        double shift = ((previous?.RuntimeShift ?? 0.0) - mean) / std;
        bool inWeights = false;
        using (no_grad())
        {
            var w = model.score.weight!;                                               // [1,C]
            w.mul_(1.0 / std);
            var bias = model.named_parameters().FirstOrDefault(p => p.name.EndsWith("ln_f.bias")).parameter;
            if (bias is not null)
            {
                // score = w·h; adding delta = c * w/|w|² to h's bias adds exactly c to every score.
                var wv = w.squeeze(0);
                bias.add_(wv * shift / wv.dot(wv));
                inWeights = true;
            }
        }
        model.Normalization = new ScoreNormalization
        {
            Gain = (previous?.Gain ?? 1.0) / std, Shift = shift, ShiftInWeights = inWeights,
            MeasuredOn = measuredOn, Samples = samples.Count, MeanBefore = mean, StdBefore = rawStd,
        };
        var (meanAfter, stdAfter) = MeanStd(RewardTrainer.Score(model, samples, padId));
        return model.Normalization = model.Normalization with { MeanAfter = meanAfter, StdAfter = stdAfter };
    }

    static (double Mean, double Std) MeanStd(double[] x)
    {
        double mean = x.Average();
        return (mean, x.Length < 2 ? double.NaN : Math.Sqrt(x.Sum(v => (v - mean) * (v - mean)) / (x.Length - 1)));
    }
}
