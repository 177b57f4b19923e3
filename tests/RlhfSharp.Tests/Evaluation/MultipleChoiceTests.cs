using System.Text.Json.Nodes;
using RlhfSharp.Checkpoints;
using RlhfSharp.Data;
using RlhfSharp.Evaluation;
using RlhfSharp.Models;
using RlhfSharp.Tests.Cli;
using RlhfSharp.Tests.Infrastructure;
using RlhfSharp.Tokenization;
using Xunit;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Evaluation;

/// <summary>
/// <c>rlhf eval mc</c> against hand computations: each answer scored here alone (one unpadded sequence, log-softmax in
/// float64, summed in float64), MC1 and MC2 computed directly from probabilities (not in log space).
/// </summary>
public class MultipleChoiceTests
{
    static readonly string Gpt2 = SharedPaths.Fixture("gpt2-tiny");

    /// <summary>Σ ln p(answer tokens | prompt tokens), the prompt cut by <paramref name="drop"/> tokens on the left.</summary>
    static double Reference(CausalLM lm, ITextTokenizer tokenizer, string prompt, string answer, int drop = 0)
    {
        var p = tokenizer.Encode(prompt).Skip(drop).ToList();
        var a = tokenizer.Encode(answer);
        var ids = p.Concat(a).Select(i => (long)i).ToArray();
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var logp = nn.functional.log_softmax(lm.Forward(tensor(ids).unsqueeze(0)).to_type(ScalarType.Float64)[0], -1);   // [T,V]
        double sum = 0;
        for (int t = p.Count; t < ids.Length; t++) sum += logp[t - 1, ids[t]].item<double>();
        return sum;
    }

    static (double Mc1, double Mc2) Direct(double best, IEnumerable<double> incorrect, IEnumerable<double> trueScores, IEnumerable<double> falseScores)
    {
        double t = trueScores.Sum(Math.Exp), f = falseScores.Sum(Math.Exp);
        return (incorrect.All(s => best > s) ? 1 : 0, t / (t + f));
    }

    static string Csv(params string[] lines) => string.Join("\n", lines) + "\n";

    static string Words(int n, string stem) => string.Join(' ', Enumerable.Range(0, n).Select(i => $"{stem}{i}"));

    [Fact]
    public void Cli_OnTruthfulQaCsv_EqualsHandComputedScores_WithATruncatedAndASkippedQuestion()
    {
        using var dir = new TempDir();
        string longQuestion = "Why " + Words(30, "w") + "?";                 // > 64 tokens: its prompt must be cut
        string longAnswer = Words(40, "x");                                    // > 63 tokens: its question is skipped
        var data = dir.File("tqa.csv");
        File.WriteAllText(data, Csv(
            "Type,Category,Question,Best Answer,Best Incorrect Answer,Correct Answers,Incorrect Answers,Source",
            "Adversarial,Misc,What is the sky?,It is blue,It is green,\"It is blue; Blue, mostly ;It is blue;\",It is green; It is red,src",
            "Adversarial,Misc,Who wrote it?,Nobody knows,A cat,Nobody knows; It is unknown,A cat;A dog; A cat,src",
            "Adversarial,Misc,\"Is it \"\"true\"\"?\",Yes,No,Yes,No;Maybe,src",
            $"Adversarial,Misc,{longQuestion},Because,No,Because,No reason,src",
            $"Adversarial,Misc,Short?,{longAnswer},No,{longAnswer},No,src"));
        var details = dir.File("details.jsonl");

        var r = RlhfProcess.Run("eval", "mc", "--model", Gpt2, "--data", data, "--details", details, "--json", "--batch-size", "3");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var json = JsonNode.Parse(r.Stdout)!.AsObject();

        var tokenizer = TokenizerLoader.FromFolder(Gpt2);
        using var lm = HfModelLoader.LoadCausalLM(Gpt2);
        var expected = new List<(double Mc1, double Mc2)>();
        (double, double) Question(string q, string best, string[] correct, string[] incorrect, int drop = 0)
        {
            string prompt = "Q: " + q + "\nA:";
            double S(string a) => Reference(lm, tokenizer, prompt, " " + a, drop);
            return Direct(S(best), incorrect.Select(S), correct.Select(S), incorrect.Select(S));
        }
        expected.Add(Question("What is the sky?", "It is blue", ["It is blue", "Blue, mostly"], ["It is green", "It is red"]));
        expected.Add(Question("Who wrote it?", "Nobody knows", ["Nobody knows", "It is unknown"], ["A cat", "A dog"]));
        expected.Add(Question("Is it \"true\"?", "Yes", ["Yes"], ["No", "Maybe"]));
        int promptTokens = tokenizer.Encode("Q: " + longQuestion + "\nA:").Count;
        int longest = new[] { "Because", "No reason" }.Max(a => tokenizer.Encode(" " + a).Count);
        int drop = promptTokens + longest - 64;
        Assert.True(drop > 0 && drop < promptTokens);
        expected.Add(Question(longQuestion, "Because", ["Because"], ["No reason"], drop));

        Assert.Equal(4, json["n"]!.GetValue<int>());
        Assert.Equal(1, json["skipped"]!.GetValue<int>());
        Assert.Equal(1, json["truncated"]!.GetValue<int>());
        Assert.Equal(expected.Average(e => e.Mc1), json["mc1"]!.GetValue<double>(), 1e-12);
        Assert.Equal(expected.Average(e => e.Mc2), json["mc2"]!.GetValue<double>(), 1e-5);
        Assert.Equal(2, json["mc2_ci95"]!.AsArray().Count);

        var lines = File.ReadAllLines(details).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        Assert.Equal(5, lines.Count);
        Assert.Equal($"{data}:2", lines[0]["where"]!.GetValue<string>());
        // De-duplicated and trimmed, each answer once: the best, the incorrect ones, then the other correct ones.
        Assert.Equal(["It is blue", "It is green", "It is red", "Blue, mostly"], lines[0]["answers"]!.AsArray().Select(a => a!["text"]!.GetValue<string>()));
        Assert.Equal(Reference(lm, tokenizer, "Q: What is the sky?\nA:", " Blue, mostly"), lines[0]["answers"]![3]!["score"]!.GetValue<double>(), 1e-4);
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(expected[i].Mc1, lines[i]["mc1"]!.GetValue<double>());
            Assert.Equal(expected[i].Mc2, lines[i]["mc2"]!.GetValue<double>(), 1e-5);
        }
        Assert.Equal(drop, lines[3]["prompt_tokens_dropped"]!.GetValue<int>());
        Assert.True(lines[3]["truncated"]!.GetValue<bool>());
        Assert.True(lines[4]["skipped"]!.GetValue<bool>());
        Assert.Null(lines[4]["mc1"]);
    }

    /// <summary>mc_task.json layout: MC1 and MC2 have their own answer sets; each distinct answer is scored once.</summary>
    [Fact]
    public void Jsonl_Mc1AndMc2UseTheirOwnTargets_EqualHandComputed()
    {
        using var dir = new TempDir();
        var data = dir.File("mc.jsonl");
        File.WriteAllLines(data,
        [
            """{"question": "What colour is snow?", "mc1_targets": {"White": 1, "Black": 0, "Red": 0}, "mc2_targets": {"White": 1, "Very white": 1, "Black": 0}}""",
            "",
            """{"question": "Can pigs fly?", "mc1_targets": {"No": 0, "Pigs cannot fly": 1}, "mc2_targets": {"No": 1, "Pigs cannot fly": 1, "Yes": 0, "Sometimes": 0}}""",
        ]);
        var questions = MultipleChoiceReader.Read(data);
        Assert.Equal($"{data}:3", questions[1].Where!.ToString());
        var folder = ModelFolder.Open(Gpt2);
        using var lm = folder.LoadCausalLM();
        var result = MultipleChoiceEval.Evaluate(lm, folder.Tokenizer, questions, new MultipleChoicePrompt(), folder.PadId, CPU, batchSize: 2);

        double S(string q, string a) => Reference(lm, folder.Tokenizer, "Q: " + q + "\nA:", " " + a);
        const string q1 = "What colour is snow?", q2 = "Can pigs fly?";
        var e1 = Direct(S(q1, "White"), [S(q1, "Black"), S(q1, "Red")], [S(q1, "White"), S(q1, "Very white")], [S(q1, "Black")]);
        var e2 = Direct(S(q2, "Pigs cannot fly"), [S(q2, "No")], [S(q2, "No"), S(q2, "Pigs cannot fly")], [S(q2, "Yes"), S(q2, "Sometimes")]);
        Assert.Equal(2, result.Scored);
        Assert.Equal(e1.Mc1, result.Questions[0].Mc1);
        Assert.Equal(e2.Mc1, result.Questions[1].Mc1);
        Assert.Equal(e1.Mc2, result.Questions[0].Mc2!.Value, 1e-5);
        Assert.Equal(e2.Mc2, result.Questions[1].Mc2!.Value, 1e-5);
        Assert.Equal(4, result.Questions[0].Answers.Count);   // White, Black, Red, Very white: each once
        Assert.Equal((e1.Mc2 + e2.Mc2) / 2, result.Mc2.Value, 1e-5);
    }

    [Fact]
    public void Scoring_Mc1IsStrict_Mc2IsComputedInLogSpace_TruncationDropsFromTheLeft()
    {
        Assert.Equal(1.0, MultipleChoiceScoring.Mc1(-1.0, [-2.0, -3.0]));
        Assert.Equal(0.0, MultipleChoiceScoring.Mc1(-1.0, [-2.0, -1.0]));   // a tie is a miss
        Assert.Equal(0.25, MultipleChoiceScoring.Mc2([Math.Log(0.1)], [Math.Log(0.2), Math.Log(0.1)]), 1e-12);
        // exp(-2000) underflows to 0 in float64; in log space the ratio is still e^0 / (e^0 + e^-1).
        Assert.Equal(1 / (1 + Math.Exp(-1)), MultipleChoiceScoring.Mc2([-2000.0], [-2001.0]), 1e-12);

        Assert.Equal(0, MultipleChoiceScoring.PromptTokensToDrop(10, 5, 64));
        Assert.Equal(0, MultipleChoiceScoring.PromptTokensToDrop(59, 5, 64));
        Assert.Equal(6, MultipleChoiceScoring.PromptTokensToDrop(60, 10, 64));
        Assert.Equal(59, MultipleChoiceScoring.PromptTokensToDrop(60, 63, 64));   // one prompt token left
        Assert.Null(MultipleChoiceScoring.PromptTokensToDrop(60, 64, 64));        // not even one: skip
    }

    [Fact]
    public void Prompt_DefaultFewShotAndChat()
    {
        Assert.Equal("Q: Why?\nA:", new MultipleChoicePrompt().Prompt("Why?"));
        Assert.Equal(" Because", new MultipleChoicePrompt().Answer("Because"));
        Assert.Equal("Q: a?\nA: b\n\nQ: Why?\nA:", new MultipleChoicePrompt(Primer: "Q: a?\nA: b\n").Prompt("Why?"));
        var chatml = ChatFormats.FromTokenizerConfig(SharedPaths.Fixture("qwen2-tiny"));
        var chat = new MultipleChoicePrompt(chatml);
        Assert.Equal(chatml.Render([new ChatMessage("user", "Why?")], addGenerationPrompt: true), chat.Prompt("Why?"));
        Assert.Equal("Because", chat.Answer("Because"));
    }

    [Fact]
    public void Reader_SplitsTrimsDropsEmptiesAndDeduplicates()
    {
        Assert.Equal(["a", "b c", "d"], MultipleChoiceReader.SplitAnswers(" a; b c ;;a; d ;"));
    }

    [Theory]
    [InlineData("Question,Best Answer,Correct Answers,Incorrect Answers\nQ1,A,A,B\nQ2,A,A\n", ":3: malformed CSV row: 3 fields, the header has 4")]
    [InlineData("Question,Best Answer,Correct Answers,Incorrect Answers\nQ1,A,A,B\n\"Q2,A,A,B\n", ":3: malformed CSV row: a quoted field is never closed")]
    [InlineData("Question,Best Answer,Correct Answers,Incorrect Answers\nQ1,A,\"A\"x,B\n", ":2: malformed CSV row: text after a closing quote")]
    [InlineData("Question,Best Answer,Correct Answers,Incorrect Answers\nQ1,A,A,B\nQ2,A, ; ;,B\n", ":3: \"Correct Answers\" is an empty answer list")]
    [InlineData("Question,Best Answer,Correct Answers,Incorrect Answers\nQ1,A,A,\n", ":2: \"Incorrect Answers\" is an empty answer list")]
    [InlineData("Question,Best,Correct Answers,Incorrect Answers\nQ1,A,A,B\n", ":1: the header lacks the column \"Best Answer\"")]
    public void Reader_CsvErrorsNameFileAndLine(string text, string message)
    {
        using var dir = new TempDir();
        var path = dir.File("bad.csv");
        File.WriteAllText(path, text);
        var e = Assert.Throws<UserError>(() => MultipleChoiceReader.Read(path));
        Assert.StartsWith(path + message, e.Message);
    }

    [Theory]
    [InlineData("{\"question\": \"q\", \"mc1_targets\": {\"a\": 1, \"b\": 0}, \"mc2_targets\": {\"a\": 1, \"b\": 0}}\n{not json", ":2: malformed JSON")]
    [InlineData("{\"question\": \"q\", \"mc1_targets\": {}, \"mc2_targets\": {\"a\": 1, \"b\": 0}}", ":1: \"mc1_targets\" is an empty answer list")]
    [InlineData("{\"question\": \"q\", \"mc1_targets\": {\"a\": 1, \"b\": 0}, \"mc2_targets\": {\"b\": 0}}", ":1: \"mc2_targets (answers marked 1)\" is an empty answer list")]
    [InlineData("{\"question\": \"q\", \"mc1_targets\": {\"a\": 1, \"b\": 1}, \"mc2_targets\": {\"a\": 1, \"b\": 0}}", ":1: \"mc1_targets\" must mark exactly one answer 1")]
    [InlineData("{\"question\": \"q\", \"mc1_targets\": {\"a\": 1, \"b\": 2}, \"mc2_targets\": {\"a\": 1, \"b\": 0}}", ":1: \"mc1_targets\" must map each answer to 0 or 1")]
    [InlineData("{\"question\": \"q\", \"mc2_targets\": {\"a\": 1, \"b\": 0}}", ":1: missing field \"mc1_targets\"")]
    public void Reader_JsonlErrorsNameFileAndLine(string text, string message)
    {
        using var dir = new TempDir();
        var path = dir.File("bad.jsonl");
        File.WriteAllText(path, text);
        var e = Assert.Throws<UserError>(() => MultipleChoiceReader.Read(path));
        Assert.StartsWith(path + message, e.Message);
    }

    [Fact]
    public void Cli_MalformedRow_ExitsTwoNamingFileAndLine_BeforeLoadingTheModel()
    {
        using var dir = new TempDir();
        var path = dir.File("bad.csv");
        File.WriteAllText(path, "Question,Best Answer,Correct Answers,Incorrect Answers\nQ1,A,A,B\nQ2,A,A\n");
        var r = RlhfProcess.Run("eval", "mc", "--model", Gpt2, "--data", path);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal($"error: {path}:3: malformed CSV row: 3 fields, the header has 4", r.Stderr.Trim());
    }

    /// <summary>--chat and --few-shot reach the scoring: the CLI equals the library with the same prompt format.</summary>
    [Fact]
    public void Cli_ChatAndFewShot_EqualTheLibraryWithTheSamePromptFormat()
    {
        using var dir = new TempDir();
        var model = SharedPaths.Fixture("qwen2-tiny");
        var data = dir.File("mc.jsonl");
        File.WriteAllText(data, """{"question": "What colour is snow?", "mc1_targets": {"White": 1, "Black": 0}, "mc2_targets": {"White": 1, "Black": 0, "Red": 0}}""" + "\n");
        var primer = dir.File("primer.txt");
        File.WriteAllText(primer, "Q: What is 1+1?\nA: 2.\n");
        var r = RlhfProcess.Run("eval", "mc", "--model", model, "--data", data, "--chat", "--few-shot", primer, "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var json = JsonNode.Parse(r.Stdout)!.AsObject();

        var folder = ModelFolder.Open(model);
        using var lm = folder.LoadCausalLM();
        var result = MultipleChoiceEval.Evaluate(lm, folder.Tokenizer, MultipleChoiceReader.Read(data),
            new MultipleChoicePrompt(folder.ChatFormat, File.ReadAllText(primer)), folder.PadId, CPU);
        var plain = MultipleChoiceEval.Evaluate(lm, folder.Tokenizer, MultipleChoiceReader.Read(data), new MultipleChoicePrompt(), folder.PadId, CPU);
        Assert.Equal(result.Mc2.Value, json["mc2"]!.GetValue<double>(), 1e-6);
        Assert.NotEqual(plain.Mc2.Value, result.Mc2.Value);
    }
}
