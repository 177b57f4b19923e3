using System.Text.Json;
using System.Text.Json.Nodes;

namespace RlhfSharp.Tokenization;

/// <summary>
/// Writes an HF byte-level BPE tokenizer folder (tokenizer.json + tokenizer_config.json) in the layout that both
/// <see cref="HfTokenizer"/> and transformers load. Ids: 0..255 the byte alphabet, 256 <c>&lt;|endoftext|&gt;</c>
/// (BOS and EOS), 257 <c>&lt;|pad|&gt;</c>, then one id per merged token in merge order. With no merges this is
/// exactly the <see cref="ByteTokenizer"/>.
/// </summary>
public static class ByteLevelBpeFiles
{
    static readonly AddedToken[] Specials =
        [new(ByteTokenizer.EndOfTextId, ByteTokenizer.EndOfTextToken, true), new(ByteTokenizer.PadTokenId, ByteTokenizer.PadToken, true)];

    /// <summary>Writes tokenizer.json and tokenizer_config.json (with <see cref="DefaultChatFormat.JinjaTemplate"/>) into <paramref name="dir"/>, creating it.</summary>
    /// <param name="dir">the folder to write.</param>
    /// <param name="mergedTokens">tokens (in byte-level characters) created by <paramref name="merges"/>, in order.</param>
    /// <param name="merges">the BPE merges (left, right), in order.</param>
    public static void Write(string dir, IReadOnlyList<string> mergedTokens, IReadOnlyList<(string Left, string Right)> merges)
    {
        Directory.CreateDirectory(dir);
        var vocab = new JsonObject();
        for (int b = 0; b < 256; b++) vocab[ByteLevelAlphabet.ByteToChar[b].ToString()] = b;
        foreach (var t in Specials) vocab[t.Content] = t.Id;
        for (int i = 0; i < mergedTokens.Count; i++) vocab[mergedTokens[i]] = 258 + i;
        var byteLevel = (bool prefix, bool trim) => new JsonObject
            { ["type"] = "ByteLevel", ["add_prefix_space"] = prefix, ["trim_offsets"] = trim, ["use_regex"] = true };
        var tokenizer = new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = new JsonArray(Specials.Select(t => (JsonNode)new JsonObject
            {
                ["id"] = t.Id, ["content"] = t.Content, ["single_word"] = false, ["lstrip"] = false,
                ["rstrip"] = false, ["normalized"] = false, ["special"] = true,
            }).ToArray()),
            ["normalizer"] = null,
            ["pre_tokenizer"] = byteLevel(false, true),
            ["post_processor"] = byteLevel(true, false),
            ["decoder"] = byteLevel(true, true),
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = null, ["continuing_subword_prefix"] = null,
                ["end_of_word_suffix"] = null, ["fuse_unk"] = false, ["byte_fallback"] = false, ["ignore_merges"] = false,
                ["vocab"] = vocab, ["merges"] = new JsonArray(merges.Select(m => (JsonNode)new JsonArray(m.Left, m.Right)).ToArray()),
            },
        };
        var config = new JsonObject
        {
            ["tokenizer_class"] = "PreTrainedTokenizerFast",
            ["bos_token"] = ByteTokenizer.EndOfTextToken,
            ["eos_token"] = ByteTokenizer.EndOfTextToken,
            ["pad_token"] = ByteTokenizer.PadToken,
            ["clean_up_tokenization_spaces"] = false,
            ["model_max_length"] = 1_000_000_000_000_000L,
            ["chat_template"] = DefaultChatFormat.JinjaTemplate,
        };
        var options = new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        File.WriteAllText(Path.Combine(dir, TokenizerConfigFile.TokenizerJson), tokenizer.ToJsonString(options));
        File.WriteAllText(Path.Combine(dir, TokenizerConfigFile.ConfigJson), config.ToJsonString(options));
    }
}
