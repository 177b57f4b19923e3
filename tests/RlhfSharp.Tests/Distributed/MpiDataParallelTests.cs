using System.Diagnostics;
using System.Runtime.InteropServices;
using RlhfSharp.Tests.Infrastructure;
using Xunit;

namespace RlhfSharp.Tests.Distributed;

/// <summary>
/// Data-parallel training over MPI (Open MPI 4, <c>mpirun --allow-run-as-root -np 2</c> on the CPU). The worker
/// (tests/RlhfSharp.MpiWorker) trains pretrain, sft, reward and dpo in float64 on tiny models through the library's
/// trainers; rank 0 writes the weights. Two ranks with a per-rank batch of 2 must give the weights of one process with
/// a batch of 4, a checkpoint must resume under another number of ranks, and a dead rank must end the job.
/// </summary>
[Collection(MpiCollection.Name)]
public sealed class MpiDataParallelTests
{
    const string Worker = "RlhfSharp.MpiWorker.dll";
    static readonly string[] Phases = ["pretrain", "sft", "reward", "dpo"];

    static double[] Weights(string dir, string phase, string file = "weights.f64")
    {
        var path = Path.Combine(dir, phase, file);
        Assert.True(File.Exists(path), $"{path} was not written");
        return MemoryMarshal.Cast<byte, double>(File.ReadAllBytes(path)).ToArray();
    }

    static void AssertSameWeights(string expectedDir, string actualDir, string phase, string what, string file = "weights.f64")
    {
        var expected = Weights(expectedDir, phase, file);
        var actual = Weights(actualDir, phase, file);
        Assert.Equal(expected.Length, actual.Length);
        double scale = Math.Max(1.0, expected.Max(Math.Abs));
        double worst = expected.Zip(actual, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(worst <= 1e-10 * scale, $"{phase}: {what}: weights differ by {worst:G3} (largest weight {scale:G3})");
    }

    static MpiRun.Result Ok(MpiRun.Result r, string what)
    {
        Assert.True(r.ExitCode == 0, $"{what} failed with exit code {r.ExitCode}:\n{r.All}");
        return r;
    }

    [Fact]
    public void Two_ranks_with_batch_2_give_the_weights_of_one_process_with_batch_4_in_every_supervised_phase()
    {
        using var tmp = new TempDir();
        string one = tmp.File("one"), two = tmp.File("two");
        string phases = string.Join(',', Phases);
        Ok(MpiRun.Run(null, Worker, phases, one, "3"), "one process");
        var r = Ok(MpiRun.Run(2, Worker, phases, two, "3"), "mpirun -np 2");
        foreach (var phase in Phases) AssertSameWeights(one, two, phase, "2 ranks against 1 process");

        // Clipping was active (the worker clips at 0.05): the logged pre-clip norm, the all-reduced one, is above it.
        var norms = File.ReadLines(Path.Combine(two, "pretrain", "metrics.jsonl"))
            .Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("grad_norm").GetDouble()).ToList();
        Assert.Equal(3, norms.Count);
        Assert.All(norms, n => Assert.True(n > 0.05, $"grad_norm {n} is not above the clip 0.05"));
        // Only rank 0 reports: each step is printed once.
        Assert.Equal(1, r.Stdout.Split('\n').Count(l => l.Trim() == "pretrain step 3"));
    }

    [Fact]
    public void A_checkpoint_written_by_two_ranks_resumes_in_one_and_the_other_way_round()
    {
        using var tmp = new TempDir();
        string straight = tmp.File("straight"), twoThenOne = tmp.File("two-then-one"), oneThenTwo = tmp.File("one-then-two");
        const string phases = "pretrain,sft";
        Ok(MpiRun.Run(null, Worker, phases, straight, "4"), "straight run");

        Ok(MpiRun.Run(2, Worker, phases, twoThenOne, "2"), "2 ranks, steps 1-2");
        Ok(MpiRun.Run(null, Worker, phases, twoThenOne, "4", "--resume"), "1 process, steps 3-4");

        Ok(MpiRun.Run(null, Worker, phases, oneThenTwo, "2"), "1 process, steps 1-2");
        Ok(MpiRun.Run(2, Worker, phases, oneThenTwo, "4", "--resume"), "2 ranks, steps 3-4");

        foreach (var phase in phases.Split(','))
        {
            AssertSameWeights(straight, twoThenOne, phase, "2 ranks then 1 against a straight run");
            AssertSameWeights(straight, oneThenTwo, phase, "1 process then 2 ranks against a straight run");
        }
    }

    static List<System.Text.Json.JsonElement> Metrics(string dir, string phase) =>
        File.ReadLines(Path.Combine(dir, phase, "metrics.jsonl")).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement).ToList();

    /// <summary>PPO-ptx (see the worker's Ppo): the global rollout batch of 8 split 4 + 4, sampled at temperature 0.9, whitening,
    /// score normalisation, ptx, adaptive KL, clipping, two optimizers; ppo_stop also stops epochs early on approx_kl.</summary>
    [Fact]
    public void Ppo_on_two_ranks_with_half_the_rollout_batch_each_gives_the_weights_of_one_process()
    {
        using var tmp = new TempDir();
        string one = tmp.File("one"), two = tmp.File("two");
        Ok(MpiRun.Run(null, Worker, "ppo,ppo_stop", one, "3"), "one process");
        var r = Ok(MpiRun.Run(2, Worker, "ppo,ppo_stop", two, "3"), "mpirun -np 2");
        foreach (var phase in new[] { "ppo", "ppo_stop" })
        {
            AssertSameWeights(one, two, phase, "policy, 2 ranks against 1 process");
            AssertSameWeights(one, two, phase, "value model, 2 ranks against 1 process", "value.f64");
        }

        var single = Metrics(one, "ppo");
        var metrics = Metrics(two, "ppo");
        Assert.Equal(3, metrics.Count);
        foreach (var (a, b) in single.Zip(metrics))
            foreach (var name in new[] { "reward/score_mean", "reward/score_std", "kl", "beta", "policy/approx_kl", "loss/policy", "loss/ptx", "policy/grad_norm" })
                Assert.True(Math.Abs(a.GetProperty(name).GetDouble() - b.GetProperty(name).GetDouble()) <= 1e-9, $"{name}: {a.GetProperty(name)} against {b.GetProperty(name)}");
        // What the comparison covers really happened: scores vary (normalisation does something), beta moved, clipping acted,
        // responses differ in length (the ranks' token counts differ).
        Assert.All(metrics, m => Assert.True(m.GetProperty("reward/score_std").GetDouble() > 1e-3));
        Assert.NotEqual(0.1, metrics[^1].GetProperty("beta").GetDouble());
        Assert.All(metrics, m => Assert.True(m.GetProperty("policy/grad_norm").GetDouble() > 0.05, "clipping at 0.05 was not active"));
        Assert.Contains(metrics, m => m.GetProperty("response/length_mean").GetDouble() < 6);
        var stopped = Metrics(two, "ppo_stop");
        Assert.All(stopped, m => Assert.Equal(1, m.GetProperty("ppo/early_stopped").GetDouble()));
        Assert.All(stopped, m => Assert.True(m.GetProperty("ppo/updates").GetDouble() < 4));
        // Only rank 0 reports.
        Assert.Equal(1, r.Stdout.Split('\n').Count(l => l.Trim() == "ppo step 3"));
    }

    [Fact]
    public void A_ppo_checkpoint_written_by_two_ranks_resumes_in_one_and_the_other_way_round()
    {
        using var tmp = new TempDir();
        string straight = tmp.File("straight"), twoThenOne = tmp.File("two-then-one"), oneThenTwo = tmp.File("one-then-two");
        Ok(MpiRun.Run(null, Worker, "ppo", straight, "3"), "straight run");
        Ok(MpiRun.Run(2, Worker, "ppo", twoThenOne, "2"), "2 ranks, iterations 1-2");
        Ok(MpiRun.Run(null, Worker, "ppo", twoThenOne, "3", "--resume"), "1 process, iteration 3");
        Ok(MpiRun.Run(null, Worker, "ppo", oneThenTwo, "1"), "1 process, iteration 1");
        Ok(MpiRun.Run(2, Worker, "ppo", oneThenTwo, "3", "--resume"), "2 ranks, iterations 2-3");
        foreach (var (dir, what) in new[] { (twoThenOne, "2 ranks then 1"), (oneThenTwo, "1 process then 2 ranks") })
        {
            AssertSameWeights(straight, dir, "ppo", $"policy, {what} against a straight run");
            AssertSameWeights(straight, dir, "ppo", $"value model, {what} against a straight run", "value.f64");
        }
    }

    /// <summary>GRPO (bnpo and dr_grpo) and RLOO (see the worker's CriticFree): 4 prompts x group 4 split 2 + 2 prompts,
    /// sampled at temperature 1 by the library's local engine, k3 KL, clipping.</summary>
    [Fact]
    public void Grpo_and_rloo_on_two_ranks_with_half_the_prompts_each_give_the_weights_of_one_process_and_resume_in_one()
    {
        using var tmp = new TempDir();
        string one = tmp.File("one"), two = tmp.File("two"), twoThenOne = tmp.File("two-then-one");
        string[] phases = ["grpo", "grpo_dr", "rloo"];
        Ok(MpiRun.Run(null, Worker, string.Join(',', phases), one, "3"), "one process");
        Ok(MpiRun.Run(2, Worker, string.Join(',', phases), two, "3"), "mpirun -np 2");
        foreach (var phase in phases)
        {
            AssertSameWeights(one, two, phase, "2 ranks against 1 process");
            var single = Metrics(one, phase);
            var metrics = Metrics(two, phase);
            foreach (var (a, b) in single.Zip(metrics))
                foreach (var name in new[] { "reward/score_std", "advantage/abs_mean", "loss/policy", "policy/approx_kl", "policy/grad_norm" })
                    Assert.True(Math.Abs(a.GetProperty(name).GetDouble() - b.GetProperty(name).GetDouble()) <= 1e-6, $"{phase} {name}: {a.GetProperty(name)} against {b.GetProperty(name)}");
            // Sampling differed within groups (advantages are not all 0), and clipping at 0.05 acted.
            Assert.All(metrics, m => Assert.True(m.GetProperty("advantage/abs_mean").GetDouble() > 1e-3));
            Assert.All(metrics, m => Assert.True(m.GetProperty("policy/grad_norm").GetDouble() > 0.05));
        }
        Ok(MpiRun.Run(2, Worker, "grpo", twoThenOne, "2"), "2 ranks, iterations 1-2");
        Ok(MpiRun.Run(null, Worker, "grpo", twoThenOne, "3", "--resume"), "1 process, iteration 3");
        AssertSameWeights(one, twoThenOne, "grpo", "2 ranks then 1 against a straight run");
    }

    [Fact]
    public void A_rank_that_dies_ends_the_job_with_a_clear_message_instead_of_a_hang()
    {
        using var tmp = new TempDir();
        var tag = "RLHF_MPI_TEST_TAG=" + Guid.NewGuid().ToString("N");
        var psi = MpiRun.StartInfo(2, Worker, ["pretrain", tmp.File("run"), "100000"], new Dictionary<string, string> { [tag.Split('=')[0]] = tag.Split('=')[1] });
        using var mpirun = Process.Start(psi)!;
        var stderr = mpirun.StandardError.ReadToEndAsync();
        try
        {
            // Wait until the ranks are training together (rank 0 prints each step), then kill rank 1 as the OOM killer would.
            string? line;
            while ((line = mpirun.StandardOutput.ReadLine()) is not null && line.Trim() != "pretrain step 3") { }
            if (line is null) Assert.Fail("the job ended before step 3: " + stderr.Result);   // stderr is complete only once the job ended
            var rank1 = MpiRun.ProcessesWithEnvironment(tag, "OMPI_COMM_WORLD_RANK=1");
            Assert.Single(rank1);
            var killedAt = Stopwatch.StartNew();
            Process.GetProcessById(rank1[0]).Kill();
            var stdoutRest = mpirun.StandardOutput.ReadToEndAsync();
            Assert.True(mpirun.WaitForExit(60_000), "rank 0 kept waiting for the dead rank for 60 s");
            mpirun.WaitForExit();
            var output = stdoutRest.Result + stderr.Result;
            Assert.NotEqual(0, mpirun.ExitCode);
            Assert.Contains("rank 1", output);
            Assert.Contains("signal 9", output);
            Assert.True(killedAt.Elapsed.TotalSeconds < 60, $"the job took {killedAt.Elapsed.TotalSeconds:F0} s to end");
        }
        finally
        {
            if (!mpirun.HasExited) mpirun.Kill(true);
        }
    }
}

/// <summary>The MPI tests start several processes each; running them one at a time keeps the suite's load bounded.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MpiCollection
{
    public const string Name = "mpi";
}
