using System.Diagnostics;
using Xunit;

namespace RlhfSharp.Tests.Labeling;

/// <summary>The `rlhf label` commands end to end, as a user runs them (the rlhf.dll beside the test assembly).</summary>
[Collection("labeling-heavy")]
public class LabelCliTests
{
    static (int Code, string Out, string Err) Rlhf(params string[] args)
    {
        var psi = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h ? h : "dotnet")
        { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "rlhf.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(60_000));
        return (p.ExitCode, output, err.Result);
    }

    [Fact]
    public async Task InitAddLabelerImportExportStats()
    {
        using var f = new LabelingFixture(); // only for its temp folder
        var db = f.File("cli.db");
        var data = f.File("tasks.jsonl");
        File.WriteAllLines(data, ["""{"id":"a","prompt":"p","responses":["r0","r1","r2"]}"""]);

        Assert.Equal(0, Rlhf("label", "init", "--db", db).Code);
        var again = Rlhf("label", "init", "--db", db);
        Assert.Equal(2, again.Code);
        Assert.Equal($"error: {db}: already exists; label init creates a new store only", again.Err.Trim());

        var added = Rlhf("label", "add-labeler", "--db", db, "--name", "ann", "--admin");
        Assert.Equal(0, added.Code);
        var token = added.Out.Trim();
        Assert.Matches("^[A-Za-z0-9_-]{43}$", token);

        Assert.Equal(0, Rlhf("label", "import", "--db", db, "--data", data).Code);
        File.WriteAllLines(data, ["""{"id":"b","prompt":"p","responses":["r0","r1"]}""", """{"id":"c","prompt":"p","responses":["r0","r1"], "bad"""]);
        var bad = Rlhf("label", "import", "--db", db, "--data", data);
        Assert.Equal(2, bad.Code);
        Assert.StartsWith($"error: {data}:2: malformed JSON", bad.Err.Trim()); // Data's reader words it as every data command does

        var store = RlhfSharp.Labeling.LabelStore.Open(db);
        var me = store.Authenticate(token)!;
        Assert.True(me.IsAdmin);
        var label = new RlhfSharp.Labeling.LabelInput([1, 2, 0], new Dictionary<int, int> { [0] = 1, [1] = 7, [2] = 4 },
            new Dictionary<int, IReadOnlyList<string>> { [0] = ["sexual_content"] }, "\"\"");
        Assert.Equal(RlhfSharp.Labeling.SubmitOutcome.Created, (await store.SubmitAsync(me.Id, "a", label, 1)).Outcome);

        var output = f.File("pairs.jsonl");
        Assert.Equal(0, Rlhf("label", "export", "--db", db, "--output", output).Code);
        var lines = File.ReadAllLines(output);
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("""{"prompt":"p","chosen":"r1","rejected":"r2","labeler":"ann","task_id":"a",""", lines[0]);

        var stats = Rlhf("label", "stats", "--db", db, "--json");
        Assert.Equal(0, stats.Code);
        var json = System.Text.Json.JsonDocument.Parse(stats.Out).RootElement;
        Assert.Equal(1, json.GetProperty("labels").GetInt32());
        Assert.Equal(1.0 / 3, json.GetProperty("flag_rates").GetProperty("sexual_content").GetDouble(), 12);

        var missing = Rlhf("label", "stats", "--db", f.File("nope.db"));
        Assert.Equal(2, missing.Code);
        Assert.Contains("no labeling store here", missing.Err);
    }
}
