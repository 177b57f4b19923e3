using System.Text.Json;
using System.Text.Json.Nodes;
using RlhfSharp.Models;
using RlhfSharp.Tokenization;
using static TorchSharp.torch;

namespace RlhfSharp.Checkpoints;

/// <summary>
/// A Hugging Face model folder and every rule about it that more than one phase needs, each written once here: its
/// config, tokenizer and chat format; the ids that stop generation; the id that ends a response; the document
/// separator of packed pretraining text; the pad id; the context length; and loading its weights.
/// </summary>
public sealed class ModelFolder
{
    ModelFolder(string path, TransformerConfig config, ITextTokenizer tokenizer, IChatFormat chatFormat)
    {
        (Path, Config, Tokenizer, ChatFormat) = (path, config, tokenizer, chatFormat);
        ResponseEndId = FindResponseEnd();
        StopIds = FindStopIds();
        PadId = FindPadId();
    }

    /// <summary>The folder as given.</summary>
    public string Path { get; }
    /// <summary>The folder's validated config.json.</summary>
    public TransformerConfig Config { get; }
    /// <summary>The folder's tokenizer, or the one passed to <see cref="Open"/>.</summary>
    public ITextTokenizer Tokenizer { get; }
    /// <summary>The chat format the folder's chat template describes (<see cref="ChatFormats.FromTokenizerConfig"/>).</summary>
    public IChatFormat ChatFormat { get; }

    /// <summary>Longest sequence the model takes (its position table).</summary>
    public int ContextLength => Config.MaxPositions;

    /// <summary>
    /// The token that ends an assistant reply: the chat format's end of turn when it is one token (ChatML's
    /// &lt;|im_end|&gt;, Llama-3's &lt;|eot_id|&gt;), else the tokenizer's or config's EOS. PPO rollouts and labeling
    /// samples stop on it, the missing-EOS penalty watches it, and a reward model reads its score there
    /// (<see cref="ScoredConversation"/>).
    /// </summary>
    public int ResponseEndId { get; }

    /// <summary>
    /// Every id that ends generation: the response end, then generation_config.json's <c>eos_token_id</c> (a number or a
    /// list), else config.json's, else the tokenizer's EOS. The first is the primary one.
    /// </summary>
    public IReadOnlyList<int> StopIds { get; }

    /// <summary>A pad id that is never a stop id: the tokenizer's or config's pad when it is not one, else the smallest
    /// id that is not (pads are masked out of every mean, so any such id works; EOS is never padding).</summary>
    public int PadId { get; }

    /// <summary>The separator between packed pretraining documents: the tokenizer's EOS (&lt;|endoftext|&gt;), never the
    /// chat end of turn, which would teach a policy to end turns inside raw text. Null when the folder names no EOS.</summary>
    public int? DocumentSeparatorId => Tokenizer.EosId ?? Config.EosTokenId;

    /// <summary>
    /// Opens <paramref name="path"/>: config.json (errors name the folder or the file), its tokenizer (or
    /// <paramref name="tokenizer"/> for folders saved without tokenizer files, e.g. GPT-2's tiktoken) and its chat format.
    /// </summary>
    public static ModelFolder Open(string path, ITextTokenizer? tokenizer = null)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new UserError("a model folder is required");
        if (!Directory.Exists(path)) throw new UserError($"{path}: model folder not found");
        var config = HfFolder.ReadConfig(path);
        return new ModelFolder(path, config, tokenizer ?? TokenizerLoader.FromFolder(path), ChatFormats.FromTokenizerConfig(path));
    }

    /// <summary>The folder's causal LM (strict weight loading), on <paramref name="device"/>, optionally cast.</summary>
    public CausalLM LoadCausalLM(Device? device = null, ScalarType? dtype = null) => HfModelLoader.LoadCausalLM(Path, device, dtype);

    /// <summary>The folder's *ForSequenceClassification model (a reward or value model).</summary>
    public ScalarHeadModel LoadScalarHead(Device? device = null, ScalarType? dtype = null) => HfModelLoader.LoadScalarHead(Path, device, dtype);

    /// <summary>
    /// A reward model started from this causal LM: its trunk, and a fresh score head drawn from <paramref name="seed"/>
    /// (so the same seed gives the same head whichever front end asked for it).
    /// </summary>
    public ScalarHeadModel NewScalarHeadFromCausalLM(ulong seed, Device? device = null)
    {
        manual_seed((long)seed);
        return HfModelLoader.LoadScalarHeadFromCausalLM(Path, device);
    }

    /// <summary>"float32" (null: keep), "bfloat16"/"bf16" or "float16"/"fp16".</summary>
    public static ScalarType? ParseDtype(string name) => name.Trim().ToLowerInvariant() switch
    {
        "float32" or "fp32" => null,
        "bfloat16" or "bf16" => ScalarType.BFloat16,
        "float16" or "fp16" => ScalarType.Float16,
        _ => throw new UserError($"dtype must be float32, bfloat16 or float16, got '{name}'"),
    };

    /// <summary>The response-end rule for any chat format and tokenizer (<see cref="ScoredConversation.EndOfReplyId"/>),
    /// with the config's EOS as the last resort.</summary>
    public static int ResponseEnd(IChatFormat format, ITextTokenizer tokenizer, TransformerConfig config) =>
        ScoredConversation.EndOfReplyId(format, tokenizer, config.EosTokenId);

    int FindResponseEnd()
    {
        try { return ResponseEnd(ChatFormat, Tokenizer, Config); }
        catch (UserError e) { throw new UserError($"{Path}: {e.Message}", e); }
    }

    IReadOnlyList<int> FindStopIds()
    {
        var stops = new List<int> { ResponseEndId };
        foreach (var id in DeclaredEosIds())
            if (!stops.Contains(id)) stops.Add(id);
        return stops;
    }

    IEnumerable<int> DeclaredEosIds()
    {
        var path = System.IO.Path.Combine(Path, HfFolder.GenerationConfigFile);
        if (File.Exists(path))
        {
            JsonNode? node;
            try { node = JsonNode.Parse(File.ReadAllText(path))?["eos_token_id"]; }
            catch (JsonException e) { throw new UserError($"{path}: invalid JSON ({e.Message.Split('\n')[0]})"); }
            var ids = node switch
            {
                null => null,
                JsonArray list => list.Select(item => ReadId(item, path)).ToArray(),
                _ => [ReadId(node, path)],
            };
            if (ids is { Length: > 0 }) return ids;
        }
        if (Config.EosTokenId is int fromConfig) return [fromConfig];
        return Tokenizer.EosId is int fromTokenizer ? [fromTokenizer] : [];
    }

    int FindPadId()
    {
        foreach (var candidate in new[] { Tokenizer.PadId, Config.PadTokenId })
            if (candidate is int pad && !StopIds.Contains(pad)) return pad;
        int id = 0;
        while (StopIds.Contains(id)) id++;
        return id;
    }

    static int ReadId(JsonNode? node, string path) =>
        node is JsonValue value && value.TryGetValue<int>(out var id) ? id
            : throw new UserError($"{path}: eos_token_id must be a token id or a list of token ids");
}
