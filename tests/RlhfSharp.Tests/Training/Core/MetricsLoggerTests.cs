using RlhfSharp.Tests.Infrastructure;
using RlhfSharp.Training.Core;
using Xunit;

namespace RlhfSharp.Tests.Training.Core;

public class MetricsLoggerTests
{
    [Fact]
    public void WritesJsonlTensorboardAndPngs()
    {
        using var dir = new TempDir();
        using (var log = new MetricsLogger(dir.Path))
        {
            for (int step = 1; step <= 5; step++)
                log.Log(step, ("loss", 2.0 / step), ("lr", 1e-3 * step), ("grad_norm", step == 3 ? double.NaN : 0.5));
            log.Log(5, ("eval_loss", 0.7));
            var pngs = log.WritePlots([.. MetricPlots.Training, .. MetricPlots.RewardModel]);
            Assert.Equal(new[] { "loss.png", "lr.png", "grad_norm.png" }, pngs.Select(Path.GetFileName));   // no empty RM charts
            foreach (var png in pngs)
                Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(png)[..4]);
        }

        var lines = MetricsLogger.ReadLines(dir.File(MetricsLogger.JsonlFile)).ToList();
        Assert.Equal(6, lines.Count);
        Assert.Equal(2, lines[1].Step);
        Assert.Equal(1.0, lines[1].Values["loss"]);
        Assert.True(double.IsNaN(lines[2].Values["grad_norm"]));   // NaN written as null, read back as NaN
        Assert.Equal(0.7, lines[5].Values["eval_loss"]);

        // TensorBoard holds exactly the scalars of metrics.jsonl (as float32), each at its step.
        var events = Directory.GetFiles(dir.File("tensorboard"), "events.out.tfevents*", SearchOption.AllDirectories).Select(TfEventReader.Read).ToList();
        Assert.NotEmpty(events);
        Assert.All(events, e => Assert.Equal(["brain.Event:2"], e.FileVersions));
        var logged = events.SelectMany(e => e.Scalars).Select(s => (s.Step, s.Tag, s.Value)).Order().ToList();
        var expected = lines.SelectMany(l => l.Values.Select(v => (l.Step, Tag: v.Key, Value: (float)v.Value))).Order().ToList();
        Assert.Equal(16, expected.Count);
        Assert.Equal(expected, logged);

        // Resume at step 3: lines after it are dropped (they will be logged again), earlier ones are kept for plots.
        using (var resumed = new MetricsLogger(dir.Path, tensorboard: false, resumeFromStep: 3))
        {
            Assert.Equal(3, resumed.Series["loss"].Count);
            resumed.Log(4, ("loss", 0.1));
        }
        var after = MetricsLogger.ReadLines(dir.File(MetricsLogger.JsonlFile)).Select(l => l.Step).ToArray();
        Assert.Equal(new long[] { 1, 2, 3, 4 }, after);
    }

    /// <summary>The event reader's CRC-32C against the standard check value (RFC 3720, "123456789").</summary>
    [Fact]
    public void EventReaderCrcMatchesTheCheckValue() =>
        Assert.Equal(0xE3069283u, TfEventReader.Crc32C("123456789"u8));

    [Fact]
    public void MalformedLineIsAUserErrorNamingTheLine()
    {
        using var dir = new TempDir();
        File.WriteAllLines(dir.File("m.jsonl"), ["{\"step\":1,\"loss\":2}", "{oops"]);
        var e = Assert.Throws<UserError>(() => MetricsLogger.ReadLines(dir.File("m.jsonl")).ToList());
        Assert.Contains("m.jsonl:2", e.Message);
    }
}
