using System.Text.Json.Nodes;
using RlhfSharp.Tests.Infrastructure;
using RlhfSharp.Training.Core;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using OurAdamW = RlhfSharp.Training.Core.AdamW;

namespace RlhfSharp.Tests.Training.Core;

/// <summary>Resume must be exact: N steps in one go equal N/2, save, fresh objects, load, N/2 more.</summary>
[Collection(GlobalRngCollection.Name)]
public class CheckpointResumeTests
{
    const int N = 8, Batch = 4, DataSize = 10;   // 8 steps x 4 = 3.2 epochs: the sampler crosses epochs
    static readonly LrSchedule Schedule = LrSchedule.Cosine(3e-2, warmupSteps: 2, totalSteps: N);

    sealed class Run : IDisposable
    {
        public readonly ToyModel Model;
        public readonly OurAdamW Opt;
        public readonly EpochSampler Sampler = new(DataSize, seed: 3);
        readonly Tensor X, Y;

        public Run(long initSeed)
        {
            Model = new ToyModel(dropout: 0.3).Randomize(initSeed);
            Model.train();
            Opt = new OurAdamW(Model, new AdamWOptions { Lr = Schedule.MaxLr, WeightDecay = 0.1 });
            using var g = new Generator(11);
            X = randn(new long[] { DataSize, 6 }, dtype: ScalarType.Float64, generator: g);
            Y = randn(new long[] { DataSize, 3 }, dtype: ScalarType.Float64, generator: g);
        }

        public void Train(long from, long to)
        {
            for (long step = from; step < to; step++)
            {
                using var scope = NewDisposeScope();
                Opt.Lr = Schedule.At(step);
                Opt.ZeroGrad();
                var idx = tensor(Sampler.NextBatch(Batch));
                var loss = (Model.forward(X.index_select(0, idx)) - Y.index_select(0, idx)).square().mean();
                loss.backward();
                var norm = Opt.ClipGradNorm(1.0);
                NonFiniteGuard.Check(step, loss, norm);
                Opt.Step();
            }
        }

        public CheckpointData Checkpoint(long step) =>
            new CheckpointData { Step = step, DataPosition = Sampler.Position, TrainerState = new JsonObject { ["kl_coef"] = 0.25 } }
                .AddModule("policy", Model)
                .Also(d => d.Optimizers["policy"] = Opt);

        public void Dispose() { Opt.Dispose(); Model.Dispose(); X.Dispose(); Y.Dispose(); }
    }

    static Run ResumeFrom(string dir, bool restoreRng = true)
    {
        manual_seed(999);                   // a new process starts with other RNG state and other weights
        var run = new Run(initSeed: 55);
        var ckpt = CheckpointStore.LoadLatest(dir) ?? throw new Xunit.Sdk.XunitException("no checkpoint");
        ckpt.LoadModule("policy", run.Model);
        ckpt.LoadOptimizer("policy", run.Opt);
        if (restoreRng) ckpt.RestoreTorchRng();
        run.Sampler.Skip(ckpt.DataPosition!);
        Assert.Equal(0.25, ckpt.TrainerState["kl_coef"]!.GetValue<double>());
        run.Train(ckpt.Step, N);
        return run;
    }

    [Fact]
    public void ResumedTrainingIsBitwiseEqualToUninterruptedTraining()
    {
        using var dir = new TempDir();
        manual_seed(7);
        using var straight = new Run(initSeed: 1);
        straight.Train(0, N);

        manual_seed(7);
        using (var first = new Run(initSeed: 1))
        {
            first.Train(0, N / 2);
            new CheckpointStore(dir.Path).Save(first.Checkpoint(N / 2));
        }
        using var resumed = ResumeFrom(dir.Path);

        var expected = straight.Model.Snapshot();
        var actual = resumed.Model.Snapshot();
        foreach (var (name, values) in expected) Assert.Equal(values, actual[name]);   // bitwise
        Assert.Equal(straight.Sampler.Position, resumed.Sampler.Position);
        Assert.Equal(N, resumed.Opt.StepCount);

        // Dropout really consumes RNG: skipping the RNG restore changes the result, so the check above can fail.
        using var noRng = ResumeFrom(dir.Path, restoreRng: false);
        Assert.NotEqual(expected["fc1.weight"], noRng.Model.Snapshot()["fc1.weight"]);
    }

    [Fact]
    public void InterruptedSaveLeavesThePreviousCheckpointAsLatest()
    {
        using var dir = new TempDir();
        var store = new CheckpointStore(dir.Path);
        manual_seed(7);
        using var run = new Run(initSeed: 1);
        run.Train(0, 2);
        store.Save(run.Checkpoint(2));
        var savedWeights = run.Model.Snapshot();
        run.Train(2, 4);

        var crashing = run.Checkpoint(4);
        crashing.Models["value"] = folder =>
        {
            File.WriteAllBytes(Path.Combine(folder, "model.safetensors"), new byte[100]);   // partial file
            throw new IOException("disk full (simulated)");
        };
        Assert.Throws<IOException>(() => store.Save(crashing));
        Assert.False(Directory.Exists(Path.Combine(dir.Path, "step-4")));

        // A killed writer leaves a temp folder, and a damaged step folder may exist; neither is chosen.
        Directory.CreateDirectory(Path.Combine(dir.Path, ".tmp-step-6"));
        File.WriteAllText(Path.Combine(dir.Path, ".tmp-step-6", "state.json"), "{}");
        CopyDir(Path.Combine(dir.Path, "step-2"), Path.Combine(dir.Path, "step-9"));
        File.WriteAllBytes(Path.Combine(dir.Path, "step-9", "models", "policy", "model.safetensors"), new byte[10]);   // truncated

        var latest = CheckpointStore.LoadLatest(dir.Path);
        Assert.NotNull(latest);
        Assert.Equal(2, latest!.Step);
        File.Delete(Path.Combine(dir.Path, CheckpointStore.LatestFile));   // without the pointer: the scan skips step-9
        latest = CheckpointStore.LoadLatest(dir.Path);
        Assert.Equal(2, latest!.Step);

        using var fresh = new ToyModel(dropout: 0.3);
        latest.LoadModule("policy", fresh);
        Assert.Equal(savedWeights["fc2.weight"], fresh.Snapshot()["fc2.weight"]);

        // The next save clears the leftovers.
        store.Save(run.Checkpoint(4));
        Assert.False(Directory.Exists(Path.Combine(dir.Path, ".tmp-step-6")));
        Assert.Equal(4, CheckpointStore.LoadLatest(dir.Path)!.Step);
    }

    [Fact]
    public void KeepsTheLastKAndReturnsNullWhenEmpty()
    {
        using var dir = new TempDir();
        Assert.Null(CheckpointStore.LoadLatest(dir.File("does-not-exist")));
        Assert.Null(CheckpointStore.LoadLatest(dir.Path));
        var store = new CheckpointStore(dir.Path, keepLast: 2);
        using var m = new ToyModel();
        for (long step = 1; step <= 4; step++)
            store.Save(new CheckpointData { Step = step }.AddModule("m", m));
        var left = Directory.GetDirectories(dir.Path).Select(Path.GetFileName).Order().ToArray();
        Assert.Equal(new[] { "step-3", "step-4" }, left);
        Assert.Equal("step-4", File.ReadAllText(Path.Combine(dir.Path, "latest")).Trim());
        var c = store.LoadLatest()!;
        Assert.Equal(4, c.Step);
        Assert.Null(c.DataPosition);
        Assert.Throws<UserError>(() => c.ModelFolder("nope"));
        // Re-saving an existing step replaces it.
        store.Save(new CheckpointData { Step = 4, SchedulerStep = 40 }.AddModule("m", m));
        Assert.Equal(40, store.LoadLatest()!.SchedulerStep);
    }

    static void CopyDir(string from, string to)
    {
        foreach (var d in Directory.GetDirectories(from, "*", SearchOption.AllDirectories)) Directory.CreateDirectory(d.Replace(from, to));
        Directory.CreateDirectory(to);
        foreach (var f in Directory.GetFiles(from, "*", SearchOption.AllDirectories)) File.Copy(f, f.Replace(from, to));
    }
}

static class Fluent
{
    public static T Also<T>(this T value, Action<T> act) { act(value); return value; }
}
