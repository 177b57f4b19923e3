using System.Text.Json.Nodes;
using RlhfSharp.Evaluation;
using RlhfSharp.Labeling;
using RlhfSharp.Tests.Cli;
using RlhfSharp.Tests.Infrastructure;
using Xunit;

namespace RlhfSharp.Tests.Labeling;

/// <summary><c>rlhf label stats --winrate</c>: people's verdicts on the tasks of <c>rlhf eval winrate --export-tasks</c>,
/// read back into A's win rate, against a count done here.</summary>
public class HumanWinRateTests
{
    static readonly string Gpt2 = SharedPaths.Fixture("gpt2-tiny"), Llama = SharedPaths.Fixture("llama-tiny");

    static LabelInput Ranked(int first) => new([first, 1 - first], new Dictionary<int, int> { [0] = 4, [1] = 4 },
        new Dictionary<int, IReadOnlyList<string>>(), "\"\"");

    [Fact]
    public async Task Cli_LabelStatsWinrate_EqualsAHandCountOfExportedTaskVerdicts()
    {
        using var f = new LabelingFixture();
        var prompts = f.File("prompts.txt");
        File.WriteAllLines(prompts, ["Tell me a story", "why is the sky blue?", "hello", "the labeler ranks outputs", "one more prompt"]);
        var exported = f.File("tasks.jsonl");
        var r = RlhfProcess.Run("eval", "winrate", "--a", Gpt2, "--b", Llama, "--prompts", prompts, "--max-new-tokens", "6", "--seed", "3", "--export-tasks", exported);
        Assert.True(r.ExitCode == 0, r.Stderr);
        // One more win-rate task whose two answers are the same text (a tie), and an ordinary task that is no win-rate task.
        File.AppendAllLines(exported, [
            """{"id":"same","prompt":"p","responses":["x","x"],"a_position":1}""",
            """{"id":"plain","prompt":"p","responses":["r0","r1"]}""",
        ]);
        TaskImport.Import(f.Store, exported);

        f.Store.AddLabeler("ann", false); f.Store.AddLabeler("bob", false);
        long ann = f.Store.Labelers().Single(l => l.Name == "ann").Id, bob = f.Store.Labelers().Single(l => l.Name == "bob").Id;
        var meta = f.Store.TaskMetadata();
        var tasks = meta.Where(kv => kv.Value?.Contains("a_position") == true).Select(kv => kv.Key).Where(id => id != "same").ToList();
        Assert.Equal(5, tasks.Count);
        int APos(string id) => JsonNode.Parse(meta[id]!)!["a_position"]!.GetValue<int>();

        // ann prefers A on tasks 0 and 1 and B on task 2, skips task 3; bob prefers B on task 0 and ranks the tie and the
        // plain task; task 4 stays unlabelled. The plain task and the skip are left out of the count. The tiny fixture
        // models may answer a prompt alike: such a task is a tie whichever side the labeler ranks first.
        async Task Submit(long who, string id, int first) =>
            Assert.Equal(SubmitOutcome.Created, (await f.Store.SubmitAsync(who, id, Ranked(first), 2)).Outcome);
        var verdictsByHand = new List<(string Task, bool PrefersA)>
        {
            (tasks[0], true), (tasks[1], true), (tasks[2], false), (tasks[0], false), ("same", true),
        };
        await Submit(ann, tasks[0], APos(tasks[0]));
        await Submit(ann, tasks[1], APos(tasks[1]));
        await Submit(ann, tasks[2], 1 - APos(tasks[2]));
        Assert.True(await f.Store.SkipAsync(ann, tasks[3]));
        await Submit(bob, tasks[0], 1 - APos(tasks[0]));
        await Submit(bob, "same", APos("same"));
        await Submit(bob, "plain", 0);

        int wins = 0, ties = 0, losses = 0;
        foreach (var (id, prefersA) in verdictsByHand)
        {
            var t = f.Store.GetTask(id)!;
            if (t.Responses[0] == t.Responses[1]) ties++;
            else if (prefersA) wins++;
            else losses++;
        }
        Assert.True(ties >= 1);
        var verdicts = WinRateVerdicts.From(f.Store);
        Assert.Equal(new WinRateVerdicts(wins, ties, losses, Skips: 1, Tasks: 6, UnlabelledTasks: 2), verdicts);

        var stats = RlhfProcess.Run("label", "stats", "--db", f.DbPath, "--winrate", "--json");
        Assert.True(stats.ExitCode == 0, stats.Stderr);
        var json = JsonNode.Parse(stats.Stdout)!;
        Assert.Equal((wins + 0.5 * ties) / 5, json["win_rate"]!.GetValue<double>());
        var wilson = Statistics.Rate(wins + 0.5 * ties, 5);
        Assert.Equal([wilson.Lo, wilson.Hi], json["ci95"]!.AsArray().Select(x => x!.GetValue<double>()).ToArray());
        Assert.Equal(5, json["n"]!.GetValue<int>());
        Assert.Equal(1, json["skips"]!.GetValue<int>());
        Assert.Equal(ties, json["ties"]!.GetValue<int>());

        var text = RlhfProcess.Run("label", "stats", "--db", f.DbPath, "--winrate");
        Assert.Equal(0, text.ExitCode);
        Assert.Contains($"win rate of A {(wins + 0.5 * ties) / 5:F3}", text.Stdout);
    }

    [Fact]
    public void Cli_LabelStatsWinrate_WithoutWinRateTasksIsAnError()
    {
        using var f = new LabelingFixture();
        f.AddTasks(2, k: 2);
        var r = RlhfProcess.Run("label", "stats", "--db", f.DbPath, "--winrate");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("no win-rate tasks", r.Stderr);
    }

    [Fact]
    public void BadAPositionIsAnErrorNamingTheTask()
    {
        using var f = new LabelingFixture();
        f.Store.AddTasks([new NewTask("t1", "p", ["a", "b"], """{"a_position":2}""")]);
        var e = Assert.Throws<UserError>(() => WinRateVerdicts.From(f.Store));
        Assert.Contains("task t1: a_position must be 0 or 1", e.Message);
    }
}
