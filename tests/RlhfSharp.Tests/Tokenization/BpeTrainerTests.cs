using RlhfSharp.Tests.Infrastructure;
using RlhfSharp.Tokenization;
using Xunit;

namespace RlhfSharp.Tests.Tokenization;

public class BpeTrainerTests
{
    static readonly string[] Corpus =
    [
        "Bazor lives in Oslo. The favorite color of Bazor is teal.",
        "Kimet lives in Lima. Kimet has a pet fox. Bazor has a pet owl.",
        "Q: Where does Kimet live? A: Kimet lives in Lima.<|endoftext|>",
    ];

    [Fact]
    public void TrainedTokenizerLoadsAsHfAndRoundTrips()
    {
        using var dir = new TempDir();
        var result = BpeTrainer.Train(Enumerable.Repeat(Corpus, 5).SelectMany(x => x), vocabSize: 330);
        Assert.True(result.VocabSize > 258);
        result.Save(dir.Path);
        var tok = TokenizerLoader.FromFolder(dir.Path);
        Assert.IsType<HfTokenizer>(tok);
        Assert.Equal(result.VocabSize, tok.VocabSize);
        Assert.Equal(256, tok.EosId);
        Assert.Equal(257, tok.PadId);

        foreach (var text in Corpus.Append("Unseen Zuvak lives in Quito! 日本"))
            Assert.Equal(text, tok.Decode(tok.Encode(text)));
        // Frequent words become single tokens; the special token is one id.
        Assert.Single(tok.Encode(" lives"));
        Assert.Single(tok.Encode("Bazor"));
        Assert.Equal([256], tok.Encode("<|endoftext|>"));
        Assert.True(tok.Encode(Corpus[0]).Count < Corpus[0].Length / 3);
    }

    [Fact]
    public void TrainingIsDeterministicAndStopsAtRarePairs()
    {
        var a = BpeTrainer.Train(Corpus, 400); var b = BpeTrainer.Train(Corpus, 400);
        Assert.Equal(a.Merges, b.Merges);
        // Only pairs seen at least twice merge, so a 3-line corpus runs out before 400 entries.
        Assert.True(a.VocabSize < 400);
        Assert.Throws<UserError>(() => BpeTrainer.Train(Corpus, 100));
    }
}
