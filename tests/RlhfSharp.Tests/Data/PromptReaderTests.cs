using RlhfSharp.Data;
using RlhfSharp.Tests.Infrastructure;
using Xunit;

namespace RlhfSharp.Tests.Data;

public class PromptReaderTests
{
    [Fact]
    public void PromptLotteryLinesAreBareJsonStrings()
    {
        var prompts = PromptReader.Read(TestFiles.SharedData("oasst", "prompt_lottery_en_250_text.jsonl"));
        Assert.Equal(250, prompts.Count);
        Assert.Equal("Can you tell me about GLaDOS?", prompts[0].Text);
        Assert.Equal("Are both common pronunciations of \"gif\" correct?", prompts[5].Text);
    }

    [Fact]
    public void PromptAndMessagesRecordsAndTextFiles()
    {
        using var dir = new TempDir();
        var jsonl = dir.Write("p.jsonl",
            """{"prompt": "Tell a joke.", "id": 3}""",
            """{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}, {"role": "user", "content": "Joke?"}]}""");
        var p = PromptReader.Read(jsonl);
        Assert.Equal("Tell a joke.", p[0].Text);
        Assert.Equal(3, (int)p[0].Metadata["id"]!);
        Assert.Equal("\n\nHuman: Hi\n\nAssistant: Hello\n\nHuman: Joke?\n\nAssistant:", p[1].Text);
        Assert.Equal(3, p[1].Messages!.Count);

        var txt = dir.Write("p.txt", "first prompt", "", "second prompt");
        var t = PromptReader.Read(txt);
        Assert.Equal(["first prompt", "second prompt"], t.Select(x => x.Text));
        Assert.Equal($"{txt}:3", t[1].Source);
    }

    [Fact]
    public void TextRecordsArePromptsAndPromptWinsOverText()
    {
        using var dir = new TempDir();
        var path = dir.Write("p.jsonl", """{"text": "Count to three."}""", """{"prompt": "Say hi.", "text": "ignored"}""");
        var prompts = PromptReader.Read(path);
        Assert.Equal(["Count to three.", "Say hi."], prompts.Select(p => p.Text));
        Assert.Equal("ignored", (string)prompts[1].Metadata["text"]!);
    }

    [Fact]
    public void RecordWithoutPromptIsAUserError()
    {
        using var dir = new TempDir();
        var path = dir.Write("p.jsonl", "\"ok\"", """{"question": "q"}""");
        Assert.Equal($"{path}:2: missing field \"prompt\"", Assert.Throws<UserError>(() => PromptReader.Read(path)).Message);
        var num = dir.Write("n.jsonl", "42");
        Assert.StartsWith($"{num}:1: expected a prompt", Assert.Throws<UserError>(() => PromptReader.Read(num)).Message);
    }
}
