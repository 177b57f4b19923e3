using System.Globalization;
using System.Text.Json;
using RlhfSharp.Checkpoints;
using RlhfSharp.Cli.CommandLine;
using RlhfSharp.Data;
using RlhfSharp.Devices;
using RlhfSharp.Evaluation;
using RlhfSharp.Tokenization;

namespace RlhfSharp.Cli.Commands;

/// <summary><c>rlhf eval reward</c>: the reward model's score of each record of a data file, in order.</summary>
public sealed class EvalRewardCommand : CliCommand
{
    public override string Description => "Reward-model score of each record of a data file, in order.";
    public override IReadOnlyList<CliOption> Options =>
    [
        SharedOptions.Model with { Help = "A reward-model folder (*ForSequenceClassification) with its tokenizer.", Required = true },
        EvalPerplexityCommand.TextData, EvalPerplexityCommand.TextField with { Help = "Record field that holds the text to score, for records that are not {\"prompt\", \"response\"} conversations (those are rendered in the folder's chat format and scored at the reply's end-of-turn token, as PPO scores)." },
        SharedOptions.BatchSize, SharedOptions.Device, SharedOptions.Json,
    ];

    public override int Execute(ParsedArgs args, CancellationToken cancellation)
    {
        var (batchSize, device, folder) = SharedOptions.OpenForEval(args, defaultBatchSize: 8);
        var data = args.Required(EvalPerplexityCommand.TextData);
        var conversations = ReadConversations(data);
        var texts = conversations is null ? PretrainingReader.ReadDocuments(data, args.String(EvalPerplexityCommand.TextField) ?? "text").ToList() : null;
        using var rm = folder.LoadScalarHead(device);
        var scores = conversations is null
            ? RewardScoring.Score(rm, folder.Tokenizer, texts!, device, batchSize)
            : RewardScoring.ScoreIds(rm, conversations.Select(c => Scored(c, folder)).ToList(), folder.PadId, device, batchSize);
        if (scores.Length > 0)
            Console.Error.WriteLine($"{scores.Length} records from {data}: mean {scores.Average():G6}, min {scores.Min():G6}, max {scores.Max():G6}");
        if (args.Switch(SharedOptions.Json)) Console.Out.WriteLine(JsonSerializer.Serialize(new { scores }));
        else foreach (var score in scores) Console.Out.WriteLine(score.ToString("R", CultureInfo.InvariantCulture));
        return 0;
    }

    /// <summary>Records that all hold "prompt" and "response" are conversations, scored by the reward model's rule;
    /// anything else is plain text (null).</summary>
    static List<(string Prompt, string Response)>? ReadConversations(string path)
    {
        if (RecordSource.Detect(path) == RecordFileType.Text) return null;
        var records = RecordSource.Read(path).ToList();
        if (records.Count == 0 || !records.All(r => r.Has("prompt") && r.Has("response"))) return null;
        return records.Select(r => (r.RequireString("prompt"), r.RequireString("response"))).ToList();
    }

    /// <summary>The ids PPO would score for this prompt and response (<see cref="ScoredConversation"/>), keeping the end
    /// when the row is longer than the context: the score is read at its last token.</summary>
    static IReadOnlyList<int> Scored((string Prompt, string Response) conversation, ModelFolder folder)
    {
        var ids = ScoredConversation.Encode([new ChatMessage("user", conversation.Prompt)], conversation.Response, folder.ChatFormat,
            folder.Tokenizer, folder.ResponseEndId).All;
        return ids.Length > folder.ContextLength ? ids[^folder.ContextLength..] : ids;
    }
}
