using RlhfSharp.Data;
using RlhfSharp.Tokenization;
using RlhfSharp.Tests.Infrastructure;
using Xunit;

namespace RlhfSharp.Tests.Data;

public class PretrainingPackerTests
{
    /// <summary>One id per character (code point + 2); 0 is EOS. Enough to check packing without a real tokenizer.</summary>
    sealed class CharTokenizer(int? eos = 0) : ITextTokenizer
    {
        public int VocabSize => 258;
        public int? BosId => null;
        public int? EosId => eos;
        public int? PadId => null;
        public IReadOnlyList<int> Encode(string text, bool addSpecialTokens = false) => text.Select(c => c + 2).ToList();
        public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = false) =>
            new(ids.Select(i => i == 0 ? '|' : (char)(i - 2)).ToArray());
    }

    [Fact]
    public void DocumentsAreJoinedWithEosAndTargetsAreShiftedByOne()
    {
        var tok = new CharTokenizer();
        // Stream: "abc|de|fghij|" = 13 tokens; T = 4 -> (13 - 1) / 4 = 3 blocks, tail dropped.
        var blocks = PretrainingPacker.Pack(["abc", "de", "fghij"], tok, 4).ToList();
        Assert.Equal(3, blocks.Count);
        Assert.Equal(3, PretrainingPacker.BlockCount(13, 4));
        Assert.Equal(["abc|", "de|f", "ghij"], blocks.Select(b => tok.Decode(b.Input)));
        Assert.Equal(["bc|d", "e|fg", "hij|"], blocks.Select(b => tok.Decode(b.Target)));
        Assert.All(blocks, b => Assert.Equal(b.Input.Skip(1), b.Target.Take(3)));
    }

    [Fact]
    public void PackingIsDeterministicAndCoversEveryTokenOnce()
    {
        var docs = Enumerable.Range(0, 50).Select(i => new string((char)('a' + i % 26), 1 + i % 17)).ToList();
        var ids = docs.Select(d => (IReadOnlyList<int>)d.Select(c => (int)c).ToList()).ToList();
        var a = PretrainingPacker.PackIds(ids, 16, -1).ToList();
        var b = PretrainingPacker.PackIds(ids, 16, -1).ToList();
        Assert.Equal(a.SelectMany(x => x.Input), b.SelectMany(x => x.Input));
        var stream = ids.SelectMany(d => d.Append(-1)).ToList();
        Assert.Equal(PretrainingPacker.BlockCount(stream.Count, 16), a.Count);
        Assert.Equal(stream.Take(a.Count * 16), a.SelectMany(x => x.Input));
        Assert.Equal(stream.Skip(1).Take(a.Count * 16), a.SelectMany(x => x.Target));
    }

    [Fact]
    public void TokenizerWithoutEosNeedsASeparator()
    {
        var tok = new CharTokenizer(eos: null);
        Assert.Contains("no EOS", Assert.Throws<UserError>(() => PretrainingPacker.Pack(["a"], tok, 4).ToList()).Message);
        Assert.Single(PretrainingPacker.Pack(["abcd"], tok, 4, separatorId: 1));
    }

    [Fact]
    public void TinyShakespeareIsOneDocumentAndJsonlUsesTheTextField()
    {
        var doc = Assert.Single(PretrainingReader.ReadDocuments(TestFiles.SharedData("tinyshakespeare", "input.txt")));
        Assert.Equal(1115394, doc.Length);
        Assert.StartsWith("First Citizen:", doc);
        var blocks = PretrainingPacker.Pack([doc], new CharTokenizer(), 256).ToList();
        Assert.Equal((1115394 + 1 - 1) / 256, blocks.Count);

        using var dir = new TempDir();
        var path = dir.Write("c.jsonl", """{"body": "one"}""", """{"body": "two"}""");
        Assert.Equal(["one", "two"], PretrainingReader.ReadDocuments(path, textField: "body"));
        Assert.Equal($"{path}:1: missing field \"text\"", Assert.Throws<UserError>(() => PretrainingReader.ReadDocuments(path).ToList()).Message);
    }
}
