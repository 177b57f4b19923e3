using RlhfSharp.Tests.Infrastructure;
using RlhfSharp.Tokenization;
using Xunit;

namespace RlhfSharp.Tests.Tokenization;

public class ByteAndGpt2TokenizerTests
{
    static readonly string[] Texts =
    [
        "Hello world", "naïve café — 日本語 🙂", "  tabs\tand\nnewlines  ", "<|endoftext|>a<|pad|>b<|endoftext|>",
        "Ġ is not a space; \u0000 and \u00ad are bytes too", "",
    ];

    [Fact]
    public void Gpt2_uses_gpt2s_own_vocabulary()
    {
        var tok = new Gpt2Tokenizer();
        Assert.Equal([15496, 995], tok.Encode("Hello world"));
        Assert.Equal([50256], tok.Encode("<|endoftext|>"));
        Assert.Equal("Hello world<|endoftext|>", tok.Decode([15496, 995, 50256]));
        Assert.Equal("Hello world", tok.Decode([15496, 995, 50256], skipSpecialTokens: true));
        Assert.Equal(50257, tok.VocabSize);
    }

    [Fact]
    public void Byte_tokenizer_ids_are_the_utf8_bytes_plus_two_specials()
    {
        var tok = new ByteTokenizer();
        Assert.Equal([0xC3, 0xAF, 256, 257, (int)'a'], tok.Encode("ï<|endoftext|><|pad|>a"));
        Assert.Equal("ï<|endoftext|><|pad|>a", tok.Decode([0xC3, 0xAF, 256, 257, 'a']));
        Assert.Equal("ïa", tok.Decode([0xC3, 0xAF, 256, 257, 'a'], skipSpecialTokens: true));
        Assert.Equal((258, 256, 256, 257), (tok.VocabSize, tok.BosId, tok.EosId, tok.PadId));
    }

    [Fact]
    public void Saved_byte_tokenizer_loads_back_as_an_identical_hf_tokenizer()
    {
        using var tmp = new TempDir();
        var bytes = new ByteTokenizer();
        bytes.Save(tmp.Path);
        var hf = HfTokenizer.Load(tmp.Path);
        Assert.Equal((bytes.VocabSize, bytes.BosId, bytes.EosId, bytes.PadId), (hf.VocabSize, hf.BosId, hf.EosId, hf.PadId));
        foreach (var text in Texts)
        {
            var ids = bytes.Encode(text);
            Assert.Equal(ids, hf.Encode(text));
            Assert.Equal(text, hf.Decode(ids));
            Assert.Equal(bytes.Decode(ids, skipSpecialTokens: true), hf.Decode(ids, skipSpecialTokens: true));
        }
        // A reply cut mid-character: both replace the broken bytes the same way (U+FFFD).
        int[] broken = [0xE6, 0x97, 'a'];
        Assert.Equal("\uFFFDa", bytes.Decode(broken));
        Assert.Equal(bytes.Decode(broken), hf.Decode(broken));
        Assert.IsType<DefaultChatFormat>(ChatFormats.FromTokenizerConfig(tmp.Path));
        Assert.IsType<ByteTokenizer>(TokenizerLoader.FromFolder(tmp.Path));
    }

    [Fact]
    public void Loader_picks_the_implementation_and_names_a_folder_without_tokenizer_json()
    {
        Assert.IsType<HfTokenizer>(TokenizerLoader.FromFolder(SharedPaths.Fixture("qwen2-tiny")));
        Assert.IsType<Gpt2Tokenizer>(TokenizerLoader.Load("gpt2"));
        Assert.IsType<ByteTokenizer>(TokenizerLoader.Load("bytes"));
        using var empty = new TempDir();
        var e = Assert.Throws<UserError>(() => TokenizerLoader.FromFolder(empty.Path));
        Assert.Contains(empty.Path, e.Message);
        Assert.Contains("tokenizer.json", e.Message);
        Assert.Throws<UserError>(() => TokenizerLoader.FromFolder(empty.File("missing")));
    }
}
