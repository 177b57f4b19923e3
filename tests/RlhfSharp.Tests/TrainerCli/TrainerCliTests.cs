using System.Diagnostics;
using System.Text.Json.Nodes;
using RlhfSharp.Checkpoints;
using RlhfSharp.Tests.Infrastructure;
using RlhfSharp.Tokenization;
using RlhfSharp.Training.Core;
using Xunit;
using Xunit.Abstractions;

namespace RlhfSharp.Tests.TrainerCli;

/// <summary>`rlhf pretrain | sft | reward | dpo | eval reward-accuracy` as a user runs them.</summary>
public sealed class TrainerCliTests(ITestOutputHelper output)
{
    static string Shakespeare(TempDir dir, int chars)
    {
        var path = dir.File("input.txt");
        File.WriteAllText(path, File.ReadAllText(Path.Combine(SharedPaths.Data, "tinyshakespeare", "input.txt"))[..chars]);
        return path;
    }

    /// <summary>Lines as the labeling app exports them (extra fields kept as metadata, ignored by the trainer).</summary>
    static string LabelExport(TempDir dir)
    {
        var path = dir.File("export.jsonl");
        var rng = new Random(5);
        File.WriteAllLines(path, Enumerable.Range(0, 12).Select(i =>
        {
            var word = new string(Enumerable.Range(0, 6).Select(_ => (char)('a' + rng.Next(26))).ToArray());
            return new JsonObject
            {
                ["prompt"] = $"say {i}", ["chosen"] = word + "#", ["rejected"] = word, ["labeler"] = "ann", ["task_id"] = $"t{i}",
                ["ratings"] = new JsonObject { ["chosen"] = 6, ["rejected"] = 3 }, ["flags"] = new JsonObject { ["chosen"] = new JsonArray(), ["rejected"] = new JsonArray("unhelpful") },
            }.ToJsonString();
        }));
        return path;
    }

    [Fact]
    public void Pipeline_PretrainSftRewardDpoEval_OutputFoldersLoad()
    {
        using var dir = new TempDir();
        var config = Rlhf.TinyConfig(dir.Path);
        var pre = dir.File("pre");
        var r = Rlhf.Run("pretrain", "--config", config, "--data", Shakespeare(dir, 8000), "--output", pre, "--max-steps", "6",
            "--batch-size", "4", "--block-size", "32", "--warmup", "1", "--lr", "1e-3", "--log-every", "2");
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("step 6/6", r.Err);
        Assert.Equal(2, HfModelLoader.LoadCausalLM(pre).Config.NumLayers);
        Assert.IsType<ByteTokenizer>(TokenizerLoader.FromFolder(pre));

        var demos = dir.File("demos.jsonl");
        File.WriteAllLines(demos, ["""{"prompt":"hi","response":"hello"}""", """{"instruction":"add","input":"1 1","output":"2"}"""]);
        var sft = dir.File("sft");
        r = Rlhf.Run("sft", "--model", pre, "--data", demos, "--eval-data", demos, "--output", sft, "--max-steps", "2", "--batch-size", "2", "--warmup", "0");
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("eval_loss", r.Err);
        HfModelLoader.LoadCausalLM(sft);

        var export = LabelExport(dir);
        var rm = dir.File("rm");
        r = Rlhf.Run("reward", "--model", sft, "--data", export, "--eval-data", export, "--output", rm, "--max-steps", "3", "--batch-size", "4", "--warmup", "0");
        Assert.True(r.Code == 0, r.Err);
        Assert.True(HfModelLoader.LoadScalarHead(rm).Config.IsSequenceClassification);
        Assert.IsType<ByteTokenizer>(TokenizerLoader.FromFolder(rm));

        var eval = Rlhf.Run("eval", "reward-accuracy", "--model", rm, "--data", export, "--json");
        Assert.True(eval.Code == 0, eval.Err);
        var json = JsonNode.Parse(eval.Out)!.AsObject();
        Assert.Equal(12, json["pairs"]!.GetValue<int>());
        Assert.InRange(json["accuracy"]!.GetValue<double>(), 0, 1);

        var dpo = dir.File("dpo");
        r = Rlhf.Run("dpo", "--model", sft, "--data", export, "--output", dpo, "--max-steps", "2", "--batch-size", "4", "--warmup", "0", "--loss", "ipo", "--beta", "0.2");
        Assert.True(r.Code == 0, r.Err);
        HfModelLoader.LoadCausalLM(dpo);
    }

    [Fact]
    public void Sigkill_WhileCheckpointing_LeavesALoadableCheckpoint_AndResumeFinishes()
    {
        using var dir = new TempDir();
        var config = Rlhf.TinyConfig(dir.Path);
        var outDir = dir.File("out");
        string[] args = ["pretrain", "--config", config, "--data", Shakespeare(dir, 20000), "--output", outDir, "--max-steps", "150",
            "--batch-size", "4", "--block-size", "32", "--warmup", "2", "--save-every", "1", "--keep-checkpoints", "2", "--log-every", "50"];
        var latest = Path.Combine(outDir, "checkpoints", CheckpointStore.LatestFile);
        using (var p = Process.Start(Rlhf.StartInfo(args))!)
        {
            _ = p.StandardError.ReadToEndAsync(); _ = p.StandardOutput.ReadToEndAsync();
            var clock = Stopwatch.StartNew();
            while (!File.Exists(latest) && !p.HasExited && clock.Elapsed < TimeSpan.FromSeconds(120)) Thread.Sleep(20);
            Thread.Sleep(150);   // a checkpoint is written every step: the kill lands in or between writes
            Assert.False(p.HasExited, "the run finished before it could be killed");
            p.Kill();            // SIGKILL on Unix
            p.WaitForExit();
        }
        var ckpt = CheckpointStore.LoadLatest(Path.Combine(outDir, "checkpoints"));
        Assert.NotNull(ckpt);
        output.WriteLine($"killed; latest complete checkpoint: step {ckpt!.Step}");
        HfModelLoader.LoadCausalLM(ckpt.ModelFolder("model"));   // loadable

        var again = Rlhf.Run(args);
        Assert.Equal(2, again.Code);   // without --resume the existing checkpoints are protected
        Assert.Contains("--resume", again.Err);

        var resumed = Rlhf.Run([.. args, "--resume"]);
        Assert.True(resumed.Code == 0, resumed.Err);
        Assert.Contains("resumed from", resumed.Err);
        Assert.Equal(150, MetricsLogger.ReadLines(Path.Combine(outDir, "metrics.jsonl")).Max(l => l.Step));
        HfModelLoader.LoadCausalLM(outDir);
    }

    [Fact]
    public void BadInputs_GiveOneLineErrors()
    {
        using var dir = new TempDir();
        var config = Rlhf.TinyConfig(dir.Path);
        (int Code, string Out, string Err) Reward(string data, string? cfg = null) =>
            Rlhf.Run("reward", "--config", cfg ?? config, "--data", data, "--output", dir.File("o" + Guid.NewGuid().ToString("N")[..6]),
                "--max-steps", "1", "--batch-size", "1", "--warmup", "0");

        var malformed = dir.File("bad.jsonl");
        File.WriteAllLines(malformed, ["""{"prompt":"p","chosen":"a","rejected":"b"}""", """{"prompt": "p", "chosen": """]);
        var r = Reward(malformed);
        Assert.Equal(2, r.Code);
        Assert.Single(r.Err.Trim().Split('\n'));
        Assert.Contains("bad.jsonl:2", r.Err);

        var missing = dir.File("missing.jsonl");
        File.WriteAllLines(missing, ["""{"prompt":"p","chosen":"a"}"""]);
        r = Reward(missing);
        Assert.Equal(2, r.Code);
        Assert.Single(r.Err.Trim().Split('\n'));
        Assert.Contains("missing.jsonl:1", r.Err);
        Assert.Contains("rejected", r.Err);

        var good = dir.File("good.jsonl");
        File.WriteAllLines(good, ["""{"prompt":"p","chosen":"a","rejected":"b"}"""]);
        r = Reward(good, Rlhf.TinyConfig(dir.Path, ",\"n_layers\":4"));
        Assert.Equal(2, r.Code);
        Assert.Equal($"error: {Path.Combine(dir.Path, "model.json")}: unknown key 'n_layers'", r.Err.Trim());

        Rlhf.TinyConfig(dir.Path);
        var same = dir.File("same.jsonl");
        File.WriteAllLines(same, ["""{"prompt":"p","chosen":"a","rejected":"b"}""", """{"prompt":"p","chosen":"x","rejected":"x"}""", """{"prompt":"q","chosen":"y","rejected":"y"}"""]);
        r = Reward(same);
        Assert.True(r.Code == 0, r.Err);
        var warnings = r.Err.Split('\n').Where(l => l.Contains("warning")).ToList();
        Assert.Single(warnings);
        Assert.Contains("skipped 2 pairs", warnings[0]);
    }
}
