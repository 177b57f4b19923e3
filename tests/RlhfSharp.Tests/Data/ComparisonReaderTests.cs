using RlhfSharp.Data;
using RlhfSharp.Tests.Infrastructure;
using Xunit;

namespace RlhfSharp.Tests.Data;

public class ComparisonReaderTests
{
    [Fact]
    public void AnthropicHhTranscriptsSplitAtTheSharedLastAssistantMarker()
    {
        var set = ComparisonReader.Read(TestFiles.SharedData("hh-rlhf-helpful-slice", "test-first600.jsonl"));
        Assert.Equal(600, set.Pairs.Count);
        var p = set.Pairs[0];
        Assert.Equal("\n\nHuman: Do you know why turkeys became the official food of thanksgiving?\n\nAssistant:", p.Prompt);
        Assert.StartsWith(" To be honest, I don’t know anything about that.", p.Chosen);
        Assert.StartsWith(" I know that the American Indians", p.Rejected);
        Assert.All(set.Pairs, c => Assert.EndsWith("\n\nAssistant:", c.Prompt));
        Assert.Equal([ChatRole.User], p.PromptMessages!.Select(t => t.Role));

        // Line 169: the rejected response itself contains "\n\nAssistant:"; the prompt is still the shared one.
        var odd = set.Pairs[168];
        Assert.Equal("\n\nHuman: What are some famous world music artists?\n\nAssistant:", odd.Prompt);
        Assert.Contains("\n\nAssistant:", odd.Rejected);
    }

    [Fact]
    public void HhSplitKeepsMultiTurnPrompts()
    {
        var split = Transcript.SplitPair("\n\nHuman: a\n\nAssistant: b\n\nHuman: c\n\nAssistant: good", "\n\nHuman: a\n\nAssistant: b\n\nHuman: c\n\nAssistant: bad")!.Value;
        Assert.Equal("\n\nHuman: a\n\nAssistant: b\n\nHuman: c\n\nAssistant:", split.Prompt);
        Assert.Equal((" good", " bad"), (split.Chosen, split.Rejected));
        Assert.Equal([("a", ChatRole.User), ("b", ChatRole.Assistant), ("c", ChatRole.User)],
            Transcript.Parse(split.Prompt).Select(t => (t.Content, t.Role)));
    }

    [Fact]
    public void PromptChosenRejectedKeepsExtraFieldsAsMetadata()
    {
        using var dir = new TempDir();
        var path = dir.Write("labels.jsonl",
            """{"prompt": "p", "chosen": "good", "rejected": "bad", "labeler": "ann", "task_id": 4, "ratings": {"good": 7, "bad": 2}, "flags": ["toxic"]}""");
        var c = Assert.Single(ComparisonReader.Read(path).Pairs);
        Assert.Equal(("p", "good", "bad"), (c.Prompt, c.Chosen, c.Rejected));
        Assert.Equal("ann", (string)c.Metadata["labeler"]!);
        Assert.Equal(7, (int)c.Metadata["ratings"]!["good"]!);
        Assert.Equal("toxic", (string)c.Metadata["flags"]![0]!);
        Assert.Equal(4, c.Metadata.Count);

        var copy = dir.File("copy.jsonl");
        JsonlWriter.WriteComparisons(copy, [c]);
        var back = Assert.Single(ComparisonReader.Read(copy).Pairs);
        Assert.Equal((c.Prompt, c.Chosen, c.Rejected), (back.Prompt, back.Chosen, back.Rejected));
        Assert.Equal(2, (int)back.Metadata["ratings"]!["bad"]!);
    }

    [Fact]
    public void GroupIdMarksPairsOfOneRanking()
    {
        using var dir = new TempDir();
        var path = dir.Write("export.jsonl",
            """{"prompt": "p", "chosen": "a", "rejected": "b", "group_id": "t/ann"}""" + "\n" +
            """{"prompt": "p", "chosen": "a", "rejected": "c", "group_id": "t/ann"}""" + "\n" +
            """{"prompt": "q", "chosen": "x", "rejected": "y"}""");
        var pairs = ComparisonReader.Read(path).Pairs;
        Assert.Equal(["t/ann", "t/ann", null], pairs.Select(p => p.GroupId));
    }

    [Fact]
    public void RankingsBecomeAllPairsWithTheHigherRankedChosen()
    {
        using var dir = new TempDir();
        var path = dir.Write("rank.jsonl", """{"prompt": "p", "responses": ["r0", "r1", "r2", "r3"], "ranking": [2, 0, 3, 1]}""");
        var pairs = ComparisonReader.Read(path).Pairs;
        Assert.Equal([("r2", "r0"), ("r2", "r3"), ("r2", "r1"), ("r0", "r3"), ("r0", "r1"), ("r3", "r1")],
            pairs.Select(p => (p.Chosen, p.Rejected)));
        Assert.All(pairs, p => Assert.Equal($"{path}:1", p.GroupId));
    }

    [Theory]
    [InlineData("[0, 1]", "ranking has 2 entries but there are 3 responses")]
    [InlineData("[0, 1, 1]", "ranking repeats index 1")]
    [InlineData("[0, 1, 3]", "ranking index 3 is out of range 0..2")]
    [InlineData("[0, 1, \"2\"]", "\"ranking\" must list response indices")]
    public void BadRankingNamesFileAndLine(string ranking, string expected)
    {
        using var dir = new TempDir();
        var path = dir.Write("rank.jsonl", "", $$"""{"prompt": "p", "responses": ["a", "b", "c"], "ranking": {{ranking}}}""");
        var e = Assert.Throws<UserError>(() => ComparisonReader.Read(path));
        Assert.StartsWith($"{path}:2: ", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void IdenticalPairsAreSkippedWithOneWarning()
    {
        using var dir = new TempDir();
        var path = dir.Write("c.jsonl",
            """{"prompt": "p", "chosen": "same", "rejected": "same"}""",
            """{"prompt": "p", "chosen": "a", "rejected": "b"}""",
            """{"chosen": "\n\nHuman: h\n\nAssistant: x", "rejected": "\n\nHuman: h\n\nAssistant: x"}""",
            """{"prompt": "p", "responses": ["u", "u", "v"], "ranking": [0, 1, 2]}""");
        var log = new StringWriter();
        var set = ComparisonReader.Read(path, warnings: log);
        Assert.Equal(3, set.SkippedIdentical); // line 1, line 3, and (u, u) from the ranking
        Assert.Equal(3, set.Pairs.Count);       // (a, b), (u, v), (u, v)
        Assert.Equal($"warning: {path}: skipped 3 pairs whose chosen equals rejected\n", log.ToString().ReplaceLineEndings("\n"));
    }

    [Theory]
    [InlineData("""{"prompt": "p", "chosen": "c"}""", "missing field \"rejected\"")]
    [InlineData("""{"prompt": "p", "rejected": "r"}""", "missing field \"chosen\"")]
    [InlineData("""{"prompt": "p"}""", "missing field \"chosen\"")]
    [InlineData("""{"chosen": "\n\nHuman: a\n\nAssistant: b"}""", "missing field \"rejected\"")]
    [InlineData("""{"chosen": "no markers", "rejected": "none here"}""", "do not share a prompt")]
    [InlineData("""{"prompt": "p", "responses": ["a", "b"]}""", "missing field \"ranking\"")]
    [InlineData("""{"label": 1}""", "cannot tell the comparison format from fields [label]")]
    public void MissingFieldsNameFieldAndLine(string line, string expected)
    {
        using var dir = new TempDir();
        var path = dir.Write("c.jsonl", line);
        var e = Assert.Throws<UserError>(() => ComparisonReader.Read(path));
        Assert.StartsWith($"{path}:1: ", e.Message);
        Assert.Contains(expected, e.Message);
    }
}
