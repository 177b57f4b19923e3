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

    static TransformerConfig Gpt2(Reader reader, TransformerConfig config)
    {
        var act = reader.Str("activation_function") ?? "gelu_new";
        if (act is not ("gelu_new" or "gelu_pytorch_tanh"))
            throw new UserError($"{reader.Source}: activation_function '{act}' is not supported (gelu_new only)");
        if (reader.Bool("scale_attn_by_inverse_layer_idx") == true || reader.Bool("reorder_and_upcast_attn") == true || reader.Bool("scale_attn_weights") == false)
            throw new UserError($"{reader.Source}: GPT-2 attention variants (scale_attn_by_inverse_layer_idx, reorder_and_upcast_attn, scale_attn_weights=false) are not supported");
        int dim = reader.Int("n_embd") ?? throw reader.Missing("n_embd"), heads = reader.Int("n_head") ?? throw reader.Missing("n_head");
        return config with
        {
            HiddenSize = dim, NumLayers = reader.Int("n_layer") ?? throw reader.Missing("n_layer"), NumHeads = heads, NumKvHeads = heads,
            HeadDim = dim / heads, IntermediateSize = reader.Int("n_inner") ?? 4 * dim, MaxPositions = reader.Int("n_positions") ?? 1024,
            NormEps = reader.Dbl("layer_norm_epsilon") ?? 1e-5, TieWordEmbeddings = reader.Bool("tie_word_embeddings") ?? true,
            AttentionBias = true, AttentionOutputBias = true, MlpBias = true,
        };
    }

    static TransformerConfig LlamaFamily(Reader reader, JsonObject fields, TransformerConfig config, string type)
    {
        var act = reader.Str("hidden_act") ?? "silu";
        if (act != "silu") throw new UserError($"{reader.Source}: hidden_act '{act}' is not supported (silu only)");
        int dim = reader.Int("hidden_size") ?? throw reader.Missing("hidden_size"), heads = reader.Int("num_attention_heads") ?? throw reader.Missing("num_attention_heads");
        // Rope: transformers 5 nests everything in rope_parameters; older configs have rope_theta + rope_scaling.
        var rope = fields["rope_parameters"] as JsonObject ?? fields["rope_scaling"] as JsonObject;
        var rr = rope is null ? null : new Reader(rope, reader.Source);
        var theta = rr?.Dbl("rope_theta") ?? reader.Dbl("rope_theta") ?? 10000.0;
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
            _ => throw new UserError($"{reader.Source}: rope_type '{ropeType}' is not supported (default, llama3)"),
        };
        int? window = type switch
        {
            "mistral" => reader.Int("sliding_window"),
            "qwen2" when reader.Bool("use_sliding_window") == true =>
                throw new UserError($"{reader.Source}: use_sliding_window=true is not supported for qwen2"),
            _ => null,
        };
        bool attnBias = type == "qwen2" || (reader.Bool("attention_bias") ?? false);
        return config with
        {
            HiddenSize = dim, NumLayers = reader.Int("num_hidden_layers") ?? throw reader.Missing("num_hidden_layers"), NumHeads = heads,
            NumKvHeads = reader.Int("num_key_value_heads") ?? heads, HeadDim = reader.Int("head_dim") ?? dim / heads,
            IntermediateSize = reader.Int("intermediate_size") ?? throw reader.Missing("intermediate_size"),
            MaxPositions = reader.Int("max_position_embeddings") ?? 2048, NormEps = reader.Dbl("rms_norm_eps") ?? 1e-6,
            RopeTheta = theta, RopeScaling = scaling, SlidingWindow = window,
            TieWordEmbeddings = reader.Bool("tie_word_embeddings") ?? false,
            AttentionBias = attnBias, AttentionOutputBias = type == "llama" && attnBias, MlpBias = reader.Bool("mlp_bias") ?? false,
        };
    }

    /// <summary>config.json text in the transformers-5 layout.</summary>
    public static string ToJson(TransformerConfig config)
    {
        var o = new JsonObject { ["architectures"] = new JsonArray(config.Architectures.Select(a => (JsonNode)a).ToArray()) };
        if (config.IsGpt2)
        {
            o["activation_function"] = "gelu_new";
            o["layer_norm_epsilon"] = config.NormEps;
            o["n_embd"] = config.HiddenSize; o["n_head"] = config.NumHeads; o["n_inner"] = config.IntermediateSize;
            o["n_layer"] = config.NumLayers; o["n_positions"] = config.MaxPositions;
            // Dropout is off in this implementation (RLHF recipes disable it); say so to transformers too.
            o["attn_pdrop"] = 0.0; o["embd_pdrop"] = 0.0; o["resid_pdrop"] = 0.0;
        }
        else
        {
            if (config.ModelType == "llama") { o["attention_bias"] = config.AttentionBias; o["mlp_bias"] = config.MlpBias; }
            o["attention_dropout"] = 0.0;
            o["head_dim"] = config.HeadDim; o["hidden_act"] = "silu"; o["hidden_size"] = config.HiddenSize;
            o["intermediate_size"] = config.IntermediateSize; o["max_position_embeddings"] = config.MaxPositions;
            o["num_attention_heads"] = config.NumHeads; o["num_hidden_layers"] = config.NumLayers; o["num_key_value_heads"] = config.NumKvHeads;
            o["rms_norm_eps"] = config.NormEps;
            var rope = new JsonObject { ["rope_theta"] = config.RopeTheta, ["rope_type"] = config.RopeScaling?.RopeType ?? "default" };
            if (config.RopeScaling is { } s)
            {
                rope["factor"] = s.Factor; rope["low_freq_factor"] = s.LowFreqFactor; rope["high_freq_factor"] = s.HighFreqFactor;
                rope["original_max_position_embeddings"] = s.OriginalMaxPositions;
            }
            o["rope_parameters"] = rope;
            if (config.ModelType == "mistral") o["sliding_window"] = config.SlidingWindow;
            if (config.ModelType == "qwen2") { o["use_sliding_window"] = false; o["sliding_window"] = null; }
        }
        if (config.NumLabels is { } n)
        {
            o["id2label"] = new JsonObject(Enumerable.Range(0, n).Select(i => KeyValuePair.Create(i.ToString(), (JsonNode?)$"LABEL_{i}")));
            o["label2id"] = new JsonObject(Enumerable.Range(0, n).Select(i => KeyValuePair.Create($"LABEL_{i}", (JsonNode?)i)));
        }
        o["bos_token_id"] = config.BosTokenId; o["eos_token_id"] = config.EosTokenId; o["pad_token_id"] = config.PadTokenId;
        o["dtype"] = config.Dtype; o["model_type"] = config.ModelType; o["tie_word_embeddings"] = config.TieWordEmbeddings;
        o["use_cache"] = true; o["vocab_size"] = config.VocabSize;
        return o.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>Typed, null-tolerant reads whose errors name the file and key.</summary>
    sealed class Reader(JsonObject fields, string source)
    {
        public string Source => source;
        public UserError Missing(string key) => new($"{source}: missing '{key}'");

        T? Get<T>(string key) where T : struct
        {
            if (fields[key] is not JsonValue v) return null;
            if (v.GetValueKind() == JsonValueKind.Null) return null;
            try { return typeof(T) == typeof(int) ? (T)(object)checked((int)v.GetValue<double>()) : v.GetValue<T>(); }
            catch (Exception e) when (e is InvalidOperationException or FormatException or OverflowException)
            { throw new UserError($"{source}: '{key}' has the wrong type ({v.ToJsonString()})"); }
        }
        public int? Int(string key) => Get<int>(key);
        public double? Dbl(string key) => Get<double>(key);
        public bool? Bool(string key) => Get<bool>(key);
        public string? Str(string key) => fields[key] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
        /// <summary>eos_token_id may be a list (Llama 3 instruct); the first is the model's own end token.</summary>
        public int? FirstInt(string key) => fields[key] is JsonArray a ? (a.Count > 0 ? a[0]!.GetValue<int>() : null) : Int(key);
    }
}
