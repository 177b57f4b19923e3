using RlhfSharp.Distributed;
using RlhfSharp.Tests.Infrastructure;
using RlhfSharp.Training.Core;
using Xunit;

namespace RlhfSharp.Tests.Distributed;

/// <summary><c>--distributed</c> on the command line: <c>mpirun -np 2 rlhf pretrain ... --distributed mpi</c> trains with
/// rank 0 alone writing and reporting, and a phase without data parallelism refuses the option with exit code 2.</summary>
[Collection(MpiCollection.Name)]
public sealed class MpiCliTests
{
    [Fact]
    public void Mpirun_pretrain_writes_once_from_rank_0_and_a_phase_without_support_refuses_with_exit_2()
    {
        using var tmp = new TempDir();
        File.WriteAllText(tmp.File("model.json"), """{"model_type":"gpt2","vocab_size":258,"n_embd":32,"n_layer":2,"n_head":2,"n_positions":32}""");
        File.WriteAllText(tmp.File("text.txt"), File.ReadAllText(Path.Combine(SharedPaths.Data, "tinyshakespeare", "input.txt"))[..8000]);
        var output = tmp.File("pre");
        var r = MpiRun.Run(2, "rlhf.dll", "pretrain", "--config", tmp.File("model.json"), "--data", tmp.File("text.txt"), "--output", output,
            "--max-steps", "4", "--batch-size", "4", "--log-every", "1", "--distributed", "mpi");
        Assert.True(r.ExitCode == 0, r.All);
        Assert.Equal(1, CountOf(r.Stderr, "data-parallel over 2 processes, 2 examples each per micro-batch"));
        Assert.Equal(1, CountOf(r.Stderr, "pretrain: 4 steps in"));
        Assert.Equal(4, File.ReadAllLines(Path.Combine(output, "metrics.jsonl")).Length);
        Assert.True(File.Exists(Path.Combine(output, "model.safetensors")));

        // Three ranks cannot split a batch of 4: one clear line and exit code 2 (MPI_Abort carries it to mpirun).
        var uneven = MpiRun.Run(3, "rlhf.dll", "pretrain", "--config", tmp.File("model.json"), "--data", tmp.File("text.txt"), "--output", tmp.File("uneven"),
            "--max-steps", "2", "--batch-size", "4", "--distributed", "mpi");
        Assert.Equal(2, uneven.ExitCode);
        Assert.Contains("cannot be split evenly over 3 processes", uneven.Stderr);

        File.WriteAllLines(tmp.File("prompts.jsonl"), ["""{"prompt": "1+1=", "answer": "2"}""", """{"prompt": "2+2=", "answer": "4"}"""]);
        var grpo = MpiRun.Run(null, "rlhf.dll", "grpo", "--policy", output, "--reward-fn", "number", "--prompts", tmp.File("prompts.jsonl"),
            "--output", tmp.File("grpo"), "--distributed", "mpi");
        Assert.Equal(2, grpo.ExitCode);
        Assert.Contains("grpo: --distributed mpi is not supported by this phase", grpo.Stderr);

        var bad = MpiRun.Run(null, "rlhf.dll", "pretrain", "--config", tmp.File("model.json"), "--data", tmp.File("text.txt"), "--output", tmp.File("bad"),
            "--distributed", "gloo");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("--distributed must be none or mpi, got 'gloo'", bad.Stderr);
    }

    [Fact]
    public void A_phase_run_in_one_process_refuses_a_distributed_mode_it_does_not_support()
    {
        using var tmp = new TempDir();
        var e = Assert.Throws<UserError>(() => PhaseStart.Check("ppo", new RunOptions { Output = tmp.Path, Distributed = DistributedMode.Mpi }));
        Assert.Contains("ppo: --distributed mpi is not supported", e.Message);
    }

    static int CountOf(string text, string part) => text.Split('\n').Count(l => l.Contains(part));
}
