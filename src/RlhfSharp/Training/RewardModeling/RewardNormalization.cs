using System.Globalization;
using System.Text.Json.Nodes;
using RlhfSharp.Models;
using RlhfSharp.Training.Core;
using static TorchSharp.torch;

namespace RlhfSharp.Training.RewardModeling;

/// <summary>
/// lm-human-preferences' reward normalisation (Ziegler et al. 2019): after training, set the reward's gain and bias so
/// scores of reference samples have mean 0 and std 1. Our head is bias-free (HF layout), so: the gain 1/std scales
/// <c>score.weight</c> (exact); the shift -mean/std goes into the final norm's bias along the head's direction
/// (<c>ln_f.bias += -m/std * w/|w|²</c>, exact because the RM uses the final hidden state only through the head) where
/// that bias exists (GPT-2). Either way the figures are written to <c>reward_normalization.json</c>.
/// </summary>
public static class RewardNormalization
{
    public const string File = "reward_normalization.json";

    public static void Apply(ScalarHeadModel model, IReadOnlyList<int[]> samples, int padId, string outputDir, ITrainingProgress? progress)
    {
        var before = RewardTrainer.Score(model, samples, padId);
        double mean = before.Average();
        double std = Math.Sqrt(before.Sum(x => (x - mean) * (x - mean)) / Math.Max(1, before.Length - 1));
        if (!(std > 1e-8)) std = 1.0;
        bool shifted = false;
        using (no_grad())
        {
            var w = model.score.weight!;                                               // [1,C]
            w.mul_(1.0 / std);
            var bias = model.named_parameters().FirstOrDefault(p => p.name.EndsWith("ln_f.bias")).parameter;
            if (bias is not null)
            {
                // score = w·h; adding delta = c * w/|w|² to h's bias adds exactly c to every score.
                var wv = w.squeeze(0);
                bias.add_(wv * (-mean / std) / wv.dot(wv));
                shifted = true;
            }
        }
        var after = RewardTrainer.Score(model, samples, padId);
        var json = new JsonObject
        {
            ["samples"] = samples.Count, ["mean_before"] = mean, ["std_before"] = std, ["gain"] = 1.0 / std,
            ["shift_folded_into_ln_f_bias"] = shifted, ["mean_after"] = after.Average(),
        };
        System.IO.File.WriteAllText(Path.Combine(outputDir, File), json.ToJsonString(new() { WriteIndented = true }));
        progress?.Message(string.Create(CultureInfo.InvariantCulture,
            $"reward: normalised on {samples.Count} samples (mean {mean:G4} -> {after.Average():G4}, gain {1.0 / std:G4})"));
    }
}
