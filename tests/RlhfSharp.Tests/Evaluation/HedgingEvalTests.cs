using System.Text.Json.Nodes;
using RlhfSharp.Data;
using RlhfSharp.Evaluation;
using RlhfSharp.Tests.Cli;
using RlhfSharp.Tests.Infrastructure;
using Xunit;

namespace RlhfSharp.Tests.Evaluation;

/// <summary><c>rlhf eval hedging</c>: Schulman's reward, hallucination rate and known accuracy against hand computations.</summary>
public class HedgingEvalTests
{
    static QaItem Item(string question, params string[] answers) => new(question, answers, new RecordLocation("qa.jsonl", 1));

    [Fact]
    public void Summarise_EqualsHandComputedRewardRatesAndIntervals()
    {
        var items = new[]
        {
            Item("Where does Bazor live?", "Oslo"), Item("Capital of Italy?", "Rome"), Item("Where is Zib?", "Lima"),
            Item("What is Kel's number?"), Item("Where was Mox born?"),
        };
        var responses = new[] { "Oslo.", "I think Paris.", "I don't know.", "Bergen.", "Maybe Lima." };
        var r = HedgingEval.Summarise(items, responses);

        double[] rewards = [1, -2, 0, -4, -2];   // unhedged right, hedged wrong, abstain, unhedged wrong, hedged wrong
        double mean = rewards.Average(), s = Math.Sqrt(rewards.Sum(x => (x - mean) * (x - mean)) / 4), half = 1.96 * s / Math.Sqrt(5);
        Assert.Equal(-1.4, r.Reward.Value, 1e-12);
        Assert.Equal(mean - half, r.Reward.Lo, 1e-12);
        Assert.Equal(mean + half, r.Reward.Hi, 1e-12);
        // Hallucination: 1 of the 2 unknowable questions answered unhedged (the hedged "Maybe Lima." is not counted).
        Assert.Equal(0.5, r.HallucinationRate.Value);
        double z2 = 1.96 * 1.96, centre = (0.5 + z2 / 4) / (1 + z2 / 2), w = 1.96 * Math.Sqrt(0.25 / 2 + z2 / 16) / (1 + z2 / 2);
        Assert.Equal(centre - w, r.HallucinationRate.Lo, 1e-12);
        Assert.Equal(centre + w, r.HallucinationRate.Hi, 1e-12);
        Assert.Equal(1 / 3.0, r.KnownAccuracy.Value, 1e-12);
        Assert.Equal(0.0, r.HallucinationRateKnown.Value);
        Assert.Equal((3, 2, 2, 2, 1), (r.Known, r.Unknown, r.Unhedged, r.Hedged, r.DontKnow));
    }

    [Theory]
    [InlineData("Oslo.", true)]
    [InlineData("it is OSLO!", true)]
    [InlineData("Oslofjord", false)]
    [InlineData("St. Paul, of course", true)]
    [InlineData("Stx Paul", false)]
    public void IsCorrect_NamesAnAnswerAsWholeWordsIgnoringCase(string response, bool correct) =>
        Assert.Equal(correct, HedgingEval.IsCorrect(response, ["Oslo", "St. Paul"]));

    [Fact]
    public void FitContext_KeepsTheBudgetWhenItFits_ElseCutsPromptsFromTheLeft()
    {
        IReadOnlyList<int> Ids(int n) => Enumerable.Range(0, n).ToList();
        var (same, n1) = ContextFit.ForGeneration([Ids(10), Ids(20)], 32, 64);
        Assert.Equal(32, n1);
        Assert.Equal(20, same[1].Count);
        var (cut, n2) = ContextFit.ForGeneration([Ids(10), Ids(60)], 64, 64);
        Assert.Equal(32, n2);                      // min(budget, context / 2)
        Assert.Equal([28, 29, 30, 31], cut[1].Take(4));
        Assert.Equal(32, cut[1].Count);
        Assert.Equal(10, cut[0].Count);
    }

    [Theory]
    [InlineData("{\"question\": \"q\", \"answers\": [\"a\"]}\n{bad", ":2: malformed JSON")]
    [InlineData("{\"question\": \"q\"}", ":1: missing field \"answers\"")]
    [InlineData("{\"question\": \"q\", \"answers\": \"a\"}", ":1: field \"answers\" must be a list")]
    [InlineData("{\"question\": \"q\", \"answers\": [\" \"]}", ":1: \"answers\" holds a blank answer")]
    [InlineData("{\"question\": \"\", \"answers\": []}", ":1: \"question\" is empty")]
    public void Reader_ErrorsNameFileAndLine(string text, string message)
    {
        using var dir = new TempDir();
        var path = dir.File("qa.jsonl");
        File.WriteAllText(path, text);
        var e = Assert.Throws<UserError>(() => QaReader.Read(path));
        Assert.StartsWith(path + message, e.Message);
    }

    /// <summary>The CLI's figures equal <see cref="HedgingEval.Summarise"/> of the answers it wrote, and every question is answered.</summary>
    [Fact]
    public void Cli_ReportsTheSummaryOfItsOwnGreedyAnswers()
    {
        using var dir = new TempDir();
        var data = dir.File("qa.jsonl");
        File.WriteAllLines(data,
        [
            """{"question": "Where does Bazor live?", "answers": ["Oslo", "the capital"]}""",
            """{"question": "What is Kel's number?", "answers": []}""",
            """{"question": "Who wrote it?", "answers": ["nobody"]}""",
        ]);
        var details = dir.File("details.jsonl");
        var r = RlhfProcess.Run("eval", "hedging", "--model", SharedPaths.Fixture("gpt2-tiny"), "--data", data, "--details", details, "--json",
            "--max-new-tokens", "64", "--batch-size", "2");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var json = JsonNode.Parse(r.Stdout)!.AsObject();
        var lines = File.ReadAllLines(details).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        Assert.Equal(3, lines.Count);
        var items = QaReader.Read(data);
        var expected = HedgingEval.Summarise(items, lines.Select(l => l["response"]!.GetValue<string>()).ToList());
        Assert.Equal(expected.Reward.Value, json["reward"]!["mean"]!.GetValue<double>(), 1e-12);
        Assert.Equal(expected.KnownAccuracy.Value, json["known_accuracy"]!["mean"]!.GetValue<double>(), 1e-12);
        Assert.Equal(expected.HallucinationRate.Value, json["hallucination_rate"]!["mean"]!.GetValue<double>(), 1e-12);
        Assert.Equal(2, json["known"]!.GetValue<int>());
        Assert.Equal(1, json["unknown"]!.GetValue<int>());
        Assert.Equal(2, json["hallucination_rate"]!["ci95"]!.AsArray().Count);
        Assert.Equal($"{data}:2", lines[1]["where"]!.GetValue<string>());
    }
}
