using System.Text.Json.Nodes;
using RlhfSharp.Checkpoints;
using RlhfSharp.Cli.CommandLine;
using RlhfSharp.Data;
using RlhfSharp.Evaluation;

namespace RlhfSharp.Cli.Commands;

/// <summary><c>rlhf eval winrate</c>: A's win rate against B as judged by a reward model (<see cref="WinRate"/>), or the
/// A/B pairs exported as labeling tasks for a human judgement.</summary>
public sealed class EvalWinrateCommand : CliCommand
{
    static readonly CliOption A = new CliOption("--a", "DIR", "Model A's HF causal-LM folder (the one whose win rate is reported).") { Required = true };
    static readonly CliOption B = new CliOption("--b", "DIR", "Model B's HF causal-LM folder (e.g. the SFT model).") { Required = true };
    static readonly CliOption Judge = new CliOption("--judge", "RM_DIR",
        "Reward-model folder that scores both answers, each rendered with the judge's own chat format and tokenizer (so A and B may use different tokenizers). Required unless --export-tasks.") { Default = "none" };
    static readonly CliOption ExportTasks = new CliOption("--export-tasks", "FILE",
        "Instead of judging, write the A/B pairs as labeling tasks for `rlhf label import`: tasks shuffled, the two responses in random order, the side of A kept in the task's metadata (a_position).") { Default = "none" };
    static readonly CliOption Details = new CliOption("--details", "FILE",
        "Write one JSON line per prompt: prompt, response_a, response_b, score_a, score_b.") { Default = "none" };

    public override string Description =>
        "Win rate of A against B (InstructGPT's preference measure): both models answer each prompt with the same seed per prompt "
        + "(or greedily), the judge reward model scores both answers, A wins when its score is higher and a tie counts half. "
        + "Reports win_rate with a 95% Wilson score interval (ties as half a success); a model against itself scores exactly 0.5.";

    public override IReadOnlyList<CliOption> Options =>
        [A, B, Judge, EvalSamplingOptions.Prompts, .. EvalSamplingOptions.All, ExportTasks, Details, SharedOptions.BatchSize, SharedOptions.Device, SharedOptions.Json];

    public override int Execute(ParsedArgs args, CancellationToken cancellation)
    {
        var exportPath = args.String(ExportTasks);
        var judgeDir = args.String(Judge);
        if (exportPath is null && judgeDir is null) throw new UsageError("--judge is required (or --export-tasks FILE to have people judge)");
        var folderA = ModelFolder.Open(args.Required(A));
        var folderB = ModelFolder.Open(args.Required(B));
        var judgeFolder = exportPath is null ? ModelFolder.Open(judgeDir!) : null;
        var (batchSize, device, prompts, options, seed, chat) = EvalSamplingOptions.ReadRun(args);

        Console.Error.WriteLine($"{prompts.Count} prompts on {device}, {(options.Greedy ? "greedy" : $"sampling with seed {seed} + prompt index for both models")}");
        var answersA = Answers(folderA, prompts, options, seed, chat, device);
        var answersB = Answers(folderB, prompts, options, seed, chat, device);

        if (exportPath is not null)
        {
            var rng = new Random(unchecked((int)seed));
            var tasks = Enumerable.Range(0, prompts.Count).Select(i =>
            {
                int aPosition = rng.Next(2);
                string[] responses = aPosition == 0 ? [answersA[i], answersB[i]] : [answersB[i], answersA[i]];
                return new JsonObject
                {
                    ["id"] = $"winrate-{i + 1}", ["prompt"] = prompts[i].Text, ["responses"] = new JsonArray(responses.Select(r => (JsonNode)r).ToArray()),
                    ["a_position"] = aPosition, ["model_a"] = folderA.Path, ["model_b"] = folderB.Path,
                };
            }).OrderBy(_ => rng.Next()).ToList();
            JsonlWriter.Write(exportPath, tasks);
            Console.Error.WriteLine($"{tasks.Count} labeling tasks: {exportPath} (import with rlhf label import)");
            if (args.Switch(SharedOptions.Json)) Console.Out.WriteLine(new JsonObject { ["tasks"] = tasks.Count, ["export"] = exportPath }.ToJsonString());
            return 0;
        }

        double[] scoresA, scoresB;
        using (var judge = judgeFolder!.LoadScalarHead(device))
        {
            scoresA = ResponseJudging.Score(judge, judgeFolder, prompts.Select((p, i) => (p, answersA[i])).ToList(), device, batchSize);
            scoresB = ResponseJudging.Score(judge, judgeFolder, prompts.Select((p, i) => (p, answersB[i])).ToList(), device, batchSize);
        }
        var result = WinRate.FromScores(scoresA, scoresB);
        if (args.String(Details) is { } detailsPath)
        {
            JsonlWriter.Write(detailsPath, prompts.Select((p, i) => new JsonObject
            {
                ["prompt"] = p.Text, ["response_a"] = answersA[i], ["response_b"] = answersB[i], ["score_a"] = scoresA[i], ["score_b"] = scoresB[i],
            }));
            Console.Error.WriteLine($"per-prompt detail: {detailsPath}");
        }
        if (args.Switch(SharedOptions.Json))
            Console.Out.WriteLine(new JsonObject
            {
                ["win_rate"] = EvalJson.Number(result.WinRate.Value), ["ci95"] = EvalJson.Interval(result.WinRate), ["n"] = prompts.Count,
                ["wins"] = result.Wins, ["ties"] = result.Ties, ["losses"] = result.Losses,
                ["interval"] = "95% Wilson score interval, ties counted as half a win",
            }.ToJsonString());
        else
            Console.Out.WriteLine($"win rate of A {EvalJson.Text(result.WinRate)} (Wilson 95%) over {prompts.Count} prompts: "
                + $"{result.Wins} wins, {result.Ties} ties, {result.Losses} losses");
        return 0;
    }

    static List<string> Answers(ModelFolder folder, IReadOnlyList<Prompt> prompts, Generation.SamplingOptions options, long seed, bool chat, TorchSharp.torch.Device device)
    {
        using var model = folder.LoadCausalLM(device);
        return PolicySampling.Sample(model, folder, prompts, options, seed, chat, device).Select(s => s.Response).ToList();
    }
}
