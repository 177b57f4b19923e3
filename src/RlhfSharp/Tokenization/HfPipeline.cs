using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace RlhfSharp.Tokenization;

/// <summary>
/// The parts of a tokenizer.json around the BPE model that byte-level tokenizers use: the normalizer
/// (Unicode forms only), the pre-tokenizer (ByteLevel, optionally after a Split regex, as Llama-3 and Qwen2
/// write it) and the post-processor (tokens added around a sequence when special tokens are requested).
/// Anything else is refused with a <see cref="UserError"/> naming the file and the type, rather than
/// encoded differently from HF.
/// </summary>
internal sealed record HfPipeline(NormalizationForm? Normalization, Regex Split, bool AddPrefixSpace,
                                  IReadOnlyList<int> Prefix, IReadOnlyList<int> Suffix)
{
    /// <summary>GPT-2's split pattern, used by HF's ByteLevel pre-tokenizer when use_regex is true.</summary>
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    public static HfPipeline Parse(JsonObject root, string file)
    {
        var norm = ParseNormalizer(root["normalizer"], file);
        var (split, prefixSpace) = ParsePreTokenizer(root["pre_tokenizer"], file);
        var prefix = new List<int>();
        var suffix = new List<int>();
        ParsePostProcessor(root["post_processor"], file, prefix, suffix);
        return new HfPipeline(norm, split, prefixSpace, prefix, suffix);
    }

    static string TypeOf(JsonNode? node) => (string?)node?["type"] ?? "?";

    static NormalizationForm? ParseNormalizer(JsonNode? node, string file)
    {
        if (node is null) return null;
        var type = TypeOf(node);
        if (type == "Sequence")
        {
            var forms = (node["normalizers"] as JsonArray ?? []).Select(x => ParseNormalizer(x, file)).Where(f => f is not null).ToList();
            if (forms.Count > 1) throw new UserError($"{file}: normalizer Sequence with several Unicode forms is not supported");
            return forms.FirstOrDefault();
        }
        return type switch
        {
            "NFC" => NormalizationForm.FormC,
            "NFD" => NormalizationForm.FormD,
            "NFKC" => NormalizationForm.FormKC,
            "NFKD" => NormalizationForm.FormKD,
            _ => throw new UserError($"{file}: normalizer type '{type}' is not supported (byte-level BPE tokenizers use none or a Unicode form)"),
        };
    }

    static (Regex Split, bool AddPrefixSpace) ParsePreTokenizer(JsonNode? node, string file)
    {
        var steps = TypeOf(node) == "Sequence" ? (node!["pretokenizers"] as JsonArray ?? []).ToList() : [node];
        string? pattern = null;
        JsonNode? byteLevel = null;
        foreach (var step in steps)
        {
            switch (TypeOf(step))
            {
                case "ByteLevel": byteLevel = step; break;
                case "Split" when pattern is null:
                    // HF keeps both the matches and the text between them ("Isolated"); other behaviours merge pieces.
                    if ((string?)step!["behavior"] != "Isolated" || (bool?)step["invert"] == true)
                        throw new UserError($"{file}: pre_tokenizer Split with behavior '{step["behavior"]}' is not supported (only Isolated)");
                    pattern = (string?)step["pattern"]?["Regex"] ?? Regex.Escape((string?)step["pattern"]?["String"] ?? "");
                    break;
                case "Metaspace":
                    throw new UserError($"{file}: pre_tokenizer type 'Metaspace' (sentencepiece-style BPE) is not supported; only byte-level BPE is");
                default:
                    throw new UserError($"{file}: pre_tokenizer type '{TypeOf(step)}' is not supported; only byte-level BPE (ByteLevel, optionally after one Split) is");
            }
        }
        if (byteLevel is null)
            throw new UserError($"{file}: pre_tokenizer has no ByteLevel step; only byte-level BPE is supported");
        if (pattern is null && (bool?)byteLevel["use_regex"] != false) pattern = Gpt2Pattern;
        // use_regex false and no Split: the whole text is one word.
        pattern ??= @"[\s\S]+";
        Regex regex;
        try { regex = new Regex(pattern, RegexOptions.Compiled | RegexOptions.CultureInvariant); }
        catch (ArgumentException e) { throw new UserError($"{file}: pre_tokenizer Split regex is not valid in .NET ({e.Message})", e); }
        return (regex, (bool?)byteLevel["add_prefix_space"] == true);
    }

    static void ParsePostProcessor(JsonNode? node, string file, List<int> prefix, List<int> suffix)
    {
        switch (TypeOf(node))
        {
            case "?" when node is null: break;
            case "ByteLevel": break; // only adjusts offsets
            case "Sequence":
                foreach (var p in node!["processors"] as JsonArray ?? []) ParsePostProcessor(p, file, prefix, suffix);
                break;
            case "TemplateProcessing":
                // "single": [{"SpecialToken": {"id": "<s>"}}, {"Sequence": {"id": "A"}}, ...]; ids come from "special_tokens".
                bool seenSequence = false;
                foreach (var item in node!["single"] as JsonArray ?? [])
                {
                    if (item?["Sequence"] is not null) { seenSequence = true; continue; }
                    var name = (string?)item?["SpecialToken"]?["id"] ?? throw new UserError($"{file}: post_processor.single has an entry that is neither SpecialToken nor Sequence");
                    var ids = node["special_tokens"]?[name]?["ids"] as JsonArray
                              ?? throw new UserError($"{file}: post_processor.special_tokens has no entry '{name}'");
                    (seenSequence ? suffix : prefix).AddRange(ids.Select(i => (int)i!));
                }
                break;
            case "RobertaProcessing" or "BertProcessing":
                prefix.Add(PairId(node!["cls"], file, "cls"));
                suffix.Add(PairId(node["sep"], file, "sep"));
                break;
            default:
                throw new UserError($"{file}: post_processor type '{TypeOf(node)}' is not supported");
        }
    }

    // cls/sep are written as ["<s>", 0].
    static int PairId(JsonNode? pair, string file, string key) =>
        pair is JsonArray { Count: 2 } a ? (int)a[1]! : throw new UserError($"{file}: post_processor.{key} must be [token, id]");
}
