using RlhfSharp.Models;
using RlhfSharp.Tests.Infrastructure;
using RlhfSharp.Tests.Training.Core;
using RlhfSharp.Training.Core;
using RlhfSharp.Training.Ppo;
using RlhfSharp.Training.Rl;
using TorchSharp;
using Xunit;

namespace RlhfSharp.Tests.Ppo;

[Collection(GlobalRngCollection.Name)]
public class PpoResumeTests
{
    /// <summary>
    /// The default value model (a copy of the reward model, its own optimizer) with the adaptive KL controller: four
    /// iterations straight, or two then a resume into freshly initialised models, leave identical checkpoints —
    /// policy and value weights, both optimizers' moments and step counts, KL coefficient, samplers, RNG, iteration.
    /// </summary>
    [Fact]
    public void FromRewardValueModelWithAdaptiveKl_ResumeLeavesEverySavedStateBitwiseEqual()
    {
        var cfg = TinyPpo.BaseConfig with
        {
            Iterations = 4, SaveEvery = 2, ValueModel = ValueModelKind.FromReward,
            KlTarget = 0.02, KlHorizon = 100,   // a short horizon, so the coefficient moves measurably in four iterations
        };
        // As a Llama-family reward model loads: a run-time score shift travels with the value model.
        var normalization = new ScoreNormalization { Gain = 2.0, Shift = 0.25, ShiftInWeights = false, Samples = 8 };
        PpoTrainer Trainer(PpoConfig c, int seed, ScoreNormalization? n)
        {
            var policy = TinyPpo.Policy(seed);
            torch.manual_seed(seed + 100);
            var value = ModelFactory.CreateScalarHead(TinyPpo.Config);
            value.Normalization = n;
            return new PpoTrainer(c, new PpoModels(policy, ModelFactory.DeepCopy(TinyPpo.Policy(0)), new FunctionRewardScorer(TinyPpo.CountReward), value),
                TinyPpo.Prompts(64, 1), null, TinyPpo.Eos, TinyPpo.Pad);
        }

        using var a = new TempDir(); using var b = new TempDir();
        double straightBeta;
        using (var t = Trainer(cfg, 0, normalization)) { t.Train(a.Path, null); straightBeta = t.KlController.Value; }
        using (var t = Trainer(cfg with { Iterations = 2 }, 0, normalization)) t.Train(b.Path, null);
        using (var t = Trainer(cfg, 5, null))   // other weights and no normalisation: the checkpoint must restore them all
        {
            t.Train(b.Path, null, resume: true);
            Assert.Equal(4, t.Iteration);
            Assert.Equal(straightBeta, t.KlController.Value);
        }
        Assert.NotEqual(cfg.KlCoef, straightBeta);   // the adaptive controller did act

        string Latest(string output) => CheckpointStore.LoadLatest(Path.Combine(output, "checkpoints"))!.Folder;
        var ckpt = CheckpointStore.LoadLatest(Path.Combine(a.Path, "checkpoints"))!;
        Assert.Equal(4, ckpt.Step);
        Assert.Equal(["policy", "value"], ckpt.ModelNames.Order());
        Assert.Equal(["policy", "value"], ckpt.OptimizerNames.Order());
        Assert.Equal(straightBeta, ckpt.TrainerState["kl_controller"]!["Value"]!.GetValue<double>());
        CheckpointComparison.AssertIdentical(Latest(a.Path), Latest(b.Path));
        // The value model written at the end carries the restored normalisation too.
        Assert.Equal(File.ReadAllText(Path.Combine(a.Path, "value", "reward_normalization.json")),
                     File.ReadAllText(Path.Combine(b.Path, "value", "reward_normalization.json")));
    }
}
