using System.Text.Json;
using System.Text.Json.Nodes;
using RlhfSharp.Checkpoints;
using RlhfSharp.Models;
using RlhfSharp.Tokenization;

namespace RlhfSharp.Cli;

/// <summary>What the commands read from an HF model folder besides the weights: its tokenizer and its stop ids.</summary>
public static class ModelFolder
{
    /// <summary>The folder's config (errors name the folder or config.json), then its tokenizer.</summary>
    public static (TransformerConfig Config, ITextTokenizer Tokenizer) Open(string? dir, string option = "--model")
    {
        if (string.IsNullOrWhiteSpace(dir)) throw new UserError($"{option} is required (a Hugging Face model folder)");
        var config = HfFolder.ReadConfig(dir);
        return (config, TokenizerLoader.FromFolder(dir));
    }

    /// <summary>
    /// The ids that end a response: generation_config.json's <c>eos_token_id</c> (a number or a list) if present,
    /// else config.json's, else the tokenizer's EOS. The first is the primary EOS.
    /// </summary>
    public static int[] EosIds(string dir, TransformerConfig config, ITextTokenizer tokenizer)
    {
        var path = Path.Combine(dir, HfFolder.GenerationConfigFile);
        if (File.Exists(path))
        {
            JsonNode? node;
            try { node = JsonNode.Parse(File.ReadAllText(path))?["eos_token_id"]; }
            catch (JsonException e) { throw new UserError($"{path}: invalid JSON ({e.Message.Split('\n')[0]})"); }
            var ids = node switch
            {
                null => null,
                JsonArray a => a.Select(x => ReadId(x, path)).ToArray(),
                _ => [ReadId(node, path)],
            };
            if (ids is { Length: > 0 }) return ids;
        }
        if (config.EosTokenId is int fromConfig) return [fromConfig];
        return tokenizer.EosId is int t ? [t] : [];
    }

    /// <summary>A pad id that is never a stop id: the tokenizer's or config's pad when it is not one, else the
    /// smallest id that is not (pads are masked out, so any such id works).</summary>
    public static int PadId(TransformerConfig config, ITextTokenizer tokenizer, IReadOnlyCollection<int> stopIds)
    {
        foreach (var candidate in new[] { tokenizer.PadId, config.PadTokenId })
            if (candidate is int p && !stopIds.Contains(p)) return p;
        int id = 0;
        while (stopIds.Contains(id)) id++;
        return id;
    }

    static int ReadId(JsonNode? node, string path) =>
        node is JsonValue v && v.TryGetValue<int>(out var id) ? id
            : throw new UserError($"{path}: eos_token_id must be a token id or a list of token ids");
}
