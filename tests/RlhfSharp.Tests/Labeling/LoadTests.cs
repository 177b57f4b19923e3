using RlhfSharp.Labeling;
using Xunit;
using Xunit.Abstractions;

namespace RlhfSharp.Tests.Labeling;

[Collection("labeling-heavy")]
public class LoadTests(ITestOutputHelper output)
{
    [Fact]
    public async Task FiftyConcurrentLabelersTwentyLabelsEachAllAcknowledgedLabelsAreExported()
    {
        const int Labelers = 50, Each = 20, K = 4, N = 2;
        using var f = new LabelingFixture();
        f.AddTasks(Labelers * Each / N + 100, K); // spare tasks, so nobody runs dry at the tail
        var labelers = Enumerable.Range(0, Labelers).Select(i => ($"labeler{i:00}", f.Store.AddLabeler($"labeler{i:00}", false))).ToList();
        await using var server = await LabelingServer.StartAsync(f.DbPath, "127.0.0.1", 0, redundancy: N);

        var r = await LoadDriver.RunAsync(server.Url, labelers, Each);

        Assert.Equal(0, r.Failures);
        Assert.Equal(Labelers * Each, r.Acks.Count);
        var rate = r.Acks.Count / r.Elapsed.TotalSeconds;
        output.WriteLine($"load: {Labelers} labelers x {Each} labels = {r.Acks.Count} labels acknowledged in {r.Elapsed.TotalSeconds:F2} s = {rate:F0} labels/s (GET next + POST label each; WAL, synchronous=FULL)");

        // Every 201 is in the export, with its ranking: K-1 pairs where the best response is chosen, and C(K,2) in all.
        using var admin = LabelingFixture.Client(server.Url, f.AdminToken);
        var lines = (await admin.GetStringAsync("/api/admin/export")).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(Labelers * Each * K * (K - 1) / 2, lines.Count);
        var exported = lines.GroupBy(l => (l.GetProperty("labeler").GetString()!, l.GetProperty("task_id").GetString()!))
            .ToDictionary(g => g.Key, g => g.First().GetProperty("chosen").GetString());
        foreach (var a in r.Acks)
            Assert.Equal($"response {a.TaskId[5..]}.{a.Ranking[0]}", exported[(a.Labeler, a.TaskId)]);
        // Redundancy held under concurrency: no task got more than N labels, all from different labelers.
        Assert.All(f.Store.Labels().GroupBy(l => l.TaskId), g => Assert.InRange(g.Select(l => l.Labeler).Distinct().Count(), g.Count(), N));
    }
}
