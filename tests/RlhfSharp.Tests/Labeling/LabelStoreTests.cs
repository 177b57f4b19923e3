using Microsoft.Data.Sqlite;
using RlhfSharp.Labeling;
using Xunit;

namespace RlhfSharp.Tests.Labeling;

public class LabelStoreTests
{
    [Fact]
    public void StoresOnlyAHashOfTheTokenAndRunsInWalMode()
    {
        using var f = new LabelingFixture();
        var token = f.Store.AddLabeler("bob", false);
        Assert.Equal("bob", f.Store.Authenticate(token)!.Name);
        Assert.Null(f.Store.Authenticate(token + "x"));
        using var c = new SqliteConnection($"Data Source={f.DbPath}");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT group_concat(token_hash, ' ') FROM labelers";
        var hashes = (string)cmd.ExecuteScalar()!;
        Assert.DoesNotContain(token, hashes);
        Assert.Contains(Tokens.Hash(token), hashes);
        cmd.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", (string)cmd.ExecuteScalar()!);
    }

    [Fact]
    public async Task EachTaskGoesToRedundancyDifferentLabelers()
    {
        using var f = new LabelingFixture();
        f.AddTasks(3, k: 2);
        var ids = new List<long>();
        for (int i = 0; i < 4; i++) { f.Store.AddLabeler($"l{i}", false); ids.Add(f.Store.Labelers().Single(l => l.Name == $"l{i}").Id); }
        // Four labelers ask at once, before anyone submits: with N=2 each task is leased to two of them.
        var first = new List<string>();
        foreach (var id in ids) first.Add((await f.Store.NextTaskAsync(id, 2)).Task!.Id);
        Assert.Equal(["task-0", "task-0", "task-1", "task-1"], first);
        // Asking again returns the task already held.
        Assert.Equal("task-0", (await f.Store.NextTaskAsync(ids[0], 2)).Task!.Id);
        // Everyone labels until nothing is left.
        foreach (var id in ids)
            while ((await f.Store.NextTaskAsync(id, 2)).Task is { } t)
                Assert.Equal(SubmitOutcome.Created, (await f.Store.SubmitAsync(id, t.Id, Label(2), 2)).Outcome);
        var labels = f.Store.Labels();
        Assert.Equal(6, labels.Count);
        Assert.All(labels.GroupBy(l => l.TaskId), g => Assert.Equal(2, g.Select(l => l.Labeler).Distinct().Count()));
        // A fifth labeler finds nothing, and a label for a full task is refused.
        f.Store.AddLabeler("late", false);
        var late = f.Store.Labelers().Single(l => l.Name == "late").Id;
        var (none, progress) = await f.Store.NextTaskAsync(late, 2);
        Assert.Null(none);
        Assert.Equal(0, progress.Remaining);
        Assert.Equal(SubmitOutcome.TaskFull, (await f.Store.SubmitAsync(late, "task-0", Label(2), 2)).Outcome);
    }

    [Fact]
    public async Task SkippedTasksAreNotOfferedAgain()
    {
        using var f = new LabelingFixture();
        f.AddTasks(2, k: 2);
        var me = f.Store.Labelers().Single().Id;
        Assert.Equal("task-0", (await f.Store.NextTaskAsync(me, 1)).Task!.Id);
        Assert.True(await f.Store.SkipAsync(me, "task-0"));
        Assert.False(await f.Store.SkipAsync(me, "nope"));
        var (next, progress) = await f.Store.NextTaskAsync(me, 1);
        Assert.Equal("task-1", next!.Id);
        Assert.Equal(new LabelerProgress(0, 1), progress);
    }

    [Fact]
    public void ImportNamesTheFileAndLineOfABadTaskAndAddsNothing()
    {
        using var f = new LabelingFixture();
        var path = f.File("tasks.jsonl");
        File.WriteAllLines(path, [
            """{"prompt":"p","responses":["a","b"],"id":"one","source":"x"}""",
            "",
            """{"prompt":"q","responses":["a"]}""",
        ]);
        var e = Assert.Throws<UserError>(() => TaskImport.Import(f.Store, path));
        Assert.StartsWith($"{path}:3:", e.Message);
        Assert.Equal(0, f.Store.CountTasks());

        File.WriteAllLines(path, ["""{"prompt":"p","responses":["a","b"],"id":"one"}""", "{not json"]);
        Assert.StartsWith($"{path}:2:", Assert.Throws<UserError>(() => TaskImport.Import(f.Store, path)).Message);

        File.WriteAllLines(path, ["""{"prompt":"p","responses":["a","b"],"id":7}""", """{"prompt":"p2","responses":["c","d"]}"""]);
        Assert.Equal(["7", TaskIds.FromContent("p2", ["c", "d"])], TaskImport.Import(f.Store, path));
        // The same file again: every id is already there.
        Assert.StartsWith($"{path}:1:", Assert.Throws<UserError>(() => TaskImport.Import(f.Store, path)).Message);
        Assert.Equal(2, f.Store.CountTasks());
    }

    [Fact]
    public void GenerateTasksStoresKSampledResponsesPerPrompt()
    {
        using var f = new LabelingFixture();
        var ids = TaskGeneration.Generate(f.Store, ["p0", "p1", "p2"], 3,
            (prompts, k) => prompts.Select(p => (IReadOnlyList<string>)Enumerable.Range(0, k).Select(j => $"{p}/{j}").ToList()).ToList(),
            batchSize: 2);
        Assert.Equal(3, ids.Count);
        Assert.Equal(["p1/0", "p1/1", "p1/2"], f.Store.GetTask(ids[1])!.Responses);
    }

    [Fact]
    public void ExportGivesCkPairsBestFirst()
    {
        var label = new StoredLabel(1, "t", "P", ["r0", "r1", "r2"], "ann", [2, 0, 1],
            new Dictionary<int, int> { [0] = 4, [1] = 1, [2] = 7 },
            new Dictionary<int, IReadOnlyList<string>> { [0] = [], [1] = ["harmful_advice"], [2] = [] }, "\"\"", DateTime.UtcNow);
        var lines = LabelExport.PairLines(label).ToList();
        Assert.Equal(
        [
            """{"prompt":"P","chosen":"r2","rejected":"r0","labeler":"ann","task_id":"t","group_id":"t/ann","ratings":{"chosen":7,"rejected":4},"flags":{"chosen":[],"rejected":[]}}""",
            """{"prompt":"P","chosen":"r2","rejected":"r1","labeler":"ann","task_id":"t","group_id":"t/ann","ratings":{"chosen":7,"rejected":1},"flags":{"chosen":[],"rejected":["harmful_advice"]}}""",
            """{"prompt":"P","chosen":"r0","rejected":"r1","labeler":"ann","task_id":"t","group_id":"t/ann","ratings":{"chosen":4,"rejected":1},"flags":{"chosen":[],"rejected":["harmful_advice"]}}""",
        ], lines);
    }

    [Fact]
    public void ExportReadsBackThroughTheComparisonReader()
    {
        using var f = new LabelingFixture();
        var label = new StoredLabel(1, "t", "Prompt é", ["r0", "r1 ✓", "r2"], "ann", [1, 2, 0],
            new Dictionary<int, int> { [0] = 2, [1] = 6, [2] = 4 },
            new Dictionary<int, IReadOnlyList<string>> { [0] = ["harmful_advice"], [1] = [], [2] = [] }, "\"\"", DateTime.UtcNow);
        var path = f.File("export.jsonl");
        using (var writer = new StreamWriter(path)) Assert.Equal(3, LabelExport.Write([label], writer));

        var pairs = RlhfSharp.Data.ComparisonReader.Read(path).Pairs;
        Assert.Equal([("r1 ✓", "r2"), ("r1 ✓", "r0"), ("r2", "r0")], pairs.Select(p => (p.Chosen, p.Rejected)));
        Assert.All(pairs, p => Assert.Equal("Prompt é", p.Prompt));
        Assert.All(pairs, p => Assert.Equal("t/ann", p.GroupId));
        Assert.Equal(2, (int)pairs[1].Metadata["ratings"]!["rejected"]!);
        Assert.Equal("harmful_advice", (string)pairs[1].Metadata["flags"]!["rejected"]![0]!);
    }

    static LabelInput Label(int k) => new(Enumerable.Range(0, k).ToList(), Enumerable.Range(0, k).ToDictionary(i => i, _ => 4),
        Enumerable.Range(0, k).ToDictionary(i => i, _ => (IReadOnlyList<string>)[]), "\"\"");
}
