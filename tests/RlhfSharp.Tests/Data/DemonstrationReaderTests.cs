using RlhfSharp.Data;
using RlhfSharp.Tests.Infrastructure;
using Xunit;

namespace RlhfSharp.Tests.Data;

public class DemonstrationReaderTests
{
    [Fact]
    public void SelfInstructSeedTasksGiveOneDemonstrationPerInstance()
    {
        var demos = DemonstrationReader.Read(TestFiles.SharedData("self-instruct", "seed_tasks.jsonl"));
        Assert.Equal(175, demos.Count); // 175 tasks with one instance each; 50 have an empty input
        var d = demos[1];
        Assert.Equal("What is the relation between the given pairs?\n\nNight : Day :: Right : Left", d.Messages[0].Content);
        Assert.Equal("The relation between the given pairs is that they are opposites.", d.Response);
        Assert.Equal("seed_task_1", (string)d.Metadata["id"]!);
        Assert.DoesNotContain("\n\n", demos[0].Messages[0].Content); // empty input: instruction alone
    }

    [Fact]
    public void OpenAssistantTreesGiveTheBestRankedPath()
    {
        var demos = DemonstrationReader.Read(TestFiles.SharedData("oasst", "en_100_tree.jsonl"));
        Assert.Equal(100, demos.Count);
        Assert.Equal(284, demos.Sum(d => d.Messages.Count));
        Assert.All(demos, d => Assert.Equal(ChatRole.Assistant, d.Messages[^1].Role));
        Assert.All(demos, d => Assert.Equal(ChatRole.User, d.Messages[0].Role));
        Assert.Equal("How can I find the best 401k plan for my needs?", demos[0].Messages[0].Content);
        Assert.StartsWith("The first step is to research your options.", demos[0].Messages[1].Content); // rank 0 of three
        Assert.Equal("054e1df3-35e0-4bb8-a585-607dbdcd24e0", (string)demos[0].Metadata["message_tree_id"]!);
    }

    [Fact]
    public void EachHandWrittenLayoutIsDetected()
    {
        using var dir = new TempDir();
        var path = dir.Write("mixed.jsonl",
            """{"prompt": "p1", "response": "r1"}""",
            """{"prompt": "p2", "completion": "r2", "task_id": 9}""",
            """{"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}, {"role": "assistant", "content": "a"}]}""",
            """{"instruction": "Add.", "input": "1+1", "output": "2"}""",
            """{"instruction": "Say hi.", "output": "hi"}""");
        var d = DemonstrationReader.Read(path);
        Assert.Equal(5, d.Count);
        Assert.Equal(("p1", "r1"), (d[0].Messages[0].Content, d[0].Response));
        Assert.Equal("r2", d[1].Response);
        Assert.Equal(9, (int)d[1].Metadata["task_id"]!);
        Assert.Equal([ChatRole.System, ChatRole.User, ChatRole.Assistant], d[2].Messages.Select(t => t.Role));
        Assert.Equal("Add.\n\n1+1", d[3].Messages[0].Content);
        Assert.Equal("Say hi.", d[4].Messages[0].Content);
        Assert.Equal($"{path}:4", d[3].Source);
    }

    [Theory]
    [InlineData("""{"prompt": "p"}""", "missing field \"response\" (or \"completion\")")]
    [InlineData("""{"instruction": "i", "input": "x"}""", "missing field \"output\"")]
    [InlineData("""{"messages": [{"role": "user", "content": "u"}, {"role": "assistant"}]}""", "missing field \"messages[1].content\"")]
    [InlineData("""{"messages": [{"role": "robot", "content": "u"}]}""", "\"messages[0].role\" is \"robot\"")]
    [InlineData("""{"messages": [{"role": "user", "content": "u"}]}""", "no assistant turn")]
    [InlineData("""{"prompt": 3, "response": "r"}""", "field \"prompt\" must be a string, got number")]
    [InlineData("""{"text": "t"}""", "cannot tell the demonstration format from fields [text]")]
    [InlineData("""["not", "an", "object"]""", "expected a JSON object, got a list")]
    public void BadRecordsNameTheFieldAndLine(string line, string expected)
    {
        using var dir = new TempDir();
        var path = dir.Write("bad.jsonl", """{"prompt": "ok", "response": "ok"}""", line);
        var e = Assert.Throws<UserError>(() => DemonstrationReader.Read(path));
        Assert.StartsWith($"{path}:2: ", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void ExplicitFormatOverridesDetection()
    {
        using var dir = new TempDir();
        // Has both layouts; auto picks messages, the override picks prompt/response.
        var path = dir.Write("both.jsonl", """{"prompt": "p", "response": "r", "messages": [{"role": "assistant", "content": "m"}]}""");
        Assert.Equal("m", DemonstrationReader.Read(path).Single().Response);
        Assert.Equal("r", DemonstrationReader.Read(path, DemonstrationFormat.PromptResponse).Single().Response);
        var e = Assert.Throws<UserError>(() => DemonstrationReader.Read(path, DemonstrationFormat.Instruction));
        Assert.Equal($"{path}:1: missing field \"instruction\"", e.Message);
    }

    [Fact]
    public void WrittenDemonstrationsReadBack()
    {
        using var dir = new TempDir();
        var source = DemonstrationReader.Read(TestFiles.SharedData("self-instruct", "seed_tasks.jsonl")).Take(5).ToList();
        var path = dir.File("out.jsonl");
        Assert.Equal(5, JsonlWriter.WriteDemonstrations(path, source));
        var back = DemonstrationReader.Read(path);
        Assert.Equal(source.Select(d => d.Messages), back.Select(d => d.Messages), new SequenceComparer());
        Assert.Equal((string)source[3].Metadata["name"]!, (string)back[3].Metadata["name"]!);
    }

    sealed class SequenceComparer : IEqualityComparer<IReadOnlyList<ChatTurn>>
    {
        public bool Equals(IReadOnlyList<ChatTurn>? a, IReadOnlyList<ChatTurn>? b) => a!.SequenceEqual(b!);
        public int GetHashCode(IReadOnlyList<ChatTurn> a) => a.Count;
    }
}
