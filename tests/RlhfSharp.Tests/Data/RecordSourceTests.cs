using System.IO.Compression;
using System.Text.Json.Nodes;
using Parquet.Schema;
using Parquet.Serialization;
using RlhfSharp.Data;
using RlhfSharp.Tests.Infrastructure;
using Xunit;

namespace RlhfSharp.Tests.Data;

public class RecordSourceTests
{
    [Fact]
    public void JsonlSkipsBlankLinesAndKeepsLineNumbers()
    {
        using var dir = new TempDir();
        var path = dir.Write("a.jsonl", """{"x": 1}""", "", "   ", """{"x": 2}""");
        var records = RecordSource.Read(path).ToList();
        Assert.Equal(2, records.Count);
        Assert.Equal($"{path}:4", records[1].Where.ToString());
        Assert.Equal(2, (int)records[1].Object["x"]!);
    }

    [Fact]
    public void MalformedLineNamesFileAndLine()
    {
        using var dir = new TempDir();
        var path = dir.Write("bad.jsonl", """{"prompt": "a", "response": "b"}""", """{"prompt": "a", "response": """);
        var e = Assert.Throws<UserError>(() => RecordSource.Read(path).ToList());
        Assert.StartsWith($"{path}:2: malformed JSON", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void MissingFileAndUnknownExtensionAreUserErrors()
    {
        using var dir = new TempDir();
        Assert.Contains("file not found", Assert.Throws<UserError>(() => RecordSource.Read(dir.File("none.jsonl"))).Message);
        var csv = dir.Write("a.csv", "x,y");
        Assert.Contains("unknown data file type", Assert.Throws<UserError>(() => RecordSource.Read(csv).ToList()).Message);
    }

    [Fact]
    public void JsonArrayAndGzipAreRead()
    {
        using var dir = new TempDir();
        var array = dir.Write("alpaca.json", """[{"instruction": "a", "output": "b"}, {"instruction": "c", "input": "d", "output": "e"}]""");
        var records = RecordSource.Read(array).ToList();
        Assert.Equal(2, records.Count);
        Assert.Equal($"{array}:item 2", records[1].Where.ToString());

        var gz = dir.File("a.jsonl.gz");
        using (var s = new GZipStream(File.Create(gz), CompressionLevel.Fastest))
        using (var w = new StreamWriter(s)) w.Write("{\"text\": \"hello\"}\n{\"text\": \"world\"}\n");
        Assert.Equal(["hello", "world"], PretrainingReader.ReadDocuments(gz).ToArray());
    }

    [Fact]
    public void ParquetRowsBecomeFieldMapsWithListsOfStructs()
    {
        using var dir = new TempDir();
        var path = dir.File("chat.parquet");
        var schema = new ParquetSchema(
            new DataField<string>("prompt"),
            new ListField("messages", new StructField("element", new DataField<string>("role"), new DataField<string>("content"))),
            new DataField<int>("score"));
        var rows = new List<IDictionary<string, object>>
        {
            new Dictionary<string, object>
            {
                ["prompt"] = "hi",
                ["messages"] = new List<Dictionary<string, object>>
                {
                    new() { ["role"] = "user", ["content"] = "hi" },
                    new() { ["role"] = "assistant", ["content"] = "hello" },
                },
                ["score"] = 7,
            },
        };
        using (var f = File.Create(path)) ParquetSerializer.SerializeUntypedAsync(rows, schema, f).GetAwaiter().GetResult();

        var record = Assert.Single(RecordSource.Read(path));
        Assert.Equal($"{path}:row 1", record.Where.ToString());
        Assert.Equal(7, (long)record.Object["score"]!);
        var demo = Assert.Single(DemonstrationReader.Read(path, DemonstrationFormat.Messages));
        Assert.Equal([ChatRole.User, ChatRole.Assistant], demo.Messages.Select(t => t.Role));
        Assert.Equal("hello", demo.Response);
    }

    [Fact]
    public void NotParquetIsAUserError()
    {
        using var dir = new TempDir();
        var path = dir.Write("fake.parquet", "not parquet at all");
        Assert.Contains("cannot read as Parquet", Assert.Throws<UserError>(() => RecordSource.Read(path).ToList()).Message);
    }
}
