using System.Text.Json.Nodes;
using RlhfSharp.Cli.CommandLine;
using RlhfSharp.Evaluation;
using RlhfSharp.Labeling;

namespace RlhfSharp.Cli.Commands;

/// <summary><c>rlhf label stats</c>: label counts, agreement between labelers, flag rates; or with <c>--winrate</c>, model
/// A's win rate from people's verdicts on the tasks <c>rlhf eval winrate --export-tasks</c> wrote.</summary>
public sealed class LabelStatsCommand : CliCommand
{
    static readonly CliOption WinRateSwitch = CliOption.Switch("--winrate",
        "Instead, report model A's win rate from the labels on the tasks `rlhf eval winrate --export-tasks` wrote (those with a_position in their metadata): "
        + "each label is one verdict, A wins when it ranks A's response first; a task whose two responses are the same text is a tie (half a win); "
        + "skips are counted apart and left out of the rate. 95% Wilson score interval.");

    public override string Description => "Label counts, agreement between labelers, flag rates; or, with --winrate, model A's win rate from people's verdicts.";
    public override IReadOnlyList<CliOption> Options => [SharedOptions.Db, WinRateSwitch, SharedOptions.Json];

    public override int Execute(ParsedArgs args, CancellationToken cancellation)
    {
        var store = LabelStore.Open(args.Required(SharedOptions.Db));
        if (args.Switch(WinRateSwitch)) return WinRateReport(store, args.Switch(SharedOptions.Json));
        var stats = LabelStats.From(store);
        Console.WriteLine(args.Switch(SharedOptions.Json) ? stats.ToJson() : stats.ToText().TrimEnd());
        return 0;
    }

    static int WinRateReport(LabelStore store, bool json)
    {
        var v = WinRateVerdicts.From(store);
        if (v.Tasks == 0) throw new UserError($"{store.Path}: no win-rate tasks (tasks with {WinRateVerdicts.APositionKey} in their metadata); import the file of rlhf eval winrate --export-tasks first");
        var result = WinRate.FromCounts(v.Wins, v.Ties, v.Losses);
        if (json)
            Console.Out.WriteLine(new JsonObject
            {
                ["win_rate"] = EvalJson.Number(result.WinRate.Value), ["ci95"] = EvalJson.Interval(result.WinRate), ["n"] = v.Verdicts,
                ["wins"] = v.Wins, ["ties"] = v.Ties, ["losses"] = v.Losses, ["skips"] = v.Skips,
                ["tasks"] = v.Tasks, ["unlabelled_tasks"] = v.UnlabelledTasks,
                ["interval"] = "95% Wilson score interval, ties counted as half a win; skips left out",
            }.ToJsonString());
        else
            Console.Out.WriteLine($"win rate of A {EvalJson.Text(result.WinRate)} (Wilson 95%) over {v.Verdicts} human verdicts: "
                + $"{v.Wins} wins, {v.Ties} ties, {v.Losses} losses; {v.Skips} skips left out; {v.UnlabelledTasks} of {v.Tasks} tasks not labelled yet");
        return 0;
    }
}
