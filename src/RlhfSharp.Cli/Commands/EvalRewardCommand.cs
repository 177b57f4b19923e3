using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using RlhfSharp.Checkpoints;
using RlhfSharp.Data;
using RlhfSharp.Devices;
using RlhfSharp.Evaluation;
using Spectre.Console.Cli;

namespace RlhfSharp.Cli.Commands;

/// <summary>`rlhf eval reward`: the reward model's score of each record of a data file, in order.</summary>
public sealed class EvalRewardCommand : Command<EvalRewardCommand.Settings>
{
    public sealed class Settings : EvalTextSettings { }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var device = DeviceSetup.Resolve(settings.Device);
        var (_, tokenizer) = ModelFolder.Open(settings.Model);
        var texts = PretrainingReader.ReadDocuments(settings.Data!, settings.Field).ToList();
        using var rm = HfModelLoader.LoadScalarHead(settings.Model!, device);
        var scores = RewardScoring.Score(rm, tokenizer, texts, device, settings.BatchSize);
        if (scores.Length > 0)
            Console.Error.WriteLine($"{scores.Length} records from {settings.Data}: mean {scores.Average():G6}, min {scores.Min():G6}, max {scores.Max():G6}");
        if (settings.Json) Console.Out.WriteLine(JsonSerializer.Serialize(new { scores }));
        else foreach (var s in scores) Console.Out.WriteLine(s.ToString("R", CultureInfo.InvariantCulture));
        return 0;
    }
}
