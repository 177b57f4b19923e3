using RlhfSharp.Cli;
using RlhfSharp.Training.Core;
using Spectre.Console.Testing;
using Xunit;

namespace RlhfSharp.Tests.Cli;

public class ConsoleProgressTests
{
    static ProgressUpdate At(long step, long total, double loss) =>
        new(step, total, new Dictionary<string, double> { ["loss"] = loss }, 1000, null);

    [Fact]
    public void Each_phase_gets_its_own_bar_with_its_latest_metrics_and_messages_pass_through()
    {
        var console = new TestConsole().Width(160).Interactive();
        int result = ConsoleProgress.RunWithBars(console, p =>
        {
            p.BeginPhase("demo: pretraining");
            for (int s = 1; s <= 10; s++) p.Report(At(s, 10, 3.0 - 0.1 * s));
            p.Message("pretrain: checkpoint [step-10]");   // brackets would be Spectre markup if not escaped
            p.BeginPhase("demo: sft");
            for (int s = 1; s <= 4; s++) p.Report(At(s, 8, 1.5));
            return 42;
        });

        Assert.Equal(42, result);
        var text = console.Output;
        Assert.Contains("pretrain: checkpoint [step-10]", text);
        var lines = text.Split('\n');
        // The final frame: the finished pretraining bar at 100% with its last loss, the stopped SFT bar at 50%.
        Assert.Contains(lines, l => l.Contains("demo: pretraining") && l.Contains("loss 2") && l.Contains("100%"));
        Assert.Contains(lines, l => l.Contains("demo: sft") && l.Contains("loss 1.5") && l.Contains("50%"));
    }

    [Fact]
    public void A_step_count_that_starts_over_opens_a_new_bar()
    {
        var console = new TestConsole().Width(160).Interactive();
        ConsoleProgress.RunWithBars(console, p =>
        {
            for (int s = 1; s <= 5; s++) p.Report(At(s, 5, 1.0));
            for (int s = 1; s <= 2; s++) p.Report(At(s, 5, 2.0));
            return 0;
        });
        var last = console.Output.Split('\n').Where(l => l.Contains("training")).TakeLast(2).ToList();
        Assert.Equal(2, last.Count);
        Assert.Contains("100%", last[0]);
        Assert.Contains("40%", last[1]);
    }
}
