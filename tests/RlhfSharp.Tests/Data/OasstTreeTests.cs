using RlhfSharp.Data;
using RlhfSharp.Tests.Infrastructure;
using Xunit;

namespace RlhfSharp.Tests.Data;

public class OasstTreeTests
{
    // root (prompter) -> A rank 1, B rank 0, C deleted rank -1 (must be ignored), D failed review;
    // B -> prompter follow-up -> two unranked assistant replies (first in file order is taken).
    const string Tree = """
        {"message_tree_id": "t1", "prompt": {"message_id": "m0", "role": "prompter", "text": "Q1", "replies": [
          {"message_id": "a", "role": "assistant", "text": "A", "rank": 1, "replies": []},
          {"message_id": "b", "role": "assistant", "text": "B", "rank": 0, "replies": [
            {"message_id": "q2", "role": "prompter", "text": "Q2", "replies": [
              {"message_id": "x", "role": "assistant", "text": "X", "replies": []},
              {"message_id": "y", "role": "assistant", "text": "Y", "replies": []}]}]},
          {"message_id": "c", "role": "assistant", "text": "C", "rank": -1, "deleted": true, "replies": []},
          {"message_id": "d", "role": "assistant", "text": "D", "rank": 2, "review_result": false, "replies": []},
          {"message_id": "e", "role": "assistant", "text": "E", "rank": 2, "replies": []}]}}
        """;

    static string WriteTree(TempDir dir, string tree) => dir.Write("tree.jsonl", tree.ReplaceLineEndings(" "));

    [Fact]
    public void BestPathFollowsLowestRankSkippingDeletedAndFailedReview()
    {
        using var dir = new TempDir();
        var d = Assert.Single(DemonstrationReader.Read(WriteTree(dir, Tree)));
        Assert.Equal(["Q1", "B", "Q2", "X"], d.Messages.Select(t => t.Content));
        Assert.Equal([ChatRole.User, ChatRole.Assistant, ChatRole.User, ChatRole.Assistant], d.Messages.Select(t => t.Role));
    }

    [Fact]
    public void SiblingRanksGiveBetterVersusWorsePairs()
    {
        using var dir = new TempDir();
        var set = ComparisonReader.Read(WriteTree(dir, Tree));
        // ranked usable siblings under m0: B(0), A(1), E(2) -> 3 pairs; X and Y are unranked -> none.
        Assert.Equal([("B", "A"), ("B", "E"), ("A", "E")],
            set.Pairs.Select(p => (p.Chosen.Trim(), p.Rejected.Trim())).ToList());
        Assert.All(set.Pairs, p => Assert.Equal("\n\nHuman: Q1\n\nAssistant:", p.Prompt));
        Assert.All(set.Pairs, p => Assert.Equal("m0", p.GroupId));
        Assert.Equal(" B", set.Pairs[0].Chosen[..2]);
    }

    [Fact]
    public void TreeWithoutAnswerGivesNoDemonstrationAndTrailingPrompterIsDropped()
    {
        using var dir = new TempDir();
        var path = dir.Write("t.jsonl",
            """{"prompt": {"role": "prompter", "text": "lonely", "replies": []}}""",
            """{"prompt": {"role": "prompter", "text": "Q", "replies": [{"role": "assistant", "text": "A", "replies": [{"role": "prompter", "text": "Q2", "replies": []}]}]}}""");
        var d = Assert.Single(DemonstrationReader.Read(path));
        Assert.Equal(["Q", "A"], d.Messages.Select(t => t.Content));
    }

    [Fact]
    public void MissingTextInANestedReplyIsNamed()
    {
        using var dir = new TempDir();
        var path = dir.Write("t.jsonl", """{"prompt": {"role": "prompter", "text": "Q", "replies": [{"role": "assistant", "rank": 0, "replies": []}]}}""");
        var e = Assert.Throws<UserError>(() => DemonstrationReader.Read(path));
        Assert.Equal($"{path}:1: missing field \"prompt.replies[0].text\"", e.Message);
    }

    [Fact]
    public void SharedTreesGiveAllRankedSiblingPairs()
    {
        var set = ComparisonReader.Read(TestFiles.SharedData("oasst", "en_100_tree.jsonl"));
        Assert.Equal(754, set.Pairs.Count); // counted independently with a Python script over the same rule
        Assert.Equal(0, set.SkippedIdentical);
        var first = set.Pairs[0];
        Assert.Equal("\n\nHuman: How can I find the best 401k plan for my needs?\n\nAssistant:", first.Prompt);
        Assert.StartsWith(" The first step is to research your options.", first.Chosen);
        Assert.StartsWith(" The first step is to determine your financial goals.", first.Rejected);
        Assert.Equal([ChatRole.User], first.PromptMessages!.Select(t => t.Role));
    }
}
