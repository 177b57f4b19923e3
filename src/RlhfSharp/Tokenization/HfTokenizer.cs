using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace RlhfSharp.Tokenization;

/// <summary>
/// A Hugging Face byte-level BPE tokenizer (GPT-2, Qwen2, Llama-3 style) loaded from <c>tokenizer.json</c>,
/// with BOS/EOS/PAD and the chat template from <c>tokenizer_config.json</c>. The BPE itself is
/// Microsoft.ML.Tokenizers'; this class reproduces HF's pipeline around it: added tokens are cut out first,
/// each remaining piece is normalised, optionally given a leading space, split by the pre-tokenizer regex and
/// BPE-encoded; decoding emits added tokens verbatim and unknown ids are dropped, as HF does.
/// </summary>
public sealed class HfTokenizer : ITextTokenizer
{
    readonly BpeTokenizer _bpe;
    readonly HfPipeline _pipeline;
    readonly AddedTokenSplitter _splitter;
    readonly Dictionary<int, AddedToken> _addedById;
    readonly Dictionary<string, int> _vocab;
    readonly Dictionary<int, string> _idToToken;

    /// <inheritdoc/>
    /// <remarks>One more than the largest id in the vocabulary or the added tokens.</remarks>
    public int VocabSize { get; }
    /// <inheritdoc/>
    public int? BosId { get; }
    /// <inheritdoc/>
    public int? EosId { get; }
    /// <inheritdoc/>
    public int? PadId { get; }
    /// <summary>tokenizer_config.json's <c>bos_token</c>, or null.</summary>
    public string? BosToken { get; }
    /// <summary>tokenizer_config.json's <c>eos_token</c>, or null.</summary>
    public string? EosToken { get; }
    /// <summary>tokenizer_config.json's <c>pad_token</c>, or null.</summary>
    public string? PadToken { get; }
    /// <summary>The Jinja chat template (chat_template.jinja or tokenizer_config.json), if any.</summary>
    public string? ChatTemplate { get; }
    /// <summary>tokenizer.json's <c>added_tokens</c>, cut out of the text before BPE.</summary>
    public IReadOnlyList<AddedToken> AddedTokens { get; }
    internal bool HasNoMerges { get; }

    /// <summary>Loads from a folder holding tokenizer.json (and optionally tokenizer_config.json), or from a tokenizer.json path.</summary>
    public static HfTokenizer Load(string path)
    {
        var file = Directory.Exists(path) ? Path.Combine(path, TokenizerConfigFile.TokenizerJson) : path;
        if (!File.Exists(file)) throw new UserError($"{file}: tokenizer file not found");
        return new HfTokenizer(file);
    }

    HfTokenizer(string file)
    {
        var root = TokenizerConfigFile.ReadObject(file);
        var model = root["model"] as JsonObject ?? throw new UserError($"{file}: key 'model' is missing");
        var type = (string?)model["type"] ?? (model["merges"] is not null ? "BPE" : "?");
        if (type != "BPE")
            throw new UserError($"{file}: model type '{type}' is not supported; only byte-level BPE is");
        if ((string?)root["decoder"]?["type"] is { } dec && dec != "ByteLevel")
            throw new UserError($"{file}: decoder type '{dec}' is not supported; only byte-level BPE (ByteLevel decoder) is");
        _pipeline = HfPipeline.Parse(root, file);

        _vocab = (model["vocab"] as JsonObject ?? throw new UserError($"{file}: key 'model.vocab' is missing"))
            .ToDictionary(kv => kv.Key, kv => (int)kv.Value!);
        _idToToken = _vocab.GroupBy(kv => kv.Value).ToDictionary(g => g.Key, g => g.First().Key);
        var merges = (model["merges"] as JsonArray ?? []).Select(m => m switch
        {
            JsonArray pair => $"{(string?)pair[0]} {(string?)pair[1]}", // newer ["a", "b"] form
            _ => (string)m!, // older "a b" form
        }).ToList();
        HasNoMerges = merges.Count == 0;
        _bpe = BpeTokenizer.Create(new BpeOptions(_vocab)
        {
            Merges = merges,
            ByteLevel = true,
            // We split words ourselves (HF's rules); the library must take each word whole. Without a
            // pre-tokenizer it would use its default one, which drops spaces.
            PreTokenizer = new RegexPreTokenizer(new Regex(@"[\s\S]+", RegexOptions.Compiled), null),
            UnknownToken = (string?)model["unk_token"],
            ContinuingSubwordPrefix = (string?)model["continuing_subword_prefix"],
            EndOfWordSuffix = (string?)model["end_of_word_suffix"],
        });

        AddedTokens = (root["added_tokens"] as JsonArray ?? []).Select(t => new AddedToken(
            (int)t!["id"]!, (string)t["content"]!, (bool?)t["special"] ?? false,
            (bool?)t["lstrip"] ?? false, (bool?)t["rstrip"] ?? false, (bool?)t["single_word"] ?? false)).ToList();
        _addedById = AddedTokens.GroupBy(t => t.Id).ToDictionary(g => g.Key, g => g.First());
        _splitter = new AddedTokenSplitter(AddedTokens);
        VocabSize = Math.Max(_vocab.Count == 0 ? 0 : _vocab.Values.Max() + 1, AddedTokens.Count == 0 ? 0 : AddedTokens.Max(t => t.Id) + 1);

        var dir = Path.GetDirectoryName(Path.GetFullPath(file))!;
        var configPath = Path.Combine(dir, TokenizerConfigFile.ConfigJson);
        var config = TokenizerConfigFile.ReadConfig(dir);
        (BosToken, BosId) = Special(config, "bos_token", configPath);
        (EosToken, EosId) = Special(config, "eos_token", configPath);
        (PadToken, PadId) = Special(config, "pad_token", configPath);
        ChatTemplate = TokenizerConfigFile.ReadChatTemplate(dir).Template;
    }

    (string?, int?) Special(JsonObject? config, string key, string configPath)
    {
        var token = TokenizerConfigFile.TokenString(config?[key], configPath, key);
        if (token is null) return (null, null);
        return (token, TokenToId(token) ?? throw new UserError($"{configPath}: {key} '{token}' is not in the tokenizer's vocabulary"));
    }

    /// <summary>The id of an added token or a vocabulary entry (byte-level characters), or null.</summary>
    public int? TokenToId(string token) =>
        AddedTokens.FirstOrDefault(t => t.Content == token) is { } a ? a.Id : _vocab.TryGetValue(token, out var id) ? id : null;

    /// <inheritdoc/>
    public IReadOnlyList<int> Encode(string text, bool addSpecialTokens = false)
    {
        var ids = new List<int>();
        if (addSpecialTokens) ids.AddRange(_pipeline.Prefix);
        foreach (var (piece, added) in _splitter.Split(text))
        {
            if (added is not null) { ids.Add(added.Id); continue; }
            var s = _pipeline.Normalization is { } form ? piece.Normalize(form) : piece;
            if (_pipeline.AddPrefixSpace && !s.StartsWith(' ')) s = " " + s;
            // HF's Split "Isolated": both the matches and the text between them are words.
            int pos = 0;
            for (var m = _pipeline.Split.Match(s); m.Success; m = m.NextMatch())
            {
                if (m.Index > pos) ids.AddRange(_bpe.EncodeToIds(s[pos..m.Index]));
                if (m.Length > 0) ids.AddRange(_bpe.EncodeToIds(m.Value));
                pos = m.Index + m.Length;
            }
            if (pos < s.Length) ids.AddRange(_bpe.EncodeToIds(s[pos..]));
        }
        if (addSpecialTokens) ids.AddRange(_pipeline.Suffix);
        return ids;
    }

    /// <inheritdoc/>
    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = false)
    {
        var sb = new StringBuilder();
        var run = new List<int>();
        void Flush() { if (run.Count > 0) { sb.Append(_bpe.Decode(run)); run.Clear(); } }
        foreach (var id in ids)
        {
            if (_addedById.TryGetValue(id, out var added))
            {
                if (skipSpecialTokens && added.Special) continue;
                Flush();
                // HF's ByteLevel decoder maps an added token through the byte alphabet when it can, else keeps it as is.
                sb.Append(ByteLevelAlphabet.TryToBytes(added.Content) is { } b ? Encoding.UTF8.GetString(b) : added.Content);
            }
            else if (_idToToken.ContainsKey(id)) run.Add(id);
            // ids beyond the vocabulary (models often pad their embedding rows) are dropped, as HF does.
        }
        Flush();
        return sb.ToString();
    }
}
