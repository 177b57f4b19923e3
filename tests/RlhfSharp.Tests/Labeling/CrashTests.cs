using Microsoft.Data.Sqlite;
using RlhfSharp.Labeling;
using Xunit;
using Xunit.Abstractions;

namespace RlhfSharp.Tests.Labeling;

[Collection("labeling-heavy")]
public class CrashTests(ITestOutputHelper output)
{
    [Fact]
    public async Task SigkillInTheMiddleOfLoadLosesNoAcknowledgedLabel()
    {
        const int Labelers = 50, Each = 20, KillAfter = 300;
        using var f = new LabelingFixture();
        f.AddTasks(Labelers * Each / 2 + 100, k: 4);
        var labelers = Enumerable.Range(0, Labelers).Select(i => ($"l{i}", f.Store.AddLabeler($"l{i}", false))).ToList();

        ServerProcess? server = await ServerProcess.StartAsync(f.DbPath, redundancy: 2);
        var killed = new TaskCompletionSource();
        var load = LoadDriver.RunAsync(server.Url, labelers, Each, onAck: n =>
        {
            if (n >= KillAfter && killed.TrySetResult()) server.Kill(); // while 50 labelers still have requests in flight
        });
        var r = await load;
        Assert.True(killed.Task.IsCompleted, $"the load finished ({r.Acks.Count} labels) before the kill point");
        Assert.True(server.HasExited);
        Assert.True(r.Failures > 0, "no request was cut off: the kill did not land mid-load");
        Assert.True(r.Acks.Count < Labelers * Each);
        server.Dispose();
        output.WriteLine($"crash: killed after {KillAfter} acks; {r.Acks.Count} acknowledged in all, {r.Failures} labelers cut off");

        // Restart on the same file; every acknowledged label is there with the ranking that was sent.
        using var restarted = await ServerProcess.StartAsync(f.DbPath, redundancy: 2);
        using var admin = LabelingFixture.Client(restarted.Url, f.AdminToken);
        var exported = (await admin.GetStringAsync("/api/admin/export")).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement)
            .GroupBy(l => (l.GetProperty("labeler").GetString()!, l.GetProperty("task_id").GetString()!))
            .ToDictionary(g => g.Key, g => g.First().GetProperty("chosen").GetString());
        foreach (var a in r.Acks)
        {
            Assert.True(exported.TryGetValue((a.Labeler, a.TaskId), out var chosen), $"acknowledged label {a.Labeler}/{a.TaskId} lost");
            Assert.Equal($"response {a.TaskId[5..]}.{a.Ranking[0]}", chosen);
        }
        // At most the labels in flight at the kill were committed without their 201 reaching the client.
        Assert.InRange(exported.Count, r.Acks.Count, r.Acks.Count + Labelers);

        // The restarted server takes new labels, and the file is intact.
        var more = await LoadDriver.RunAsync(restarted.Url, labelers.Take(3).ToList(), 2);
        Assert.Equal(6, more.Acks.Count);
        using var c = new SqliteConnection($"Data Source={f.DbPath}");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "PRAGMA integrity_check";
        Assert.Equal("ok", (string)cmd.ExecuteScalar()!);
    }
}
