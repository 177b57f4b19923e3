using RlhfSharp.Training.Core;
using Xunit;
using static TorchSharp.torch;
using OurAdamW = RlhfSharp.Training.Core.AdamW;

namespace RlhfSharp.Tests.Training.Core;

public class ProgressAndConfigTests
{
    [Fact]
    public void PlainTextProgressThrottlesButAlwaysPrintsTheLastStep()
    {
        var sw = new StringWriter();
        var p = new PlainTextProgress(sw, TimeSpan.FromHours(1));
        var m = new Dictionary<string, double> { ["loss"] = 1.23456 };
        for (long s = 1; s <= 10; s++) p.Report(new ProgressUpdate(s, 10, m, 1500, TimeSpan.FromSeconds(75)));
        var lines = sw.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);   // the first and the last
        Assert.Equal("step 10/10 | loss 1.235 | 1500 tok/s | eta 1:15", lines[1].TrimEnd());
    }

    [Fact]
    public void ThroughputMeterGivesEtaFromThisRunsSteps()
    {
        var t = new ThroughputMeter();
        t.Start(currentStep: 100);
        Assert.Null(t.Eta(100, 200));
        Thread.Sleep(20);
        t.AddTokens(1000);
        var eta = t.Eta(110, 200)!.Value;   // 10 steps took >= 20 ms, 90 left: >= 180 ms
        Assert.True(eta >= TimeSpan.FromMilliseconds(170), eta.ToString());
        Assert.True(t.TokensPerSecond > 0);
    }

    [Fact]
    public void ConfigValidatesAndSchedulesIntervals()
    {
        var c = new TrainingConfig { SaveInterval = 50, EvalInterval = 0, WarmupSteps = 10 };
        c.Validate(totalSteps: 120);
        Assert.True(c.ShouldSave(50, 120) && c.ShouldSave(120, 120) && !c.ShouldSave(60, 120));
        Assert.True(c.ShouldEval(120, 120) && !c.ShouldEval(100, 120));
        Assert.Throws<UserError>(() => (c with { GradAccumulationSteps = 0 }).Validate(120));
        Assert.Throws<UserError>(() => (c with { Lr = double.NaN }).Validate(120));
        // Cosine needs more steps than warmup; the error names the key a user sets.
        Assert.Equal("warmup", Assert.Throws<RlhfSharp.Configuration.ConfigError>(() => c.Validate(totalSteps: 5)).Key);
    }

    [Fact]
    public void OptimizerStepSetsLrClipsAndRefusesNonFiniteLoss()
    {
        using var m = new ToyModel(dropout: 0).Randomize(2);
        using var opt = new OurAdamW(m);
        var schedule = LrSchedule.Constant(0.5, warmupSteps: 4);
        var before = m.Snapshot();
        using (var scope = NewDisposeScope())
        {
            m.forward(ones(2, 6, dtype: ScalarType.Float64)).sum().backward();
            var (lr, norm) = OptimizerStep.Apply(opt, schedule, step: 1, gradClip: 1.0, pullToHost: true);
            Assert.Equal(0.2, lr, 12);
            Assert.True(norm > 0);
        }
        Assert.NotEqual(before["fc1.weight"], m.Snapshot()["fc1.weight"]);
        Assert.Equal(0.0, opt.FlatGrad().abs().sum().item<double>());   // zeroed for the next step

        var afterFirst = m.Snapshot();
        using (var scope = NewDisposeScope())
        {
            var loss = m.forward(ones(2, 6, dtype: ScalarType.Float64)).sum() * double.NaN;
            loss.backward();
            var e = Assert.Throws<NonFiniteError>(() => OptimizerStep.Apply(opt, schedule, 2, 1.0, loss));
            Assert.Contains("step 2", e.Message);
        }
        Assert.Equal(afterFirst["fc1.weight"], m.Snapshot()["fc1.weight"]);   // no update applied
        Assert.Equal(1, opt.StepCount);
    }
}
