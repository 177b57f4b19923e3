using System.Text.Json.Nodes;
using RlhfSharp.Data;
using RlhfSharp.Tests.Infrastructure;
using Xunit;

namespace RlhfSharp.Tests.Data;

public class DataDialoguesCommandTests
{
    [Fact]
    public void WritesMessagesRecordsThatReadBackAsDemonstrations()
    {
        using var dir = new TempDir();
        var raw = dir.Write("raw.txt",
            "Some prose first.", "",
            "Q. What is RLHF?", "", "A. Learning from human preferences.", "",
            "Q. Who wrote InstructGPT?", "", "A. Ouyang et al.", "",
            "Q. When?", "", "A. 2022.", "",
            "More prose.");
        var output = dir.File("out/dialogues.jsonl");
        var r = RlhfSharp.Tests.Cli.RlhfProcess.Run("data", "dialogues", "--input", raw, "--output", output);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.StartsWith("1 dialogue (6 turns) from 1 document", r.Stderr);

        var d = Assert.Single(DemonstrationReader.Read(output));
        Assert.Equal("What is RLHF?", d.Messages[0].Content);
        Assert.Equal("2022.", d.Response);
        Assert.Equal(new JsonArray("Q", "A").ToJsonString(), d.Metadata["speakers"]!.ToJsonString());
    }
}
