using System.Text.Json;
using System.Text.Json.Nodes;

namespace RlhfSharp.Models;

/// <summary>
/// Binds HF <c>config.json</c> text to <see cref="TransformerConfig"/> and writes it back.
/// Reads both layouts: transformers 5 (<c>rope_parameters{rope_type, rope_theta, ...}</c>, <c>dtype</c>) and older
/// (top-level <c>rope_theta</c>, <c>rope_scaling{rope_type | type, factor, ...}</c>, <c>torch_dtype</c>).
/// Writes the transformers-5 layout, which transformers 5 loads directly.
/// </summary>
public static class TransformerConfigJson
{
    static readonly string[] Supported = ["gpt2", "llama", "qwen2", "mistral"];

    /// <param name="json">config.json text.</param>
    /// <param name="source">what to name in errors (the file path).</param>
    public static TransformerConfig Parse(string json, string source)
    {
        JsonObject o;
        try { o = JsonNode.Parse(json) as JsonObject ?? throw new UserError($"{source}: expected a JSON object"); }
        catch (JsonException e) { throw new UserError($"{source}: invalid JSON ({e.Message.Split('\n')[0]})"); }
        var r = new Reader(o, source);
        var type = r.Str("model_type") ?? throw new UserError($"{source}: missing 'model_type'");
        if (!Supported.Contains(type))
            throw new UserError($"{source}: unknown model_type '{type}' (supported: {string.Join(", ", Supported)})");

        var archs = o["architectures"] is JsonArray a ? a.Select(x => x?.GetValue<string>() ?? "").ToArray() : [];
        int? numLabels = r.Int("num_labels") ?? (o["id2label"] is JsonObject l ? l.Count : null);
        var common = new TransformerConfig
        {
            ModelType = type, VocabSize = r.Int("vocab_size") ?? throw r.Missing("vocab_size"),
            BosTokenId = r.FirstInt("bos_token_id"), EosTokenId = r.FirstInt("eos_token_id"), PadTokenId = r.FirstInt("pad_token_id"),
            Architectures = archs, NumLabels = archs.Any(x => x.EndsWith("ForSequenceClassification")) ? numLabels ?? 1 : null,
            Dtype = r.Str("dtype") ?? r.Str("torch_dtype") ?? "float32",
        };
        return (type == "gpt2" ? Gpt2(r, common) : LlamaFamily(r, o, common, type)).Validate(source);
    }

    static TransformerConfig Gpt2(Reader r, TransformerConfig c)
    {
        var act = r.Str("activation_function") ?? "gelu_new";
        if (act is not ("gelu_new" or "gelu_pytorch_tanh"))
            throw new UserError($"{r.Source}: activation_function '{act}' is not supported (gelu_new only)");
        if (r.Bool("scale_attn_by_inverse_layer_idx") == true || r.Bool("reorder_and_upcast_attn") == true || r.Bool("scale_attn_weights") == false)
            throw new UserError($"{r.Source}: GPT-2 attention variants (scale_attn_by_inverse_layer_idx, reorder_and_upcast_attn, scale_attn_weights=false) are not supported");
        int dim = r.Int("n_embd") ?? throw r.Missing("n_embd"), heads = r.Int("n_head") ?? throw r.Missing("n_head");
        return c with
        {
            HiddenSize = dim, NumLayers = r.Int("n_layer") ?? throw r.Missing("n_layer"), NumHeads = heads, NumKvHeads = heads,
            HeadDim = dim / heads, IntermediateSize = r.Int("n_inner") ?? 4 * dim, MaxPositions = r.Int("n_positions") ?? 1024,
            NormEps = r.Dbl("layer_norm_epsilon") ?? 1e-5, TieWordEmbeddings = r.Bool("tie_word_embeddings") ?? true,
            AttentionBias = true, AttentionOutputBias = true, MlpBias = true,
        };
    }

    static TransformerConfig LlamaFamily(Reader r, JsonObject o, TransformerConfig c, string type)
    {
        var act = r.Str("hidden_act") ?? "silu";
        if (act != "silu") throw new UserError($"{r.Source}: hidden_act '{act}' is not supported (silu only)");
        int dim = r.Int("hidden_size") ?? throw r.Missing("hidden_size"), heads = r.Int("num_attention_heads") ?? throw r.Missing("num_attention_heads");
        // Rope: transformers 5 nests everything in rope_parameters; older configs have rope_theta + rope_scaling.
        var rope = o["rope_parameters"] as JsonObject ?? o["rope_scaling"] as JsonObject;
        var rr = rope is null ? null : new Reader(rope, r.Source);
        var theta = rr?.Dbl("rope_theta") ?? r.Dbl("rope_theta") ?? 10000.0;
        var ropeType = rr?.Str("rope_type") ?? rr?.Str("type") ?? "default";
        RopeScaling? scaling = ropeType switch
        {
            "default" => null,
            "llama3" => new RopeScaling
            {
                Factor = rr!.Dbl("factor") ?? throw rr.Missing("rope factor"), LowFreqFactor = rr.Dbl("low_freq_factor") ?? 1.0,
                HighFreqFactor = rr.Dbl("high_freq_factor") ?? 4.0,
                OriginalMaxPositions = rr.Int("original_max_position_embeddings") ?? throw rr.Missing("original_max_position_embeddings"),
            },
            _ => throw new UserError($"{r.Source}: rope_type '{ropeType}' is not supported (default, llama3)"),
        };
        int? window = type switch
        {
            "mistral" => r.Int("sliding_window"),
            "qwen2" when r.Bool("use_sliding_window") == true =>
                throw new UserError($"{r.Source}: use_sliding_window=true is not supported for qwen2"),
            _ => null,
        };
        bool attnBias = type == "qwen2" || (r.Bool("attention_bias") ?? false);
        return c with
        {
            HiddenSize = dim, NumLayers = r.Int("num_hidden_layers") ?? throw r.Missing("num_hidden_layers"), NumHeads = heads,
            NumKvHeads = r.Int("num_key_value_heads") ?? heads, HeadDim = r.Int("head_dim") ?? dim / heads,
            IntermediateSize = r.Int("intermediate_size") ?? throw r.Missing("intermediate_size"),
            MaxPositions = r.Int("max_position_embeddings") ?? 2048, NormEps = r.Dbl("rms_norm_eps") ?? 1e-6,
            RopeTheta = theta, RopeScaling = scaling, SlidingWindow = window,
            TieWordEmbeddings = r.Bool("tie_word_embeddings") ?? false,
            AttentionBias = attnBias, AttentionOutputBias = type == "llama" && attnBias, MlpBias = r.Bool("mlp_bias") ?? false,
        };
    }

    /// <summary>config.json text in the transformers-5 layout.</summary>
    public static string ToJson(TransformerConfig c)
    {
        var o = new JsonObject { ["architectures"] = new JsonArray(c.Architectures.Select(a => (JsonNode)a).ToArray()) };
        if (c.IsGpt2)
        {
            o["activation_function"] = "gelu_new";
            o["layer_norm_epsilon"] = c.NormEps;
            o["n_embd"] = c.HiddenSize; o["n_head"] = c.NumHeads; o["n_inner"] = c.IntermediateSize;
            o["n_layer"] = c.NumLayers; o["n_positions"] = c.MaxPositions;
            // Dropout is off in this implementation (RLHF recipes disable it); say so to transformers too.
            o["attn_pdrop"] = 0.0; o["embd_pdrop"] = 0.0; o["resid_pdrop"] = 0.0;
        }
        else
        {
            if (c.ModelType == "llama") { o["attention_bias"] = c.AttentionBias; o["mlp_bias"] = c.MlpBias; }
            o["attention_dropout"] = 0.0;
            o["head_dim"] = c.HeadDim; o["hidden_act"] = "silu"; o["hidden_size"] = c.HiddenSize;
            o["intermediate_size"] = c.IntermediateSize; o["max_position_embeddings"] = c.MaxPositions;
            o["num_attention_heads"] = c.NumHeads; o["num_hidden_layers"] = c.NumLayers; o["num_key_value_heads"] = c.NumKvHeads;
            o["rms_norm_eps"] = c.NormEps;
            var rope = new JsonObject { ["rope_theta"] = c.RopeTheta, ["rope_type"] = c.RopeScaling?.RopeType ?? "default" };
            if (c.RopeScaling is { } s)
            {
                rope["factor"] = s.Factor; rope["low_freq_factor"] = s.LowFreqFactor; rope["high_freq_factor"] = s.HighFreqFactor;
                rope["original_max_position_embeddings"] = s.OriginalMaxPositions;
            }
            o["rope_parameters"] = rope;
            if (c.ModelType == "mistral") o["sliding_window"] = c.SlidingWindow;
            if (c.ModelType == "qwen2") { o["use_sliding_window"] = false; o["sliding_window"] = null; }
        }
        if (c.NumLabels is { } n)
        {
            o["id2label"] = new JsonObject(Enumerable.Range(0, n).Select(i => KeyValuePair.Create(i.ToString(), (JsonNode?)$"LABEL_{i}")));
            o["label2id"] = new JsonObject(Enumerable.Range(0, n).Select(i => KeyValuePair.Create($"LABEL_{i}", (JsonNode?)i)));
        }
        o["bos_token_id"] = c.BosTokenId; o["eos_token_id"] = c.EosTokenId; o["pad_token_id"] = c.PadTokenId;
        o["dtype"] = c.Dtype; o["model_type"] = c.ModelType; o["tie_word_embeddings"] = c.TieWordEmbeddings;
        o["use_cache"] = true; o["vocab_size"] = c.VocabSize;
        return o.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>Typed, null-tolerant reads whose errors name the file and key.</summary>
    sealed class Reader(JsonObject o, string source)
    {
        public string Source => source;
        public UserError Missing(string key) => new($"{source}: missing '{key}'");

        T? Get<T>(string key) where T : struct
        {
            if (o[key] is not JsonValue v) return null;
            if (v.GetValueKind() == JsonValueKind.Null) return null;
            try { return typeof(T) == typeof(int) ? (T)(object)checked((int)v.GetValue<double>()) : v.GetValue<T>(); }
            catch (Exception e) when (e is InvalidOperationException or FormatException or OverflowException)
            { throw new UserError($"{source}: '{key}' has the wrong type ({v.ToJsonString()})"); }
        }
        public int? Int(string key) => Get<int>(key);
        public double? Dbl(string key) => Get<double>(key);
        public bool? Bool(string key) => Get<bool>(key);
        public string? Str(string key) => o[key] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
        /// <summary>eos_token_id may be a list (Llama 3 instruct); the first is the model's own end token.</summary>
        public int? FirstInt(string key) => o[key] is JsonArray a ? (a.Count > 0 ? a[0]!.GetValue<int>() : null) : Int(key);
    }
}
