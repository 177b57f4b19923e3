namespace RlhfSharp.Models;

/// <summary>Llama-3 style RoPE frequency scaling (HF <c>rope_type: "llama3"</c>).</summary>
public sealed record RopeScaling
{
    /// <summary>HF <c>rope_type</c>; always <c>"llama3"</c> here (plain RoPE is a null <see cref="TransformerConfig.RopeScaling"/>).</summary>
    public string RopeType { get; init; } = "llama3";
    /// <summary>HF <c>factor</c>: how much the low frequencies (long wavelengths) are divided by.</summary>
    public double Factor { get; init; } = 8.0;
    /// <summary>HF <c>low_freq_factor</c>: wavelengths above original_max_position_embeddings / this are scaled fully.</summary>
    public double LowFreqFactor { get; init; } = 1.0;
    /// <summary>HF <c>high_freq_factor</c>: wavelengths below original_max_position_embeddings / this are kept.</summary>
    public double HighFreqFactor { get; init; } = 4.0;
    /// <summary>HF <c>original_max_position_embeddings</c>: the context length the model was pretrained with.</summary>
    public int OriginalMaxPositions { get; init; } = 8192;
}

/// <summary>
/// Normalised view of an HF <c>config.json</c> for the GPT-2 and Llama families (llama, qwen2, mistral).
/// Binding is by hand in <see cref="TransformerConfigJson"/> rather than by <c>[JsonPropertyName]</c>: one property
/// has different HF names per family (<c>n_embd</c> vs <c>hidden_size</c>) and per transformers version
/// (<c>rope_parameters</c> vs <c>rope_theta</c> + <c>rope_scaling</c>).
/// </summary>
public sealed record TransformerConfig
{
    /// <summary>HF <c>model_type</c>: gpt2, llama, qwen2 or mistral.</summary>
    public string ModelType { get; init; } = "llama";       // gpt2 | llama | qwen2 | mistral
    /// <summary>Rows of the embedding and the LM head, V (HF <c>vocab_size</c>); may exceed the tokenizer's size.</summary>
    public int VocabSize { get; init; }
    /// <summary>Model width C (HF <c>hidden_size</c> / <c>n_embd</c>).</summary>
    public int HiddenSize { get; init; }                      // C
    /// <summary>Number of transformer layers (HF <c>num_hidden_layers</c> / <c>n_layer</c>).</summary>
    public int NumLayers { get; init; }
    /// <summary>Query heads H (HF <c>num_attention_heads</c> / <c>n_head</c>).</summary>
    public int NumHeads { get; init; }                        // H (query heads)
    /// <summary>Key/value heads Hkv (HF <c>num_key_value_heads</c>, default H); grouped-query attention when &lt; H.</summary>
    public int NumKvHeads { get; init; }                      // Hkv (GQA when < H)
    /// <summary>Per-head dimension D (HF <c>head_dim</c>, default C / H).</summary>
    public int HeadDim { get; init; }                         // D
    /// <summary>MLP width (HF <c>intermediate_size</c> / <c>n_inner</c>, GPT-2 default 4C).</summary>
    public int IntermediateSize { get; init; }                // MLP width
    /// <summary>Longest sequence the model takes (HF <c>max_position_embeddings</c> / <c>n_positions</c>).</summary>
    public int MaxPositions { get; init; }
    /// <summary>Epsilon of the LayerNorm / RMSNorm (HF <c>layer_norm_epsilon</c> / <c>rms_norm_eps</c>).</summary>
    public double NormEps { get; init; } = 1e-5;
    /// <summary>RoPE base theta (HF <c>rope_theta</c>, default 10000); unused by GPT-2.</summary>
    public double RopeTheta { get; init; } = 10000.0;
    /// <summary>Whether the LM head reuses the token embedding (HF <c>tie_word_embeddings</c>).</summary>
    public bool TieWordEmbeddings { get; init; }
    /// <summary>Bias on q/k/v projections (qwen2: always; llama: <c>attention_bias</c>).</summary>
    public bool AttentionBias { get; init; }
    /// <summary>Bias on o_proj (llama's <c>attention_bias</c> covers o_proj too; qwen2 never has one).</summary>
    public bool AttentionOutputBias { get; init; }
    /// <summary>Bias on gate/up/down projections (llama <c>mlp_bias</c>).</summary>
    public bool MlpBias { get; init; }
    /// <summary>HF <c>bos_token_id</c>, or null.</summary>
    public int? BosTokenId { get; init; }
    /// <summary>HF <c>eos_token_id</c> (the first one when config.json lists several), or null.</summary>
    public int? EosTokenId { get; init; }
    /// <summary>HF <c>pad_token_id</c>, or null; a sequence classifier without a mask scores the last non-pad token.</summary>
    public int? PadTokenId { get; init; }

    /// <summary>Llama-3 rope scaling, or null for plain RoPE.</summary>
    public RopeScaling? RopeScaling { get; init; }
    /// <summary>Mistral sliding-window attention span; null = full attention. Applied only where a sequence is longer.</summary>
    public int? SlidingWindow { get; init; }
    /// <summary>HF <c>architectures</c>, e.g. <c>LlamaForCausalLM</c> or <c>LlamaForSequenceClassification</c>.</summary>
    public string[] Architectures { get; init; } = [];
    /// <summary>Sequence-classification labels (1 for reward/value heads); null for causal LMs.</summary>
    public int? NumLabels { get; init; }
    /// <summary>dtype recorded on disk (<c>dtype</c> / <c>torch_dtype</c>): float32, bfloat16, float16.</summary>
    public string Dtype { get; init; } = "float32";

    /// <summary>True for the GPT-2 family (learned positions, Conv1D weights stored [in, out]).</summary>
    public bool IsGpt2 => ModelType == "gpt2";
    /// <summary>True when <see cref="Architectures"/> names a <c>*ForSequenceClassification</c> class (a reward or value head).</summary>
    public bool IsSequenceClassification => Architectures.Any(a => a.EndsWith("ForSequenceClassification"));

    /// <summary>HF class-name prefix: GPT2, Llama, Qwen2, Mistral.</summary>
    public string ArchitecturePrefix => ModelType switch
    {
        "gpt2" => "GPT2", "llama" => "Llama", "qwen2" => "Qwen2", "mistral" => "Mistral",
        _ => throw new UserError($"config: unknown model_type '{ModelType}' (supported: gpt2, llama, qwen2, mistral)"),
    };

    /// <summary>HF class name of the causal LM of this family, e.g. <c>GPT2LMHeadModel</c>, <c>LlamaForCausalLM</c>.</summary>
    public string CausalLMArchitecture => IsGpt2 ? "GPT2LMHeadModel" : ArchitecturePrefix + "ForCausalLM";
    /// <summary>HF class name of the scalar-head model of this family, e.g. <c>LlamaForSequenceClassification</c>.</summary>
    public string SequenceClassificationArchitecture => ArchitecturePrefix + "ForSequenceClassification";

    /// <summary>A GPT-2 shaped model from scratch (tied head, gelu_new MLP of width 4C).</summary>
    public static TransformerConfig SmallGpt2(int vocab, int layers, int dim, int heads, int ctx) => new()
    {
        ModelType = "gpt2", VocabSize = vocab, HiddenSize = dim, NumLayers = layers, NumHeads = heads, NumKvHeads = heads,
        HeadDim = dim / heads, IntermediateSize = 4 * dim, MaxPositions = ctx, NormEps = 1e-5, TieWordEmbeddings = true,
        AttentionBias = true, AttentionOutputBias = true, Architectures = ["GPT2LMHeadModel"],
    };

    /// <summary>A Llama shaped model from scratch. <paramref name="kvHeads"/> defaults to <paramref name="heads"/> (no GQA).</summary>
    public static TransformerConfig SmallLlama(int vocab, int layers, int dim, int heads, int ctx,
                                               int? kvHeads = null, int? intermediate = null, bool tied = false) => new()
    {
        ModelType = "llama", VocabSize = vocab, HiddenSize = dim, NumLayers = layers, NumHeads = heads,
        NumKvHeads = kvHeads ?? heads, HeadDim = dim / heads,
        // Llama's 2/3 * 4C rounded up to a multiple of 16 keeps SwiGLU's parameter count near a 4C GELU MLP.
        IntermediateSize = intermediate ?? (8 * dim / 3 + 15) / 16 * 16,
        MaxPositions = ctx, NormEps = 1e-5, TieWordEmbeddings = tied, Architectures = ["LlamaForCausalLM"],
    };

    /// <summary>Checks the sizes fit together; throws a one-line <see cref="UserError"/> naming <paramref name="source"/>.</summary>
    public TransformerConfig Validate(string source)
    {
        _ = ArchitecturePrefix;
        void Need(bool ok, string what) { if (!ok) throw new UserError($"{source}: {what}"); }
        Need(VocabSize > 0 && HiddenSize > 0 && NumLayers > 0 && NumHeads > 0, "vocab_size, hidden size, layers and heads must be positive");
        Need(NumKvHeads > 0 && NumHeads % NumKvHeads == 0, $"num_attention_heads {NumHeads} must be a multiple of num_key_value_heads {NumKvHeads}");
        Need(HeadDim > 0 && HeadDim % 2 == 0 || IsGpt2, $"head_dim {HeadDim} must be positive and even for RoPE");
        Need(!IsGpt2 || HiddenSize % NumHeads == 0, $"n_embd {HiddenSize} must be a multiple of n_head {NumHeads}");
        Need(MaxPositions > 0, "max_position_embeddings / n_positions must be positive");
        Need(!IsSequenceClassification || (NumLabels ?? 1) == 1,
             $"num_labels is {NumLabels}; only scalar heads (num_labels = 1) are supported");
        return this;
    }
}
