using RlhfSharp.Data;
using RlhfSharp.Tests.Data;
using RlhfSharp.Tests.Infrastructure;
using RlhfSharp.Training.Rl;
using Xunit;

namespace RlhfSharp.Tests.GrpoRloo;

/// <summary>The verifiable rewards on hand-written cases: the whitespace and case rules, numbers inside text, and the
/// prompts' "answer" field.</summary>
public class VerifiableRewardTests
{
    static double Score(string kind, string response, string answer) =>
        VerifiableRewards.Score(VerifiableRewards.Parse(kind)!.Value, response, answer);

    [Theory]
    [InlineData("Paris", "Paris", 1)]
    [InlineData("  paris \n", "Paris", 1)]                     // outer whitespace and case do not matter
    [InlineData("New   York\tCity", "new york city", 1)]       // any whitespace run is one space
    [InlineData("NewYork City", "new york city", 0)]           // but whitespace is not dropped
    [InlineData("Paris.", "Paris", 0)]                         // punctuation counts
    [InlineData("The answer is Paris", "Paris", 0)]            // exact means the whole response
    [InlineData("", "Paris", 0)]
    public void Exact(string response, string answer, double expected) => Assert.Equal(expected, Score("exact", response, answer));

    [Theory]
    [InlineData("The capital is PARIS, of course.", "paris", 1)]
    [InlineData("It is New\n York.", "new york", 1)]          // whitespace collapsed on both sides
    [InlineData("It is Newark.", "new york", 0)]
    [InlineData("Paris", "the city of Paris", 0)]              // the answer must be inside the response, not the reverse
    public void Contains(string response, string answer, double expected) => Assert.Equal(expected, Score("contains", response, answer));

    [Theory]
    [InlineData("The answer is 42.", @"\b42\b", 1)]
    [InlineData("YES", "^yes$", 1)]                            // case-insensitive
    [InlineData(" yes", "^yes$", 0)]                           // the response is not trimmed: anchors see the space
    [InlineData("I think so, yes", "^(yes|no)$", 0)]
    [InlineData("colour", "colou?r", 1)]
    public void Regex(string response, string answer, double expected) => Assert.Equal(expected, Score("regex", response, answer));

    [Theory]
    [InlineData("42", "42", 1)]
    [InlineData("The answer is 42.", "42", 1)]                 // a number inside text, sentence full stop after it
    [InlineData("7 apples and 3 pears: 10 in all", "10", 1)]   // the LAST number counts
    [InlineData("10 in all, from 7 and 3", "10", 0)]
    [InlineData("It costs $1,234.50 today", "1234.5", 1)]      // thousands separators, trailing zero
    [InlineData("x = -3.5", "-3.5", 1)]
    [InlineData("5-3 leaves", "-3", 0)]                       // subtraction, not a negative number
    [InlineData("5-3 leaves", "3", 1)]
    [InlineData("the 3rd one", "3", 0)]                       // glued to letters: not a number
    [InlineData("version 1.2.3", "1.2", 0)]
    [InlineData("no digits here", "0", 0)]
    [InlineData("0.30000000000000004", "0.3", 1)]              // equal within a relative 1e-9
    [InlineData("about .5", "0.5", 1)]
    public void Number(string response, string answer, double expected) => Assert.Equal(expected, Score("number", response, answer));

    [Fact]
    public void Normalize_TrimsCollapsesAndLowercases() =>
        Assert.Equal("a b c", VerifiableRewards.Normalize("  A\t\tB \r\n C  "));

    [Fact]
    public void AnswersThatCannotBeChecked_AreNamed()
    {
        Assert.Null(VerifiableRewards.AnswerProblem(VerifiableRewardKind.Number, " 1,234 "));
        Assert.Contains("not one number", VerifiableRewards.AnswerProblem(VerifiableRewardKind.Number, "about 12")!);
        Assert.Contains("not a regular expression", VerifiableRewards.AnswerProblem(VerifiableRewardKind.Regex, "(unclosed")!);
        Assert.Contains("empty", VerifiableRewards.AnswerProblem(VerifiableRewardKind.Exact, "  \n")!);
        Assert.Null(VerifiableRewards.Parse("numbers"));
        Assert.Equal(VerifiableRewardKind.Contains, VerifiableRewards.Parse("contains"));
    }

    [Fact]
    public void PromptRecords_CarryAnOptionalAnswer_StringOrNumber_AndOtherTypesAreErrors()
    {
        using var dir = new TempDir();
        var file = dir.Write("p.jsonl",
            """{"prompt": "2+2?", "answer": 4, "id": 1}""",
            """{"text": "Capital of France?", "answer": "Paris"}""",
            """{"messages": [{"role": "user", "content": "Half of 7?"}], "answer": 3.5}""",
            """{"prompt": "No answer here."}""");
        var prompts = PromptReader.Read(file);
        Assert.Equal(["4", "Paris", "3.5", null], prompts.Select(p => p.Answer));
        Assert.False(prompts[0].Metadata.ContainsKey("answer"));
        Assert.Equal(1, (int)prompts[0].Metadata["id"]!);

        var bad = dir.Write("bad.jsonl", """{"prompt": "ok", "answer": "x"}""", """{"prompt": "2+2?", "answer": [4]}""");
        var e = Assert.Throws<UserError>(() => PromptReader.Read(bad));
        Assert.Equal($"{bad}:2: field \"answer\" must be a string or a number, got a list", e.Message);
    }

    [Fact]
    public void AnswerRewardScorer_DecodesEachRowAndLooksUpItsPromptsAnswer()
    {
        var scorer = new AnswerRewardScorer(VerifiableRewardKind.Number, ["4", "10"], ids => string.Concat(ids.Select(i => (char)i)));
        using var sequences = TorchSharp.torch.zeros(3, 2);
        int[][] responses = [[.. "it is 4"], [.. "4"], [.. "ten: 10"]];
        using var scores = scorer.Score(sequences, sequences, responses, [0, 1, 1]);
        Assert.Equal([1f, 0f, 1f], scores.data<float>().ToArray());
    }
}
