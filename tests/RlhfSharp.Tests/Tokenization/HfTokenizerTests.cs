using System.Text.Json.Nodes;
using RlhfSharp.Tests.Infrastructure;
using RlhfSharp.Tokenization;
using Xunit;

namespace RlhfSharp.Tests.Tokenization;

public class HfTokenizerTests
{
    static readonly string Dir = SharedPaths.Fixture("tokenizer-bytelevel-bpe");
    static JsonObject Expected() => JsonNode.Parse(File.ReadAllText(Path.Combine(Dir, "expected.json")))!.AsObject();
    static JsonObject TokenizerJson() => JsonNode.Parse(File.ReadAllText(Path.Combine(Dir, "tokenizer.json")))!.AsObject();

    public static TheoryData<int> Cases() => new(Enumerable.Range(0, Expected()["cases"]!.AsArray().Count));

    [Theory, MemberData(nameof(Cases))]
    public void Reproduces_transformers_ids_and_decoded_text(int i)
    {
        var c = Expected()["cases"]![i]!;
        var tok = HfTokenizer.Load(Dir);
        var ids = tok.Encode((string)c["text"]!);
        Assert.Equal(c["ids"]!.AsArray().Select(x => (int)x!), ids);
        Assert.Equal((string)c["decoded"]!, tok.Decode(ids));
    }

    [Fact]
    public void Vocab_size_and_special_ids_from_tokenizer_config()
    {
        Assert.Equal((int)Expected()["vocab_size"]!, HfTokenizer.Load(Dir).VocabSize);
        var tok = HfTokenizer.Load(SharedPaths.Fixture("gpt2-tiny"));
        Assert.Equal((0, 0, 1), (tok.BosId, tok.EosId, tok.PadId));
        Assert.Equal("<|pad|>", tok.PadToken);
        Assert.Null(HfTokenizer.Load(Dir).EosId); // this folder has no tokenizer_config.json
    }

    [Fact]
    public void Skip_special_tokens_drops_them_and_unknown_ids_are_dropped()
    {
        var tok = HfTokenizer.Load(Dir);
        var ids = tok.Encode("<|endoftext|>Hello world<|pad|>");
        Assert.Equal([0, 41, 303, 436, 1], ids);
        Assert.Equal("Hello world", tok.Decode(ids, skipSpecialTokens: true));
        Assert.Equal("Hello world", tok.Decode([41, 303, 436, 510, 511])); // model rows beyond the tokenizer
    }

    static HfTokenizer LoadVariant(TempDir tmp, Action<JsonObject> edit, JsonObject? config = null)
    {
        var json = TokenizerJson();
        edit(json);
        File.WriteAllText(tmp.File("tokenizer.json"), json.ToJsonString());
        if (config is not null) File.WriteAllText(tmp.File("tokenizer_config.json"), config.ToJsonString());
        return HfTokenizer.Load(tmp.Path);
    }

    [Fact]
    public void Merges_in_string_form_and_an_explicit_split_regex_give_the_same_ids()
    {
        using var tmp = new TempDir();
        var tok = LoadVariant(tmp, j =>
        {
            var merges = j["model"]!["merges"]!.AsArray().Select(m => (JsonNode)$"{m![0]} {m[1]}").ToArray();
            j["model"]!["merges"] = new JsonArray(merges);
            // Llama-3 / Qwen2 layout: a Split regex, then ByteLevel without its own regex.
            j["pre_tokenizer"] = JsonNode.Parse("""
                {"type":"Sequence","pretokenizers":[
                  {"type":"Split","pattern":{"Regex":"'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"},"behavior":"Isolated","invert":false},
                  {"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":false}]}
                """);
        });
        foreach (var c in Expected()["cases"]!.AsArray())
            Assert.Equal(c!["ids"]!.AsArray().Select(x => (int)x!), tok.Encode((string)c["text"]!));
    }

    [Fact]
    public void Split_regex_decides_the_words()
    {
        // Splitting every character apart forbids all merges: one id per byte.
        using var tmp = new TempDir();
        var tok = LoadVariant(tmp, j => j["pre_tokenizer"] = JsonNode.Parse("""
            {"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"Regex":"."},"behavior":"Isolated","invert":false},
             {"type":"ByteLevel","add_prefix_space":false,"use_regex":false}]}
            """));
        Assert.Equal(11, tok.Encode("Hello world").Count);
    }

    [Fact]
    public void Byte_level_add_prefix_space_adds_a_space_before_each_text_piece()
    {
        using var tmp = new TempDir();
        var tok = LoadVariant(tmp, j => j["pre_tokenizer"]!["add_prefix_space"] = true);
        var plain = HfTokenizer.Load(Dir);
        Assert.Equal(plain.Encode(" world"), tok.Encode("world"));
        Assert.Equal(plain.Encode(" world"), tok.Encode(" world"));
        Assert.NotEqual(plain.Encode("world"), tok.Encode("world"));
    }

    [Fact]
    public void Template_post_processor_adds_bos_only_when_asked()
    {
        using var tmp = new TempDir();
        var tok = LoadVariant(tmp, j => j["post_processor"] = JsonNode.Parse("""
            {"type":"Sequence","processors":[{"type":"ByteLevel","add_prefix_space":true,"trim_offsets":false,"use_regex":true},
             {"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<|endoftext|>","type_id":0}},{"Sequence":{"id":"A","type_id":0}}],
              "pair":[],"special_tokens":{"<|endoftext|>":{"id":"<|endoftext|>","ids":[0],"tokens":["<|endoftext|>"]}}}]}
            """));
        Assert.Equal([41, 303, 436], tok.Encode("Hello world"));
        Assert.Equal([0, 41, 303, 436], tok.Encode("Hello world", addSpecialTokens: true));
    }

    [Fact]
    public void Special_tokens_may_be_AddedToken_objects_in_tokenizer_config()
    {
        using var tmp = new TempDir();
        var tok = LoadVariant(tmp, _ => { }, JsonNode.Parse("""{"eos_token":{"content":"<|endoftext|>","special":true},"pad_token":"<|pad|>"}""")!.AsObject());
        Assert.Equal((0, 1), (tok.EosId, tok.PadId));
        using var bad = new TempDir();
        var e = Assert.Throws<UserError>(() => LoadVariant(bad, _ => { }, JsonNode.Parse("""{"eos_token":"</s>"}""")!.AsObject()));
        Assert.Contains("tokenizer_config.json", e.Message);
        Assert.Contains("eos_token", e.Message);
    }

    [Theory]
    [InlineData("""{"type":"WordPiece","vocab":{"a":0}}""", null, "WordPiece")]
    [InlineData("""{"type":"Unigram","vocab":[["a",0.0]]}""", null, "Unigram")]
    [InlineData(null, """{"type":"Metaspace","replacement":"▁","prepend_scheme":"first","split":false}""", "Metaspace")]
    public void Unsupported_tokenizer_types_are_user_errors_naming_file_and_type(string? model, string? preTokenizer, string type)
    {
        using var tmp = new TempDir();
        var e = Assert.Throws<UserError>(() => LoadVariant(tmp, j =>
        {
            if (model is not null) j["model"] = JsonNode.Parse(model);
            if (preTokenizer is not null) { j["pre_tokenizer"] = JsonNode.Parse(preTokenizer); j["decoder"] = null; }
        }));
        Assert.Contains(tmp.File("tokenizer.json"), e.Message);
        Assert.Contains(type, e.Message);
    }
}
