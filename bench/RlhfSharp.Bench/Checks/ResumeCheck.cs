using RlhfSharp.Checkpoints;
using RlhfSharp.Training.Core;
using RlhfSharp.Training.Ppo;
using RlhfSharp.Training.Pretraining;
using static TorchSharp.torch;

namespace RlhfSharp.Bench.Checks;

/// <summary>
/// Resume on the device. A run straight through, the same run again, and a run interrupted right after a checkpoint
/// then resumed: the resumed run's final weights against the straight run's, beside the difference between the two
/// straight runs (the device's own run-to-run determinism). Pretraining is interrupted after the checkpoint of step 4
/// of 8; PPO-ptx runs 2 iterations, then is resumed to 4.
/// <para>Pass: the resumed run differs from the straight run by no more than the two straight runs differ from each
/// other — bitwise when the device is deterministic for these kernels (the CPU is), otherwise within its own noise.</para>
/// <para>Random state: the checkpoint holds the torch CPU generator and PPO's samplers; PPO's sampling generator is
/// reseeded from (seed, iteration) every rollout (on a GPU, the device's default generator; see
/// <see cref="Generation.SeededGenerator"/>), and nothing else draws from a GPU generator after initialisation, so no
/// CUDA generator state needs saving (TorchSharp 0.107 cannot read it anyway).</para>
/// </summary>
public static class ResumeCheck
{
    public static bool Run(string device, string work)
    {
        bool ok = Results.Guard($"resume pretrain on {device} (8 steps vs 4 + resume 4)", () => Pretrain(device, work));
        ok &= Results.Guard($"resume ppo on {device} (4 iterations vs 2 + resume 2)", () => Ppo(device, work));
        return ok;
    }

    static string Fresh(string work, string name)
    {
        var dir = Path.Combine(work, "resume", name);
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        return dir;
    }

    static readonly PretrainConfig PretrainCfg = new()
    {
        Training = new TrainingConfig { MaxSteps = 8, Lr = 3e-3, WarmupSteps = 2, LogInterval = 1, EvalInterval = 0, SaveInterval = 4, Seed = 3 },
        BatchSize = 8, BlockSize = 64,
    };

    static PhaseResult PretrainOnce(string device, string output, ITrainingProgress? progress = null, CancellationToken cancel = default, bool resume = false) =>
        PretrainPhase.Run(PretrainCfg,
            new PretrainSources { Model = ModelSource.FromScratch(CheckData.TinyGpt2(), "bytes"), Documents = CheckData.Sentences(400, 11) },
            new RunOptions { Output = output, Device = device, Progress = progress ?? NullProgress.Instance, Cancellation = cancel,
                             Resume = resume ? ResumeMode.Latest : ResumeMode.Fresh });

    static (bool, string) Pretrain(string device, string work)
    {
        var a = PretrainOnce(device, Fresh(work, "pretrain-a")).OutputDir;
        var a2 = PretrainOnce(device, Fresh(work, "pretrain-a2")).OutputDir;
        var b = Fresh(work, "pretrain-b");
        using (var stop = new CancellationTokenSource())
        {
            try { PretrainOnce(device, b, new CancelAfterCheckpoint(CheckpointStore.FolderName(4), stop), stop.Token); }
            catch (OperationCanceledException) { }
        }
        var latest = CheckpointStore.LoadLatest(Path.Combine(b, "checkpoints"))
            ?? throw new InvalidOperationException("the interrupted run left no checkpoint");
        if (latest.Step != 4) throw new InvalidOperationException($"the interrupted run stopped at step {latest.Step}, not 4");
        var resumed = PretrainOnce(device, b, resume: true);
        if (resumed.ResumedFromStep != 4) throw new InvalidOperationException($"resumed from {resumed.ResumedFromStep}, not 4");
        return Verdict(Compare(a, a2), Compare(a, b));
    }

    static (bool, string) Ppo(string device, string work)
    {
        // A policy (the straight pretraining run above) and a reward model whose head is drawn from a fixed seed.
        var policy = Path.Combine(work, "resume", "pretrain-a");
        var rm = Fresh(work, "ppo-rm");
        manual_seed(5);
        using (var model = HfModelLoader.LoadScalarHeadFromCausalLM(policy)) HfModelSaver.Save(model, rm, policy);
        PpoConfig Cfg(int iterations) => new()
        {
            Iterations = iterations, RolloutBatchSize = 8, MiniBatchSize = 4, PpoEpochs = 2, MaxNewTokens = 12, PolicyLr = 1e-4,
            ValueLr = 1e-4, WarmupIterations = 1, PtxCoef = 1.0, PtxBatchSize = 4, PtxBlockSize = 32, SaveEvery = 2, Seed = 2,
        };
        var sources = new PpoSources { PolicyFolder = policy, RewardFolder = rm, Prompts = CheckData.Prompts(32, 12), PtxDocuments = CheckData.Sentences(100, 13) };
        string Once(string name, int iterations, bool resume = false, string? into = null)
        {
            var output = into ?? Fresh(work, name);
            return PpoPhase.Run(Cfg(iterations), sources, new RunOptions { Output = output, Device = device, Resume = resume ? ResumeMode.Latest : ResumeMode.Fresh }).OutputDir;
        }
        var a = Once("ppo-a", 4);
        var a2 = Once("ppo-a2", 4);
        var b = Once("ppo-b", 2);
        Once("ppo-b", 4, resume: true, into: b);
        var (runToRun, resumed) = (Compare(a, a2), Compare(a, b));
        var (valueRunToRun, valueResumed) = (Compare(Path.Combine(a, "value"), Path.Combine(a2, "value")), Compare(Path.Combine(a, "value"), Path.Combine(b, "value")));
        var (pass, detail) = Verdict(runToRun, resumed);
        var (vpass, vdetail) = Verdict(valueRunToRun, valueResumed);
        return (pass && vpass, $"policy: {detail}; value: {vdetail}");
    }

    /// <summary>Largest absolute difference over every tensor of the two folders' model.safetensors (0 = bitwise).</summary>
    static double Compare(string dirA, string dirB)
    {
        using var scope = NewDisposeScope();
        var ta = SafetensorsFile.Load(Path.Combine(dirA, "model.safetensors"));
        var tb = SafetensorsFile.Load(Path.Combine(dirB, "model.safetensors"));
        if (!ta.Keys.Order().SequenceEqual(tb.Keys.Order())) throw new InvalidOperationException($"{dirA} and {dirB} hold different tensors");
        double max = 0;
        foreach (var (key, x) in ta)
        {
            var y = tb[key];
            bool same = x.dtype == y.dtype && x.shape.SequenceEqual(y.shape) && x.eq(y).all().item<bool>();
            if (!same) max = Math.Max(max, (x.to(ScalarType.Float64) - y.to(ScalarType.Float64)).abs().max().item<double>());
        }
        return max;
    }

    static (bool, string) Verdict(double runToRun, double resumed)
    {
        string Say(double d) => d == 0 ? "bitwise equal" : $"max |diff| {Results.Sci(d)}";
        return (resumed <= runToRun, $"resumed vs straight: {Say(resumed)}; straight vs straight: {Say(runToRun)}");
    }

    /// <summary>Cancels the run once the named checkpoint is written; the phase stops before the next step.</summary>
    sealed class CancelAfterCheckpoint(string folder, CancellationTokenSource stop) : ITrainingProgress
    {
        public void Report(ProgressUpdate update) { }
        public void Message(string text)
        {
            if (text.Contains("checkpoint") && Path.GetFileName(text.Trim()) == folder) stop.Cancel();
        }
    }
}
