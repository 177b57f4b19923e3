using RlhfSharp.Distributed;
using RlhfSharp.Tests.Infrastructure;
using RlhfSharp.Training.Core;
using Xunit;

namespace RlhfSharp.Tests.Distributed;

/// <summary><c>--distributed</c> on the command line: <c>mpirun -np 2 rlhf pretrain ... --distributed mpi</c> trains with
/// rank 0 alone writing and reporting (pretrain, grpo, ppo), an uneven split or a rollout server is refused with exit
/// code 2, and a phase without data parallelism refuses the option.</summary>
[Collection(MpiCollection.Name)]
public sealed class MpiCliTests
{
    [Fact]
    public void Mpirun_pretrain_and_grpo_write_once_from_rank_0_and_a_rollout_server_is_refused_with_exit_2()
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

        // GRPO on the model just trained: 2 prompts per iteration, one group of 2 per rank.
        File.WriteAllLines(tmp.File("prompts.jsonl"), ["""{"prompt": "1+1=", "answer": "2"}""", """{"prompt": "2+2=", "answer": "4"}"""]);
        string[] grpoArgs = ["grpo", "--policy", output, "--reward-fn", "number", "--prompts", tmp.File("prompts.jsonl"), "--iterations", "2",
            "--prompts-per-iteration", "2", "--group-size", "2", "--max-new-tokens", "4", "--save-every", "1"];
        var grpoOutput = tmp.File("grpo");
        var grpo = MpiRun.Run(2, "rlhf.dll", [.. grpoArgs, "--output", grpoOutput, "--distributed", "mpi"]);
        Assert.True(grpo.ExitCode == 0, grpo.All);
        Assert.Equal(1, CountOf(grpo.Stderr, "grpo: data-parallel over 2 processes, 1 prompts each per iteration"));
        Assert.Equal(1, CountOf(grpo.Stderr, "grpo: 2 iterations"));
        Assert.Equal(2, File.ReadAllLines(Path.Combine(grpoOutput, "metrics.jsonl")).Length);
        Assert.True(File.Exists(Path.Combine(grpoOutput, "model.safetensors")));

        // A rollout server is refused with --distributed (exit 2, before anything is loaded).
        var server = MpiRun.Run(null, "rlhf.dll", [.. grpoArgs, "--output", tmp.File("server"), "--rollout-engine", "openai", "--rollout-url", "http://127.0.0.1:9",
            "--distributed", "mpi"]);
        Assert.Equal(2, server.ExitCode);
        Assert.Contains("grpo: --rollout-engine openai cannot be combined with --distributed mpi", server.Stderr);

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

    [Fact]
    public void Mpirun_ppo_trains_on_two_ranks_with_rank_0_alone_writing()
    {
        using var tmp = new TempDir();
        var policy = SharedPaths.Fixture("gpt2-tiny");
        var rm = PpoCli.PpoCommandTests.MakeRewardModel(tmp, policy);
        File.WriteAllLines(tmp.File("prompts.txt"), ["Tell me a story.", "What is two plus two?", "Name a colour.", "Say hello."]);
        File.WriteAllText(tmp.File("ptx.txt"), File.ReadAllText(Path.Combine(SharedPaths.Data, "tinyshakespeare", "input.txt"))[..3000]);
        var output = tmp.File("ppo");
        var r = MpiRun.Run(2, "rlhf.dll", "ppo", "--policy", policy, "--reward", rm, "--prompts", tmp.File("prompts.txt"), "--ptx-data", tmp.File("ptx.txt"),
            "--output", output, "--iterations", "2", "--rollout-batch-size", "4", "--mini-batch-size", "2", "--ppo-epochs", "1", "--max-new-tokens", "6",
            "--ptx-block-size", "16", "--ptx-batch-size", "2", "--save-every", "1", "--kl-target", "3", "--distributed", "mpi");
        Assert.True(r.ExitCode == 0, r.All);
        Assert.Equal(1, CountOf(r.Stderr, "ppo: data-parallel over 2 processes, 2 prompts each per iteration"));
        Assert.Equal(1, CountOf(r.Stderr, "ppo: 2 iterations"));
        Assert.Equal(2, File.ReadAllLines(Path.Combine(output, "metrics.jsonl")).Length);
        Assert.True(File.Exists(Path.Combine(output, "model.safetensors")));
        Assert.True(File.Exists(Path.Combine(output, "value", "model.safetensors")));
        Assert.Equal(2, CheckpointStore.LoadLatest(Path.Combine(output, "checkpoints"))!.Step);

        // Three ranks cannot split a rollout batch of 4: exit 2 with the setting named.
        var uneven = MpiRun.Run(3, "rlhf.dll", "ppo", "--policy", policy, "--reward", rm, "--prompts", tmp.File("prompts.txt"), "--output", tmp.File("uneven"),
            "--iterations", "1", "--rollout-batch-size", "4", "--mini-batch-size", "2", "--ptx-coef", "0", "--distributed", "mpi");
        Assert.Equal(2, uneven.ExitCode);
        Assert.Contains("ppo: rollout_batch_size 4 cannot be split evenly over 3 processes", uneven.Stderr);
    }

    static int CountOf(string text, string part) => text.Split('\n').Count(l => l.Contains(part));
}
