using System.Text.Json;
using System.Text.Json.Nodes;
using RlhfSharp.Models;
using RlhfSharp.Tokenization;

namespace RlhfSharp.Checkpoints;

/// <summary>
/// A model config.json written by hand to train from scratch: read strictly (an unknown key is a typo and an error
/// naming it), with the special-token ids the file leaves out taken from the tokenizer.
/// </summary>
public static class ScratchConfigFile
{
    // Keys a from-scratch config.json may carry: what the loader reads and what transformers writes alongside.
    static readonly HashSet<string> KnownKeys =
    [
        "model_type", "architectures", "vocab_size", "n_embd", "n_layer", "n_head", "n_inner", "n_positions", "n_ctx",
        "hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads", "head_dim", "intermediate_size",
        "max_position_embeddings", "layer_norm_epsilon", "rms_norm_eps", "rope_theta", "rope_scaling", "rope_parameters",
        "tie_word_embeddings", "attention_bias", "mlp_bias", "activation_function", "hidden_act", "bos_token_id",
        "eos_token_id", "pad_token_id", "dtype", "torch_dtype", "sliding_window", "use_sliding_window", "max_window_layers",
        "attn_pdrop", "embd_pdrop", "resid_pdrop", "attention_dropout", "initializer_range", "use_cache",
        "transformers_version", "id2label", "label2id", "num_labels", "scale_attn_weights", "scale_attn_by_inverse_layer_idx",
        "reorder_and_upcast_attn", "summary_type", "summary_use_proj", "summary_activation", "summary_proj_to_labels",
        "summary_first_dropout", "task_specific_params", "pretraining_tp",
    ];

    /// <summary>Reads <paramref name="path"/> strictly (JSON comments allowed; keys starting with <c>_</c> are ignored) and completes it with <see cref="WithTokenizer"/>.</summary>
    public static TransformerConfig Read(string path, ITextTokenizer tokenizer)
    {
        if (!File.Exists(path)) throw new UserError($"{path}: model config file not found");
        var text = File.ReadAllText(path);
        JsonNode? root;
        try { root = JsonNode.Parse(text, documentOptions: new() { CommentHandling = JsonCommentHandling.Skip }); }
        catch (JsonException e) { throw new UserError($"{path}: not valid JSON ({e.Message.Split('\n')[0]})"); }
        if (root is JsonObject keys)
            foreach (var (key, _) in keys)
                if (!KnownKeys.Contains(key) && !key.StartsWith('_'))
                    throw new UserError($"{path}: unknown key '{key}'");
        return WithTokenizer(TransformerConfigJson.Parse(text, path), tokenizer, path);
    }

    /// <summary>Checks the vocabulary fits the tokenizer and fills the special-token ids the config leaves out.</summary>
    public static TransformerConfig WithTokenizer(TransformerConfig config, ITextTokenizer tokenizer, string source)
    {
        if (config.VocabSize < tokenizer.VocabSize)
            throw new UserError($"{source}: vocab_size {config.VocabSize} is smaller than the tokenizer's {tokenizer.VocabSize} tokens");
        return config with
        {
            BosTokenId = config.BosTokenId ?? tokenizer.BosId,
            EosTokenId = config.EosTokenId ?? tokenizer.EosId,
            PadTokenId = config.PadTokenId ?? tokenizer.PadId,
        };
    }
}
