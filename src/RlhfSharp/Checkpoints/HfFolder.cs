using System.Text.Json.Nodes;
using RlhfSharp.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Checkpoints;

/// <summary>The files of an HF model folder: config.json and the weights (single file or sharded with an index).</summary>
public static class HfFolder
{
    /// <summary>The model config (HF <c>config.json</c>).</summary>
    public const string ConfigFile = "config.json";
    /// <summary>Single-file weights.</summary>
    public const string WeightsFile = "model.safetensors";
    /// <summary>Index of sharded weights: tensor name -> shard file.</summary>
    public const string IndexFile = "model.safetensors.index.json";
    /// <summary>HF generation defaults; its <c>eos_token_id</c> (a number or a list) adds stop ids.</summary>
    public const string GenerationConfigFile = "generation_config.json";

    /// <summary>Tokenizer and chat-template files that travel with a checkpoint.</summary>
    public static readonly string[] TokenizerFiles =
    [
        "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.json", "merges.txt",
        "tokenizer.model", "added_tokens.json", "chat_template.jinja", "chat_template.json",
    ];

    /// <summary>Reads and validates <c>dir/config.json</c>; errors name the path.</summary>
    public static TransformerConfig ReadConfig(string dir)
    {
        if (!Directory.Exists(dir)) throw new UserError($"{dir}: model folder not found");
        var path = Path.Combine(dir, ConfigFile);
        if (!File.Exists(path)) throw new UserError($"{path}: config.json not found (not a Hugging Face model folder)");
        return TransformerConfigJson.Parse(File.ReadAllText(path), path);
    }

    /// <summary>A tensor read from disk and the file it came from (for error messages).</summary>
    public sealed record DiskTensor(Tensor Tensor, string File);

    /// <summary>
    /// Reads all weights: <c>model.safetensors.index.json</c> (shards) if present, else <c>model.safetensors</c>.
    /// Tensors are on the CPU in their on-disk dtype.
    /// </summary>
    public static Dictionary<string, DiskTensor> ReadWeights(string dir)
    {
        var index = Path.Combine(dir, IndexFile);
        var single = Path.Combine(dir, WeightsFile);
        var result = new Dictionary<string, DiskTensor>();
        if (File.Exists(index))
        {
            JsonObject map;
            try { map = JsonNode.Parse(File.ReadAllText(index))?["weight_map"] as JsonObject ?? throw new UserError($"{index}: missing 'weight_map'"); }
            catch (System.Text.Json.JsonException e) { throw new UserError($"{index}: invalid JSON ({e.Message.Split('\n')[0]})"); }
            var byFile = map.GroupBy(kv => kv.Value!.GetValue<string>(), kv => kv.Key);
            foreach (var group in byFile)
            {
                var shard = Path.Combine(dir, group.Key);
                if (!File.Exists(shard)) throw new UserError($"{shard}: shard named in {IndexFile} not found");
                foreach (var (name, t) in SafetensorsFile.Load(shard)) result[name] = new(t, shard);
                foreach (var name in group)
                    if (!result.ContainsKey(name)) throw new UserError($"{shard}: tensor '{name}' listed in {IndexFile} is not in the shard");
            }
            return result;
        }
        if (!File.Exists(single))
        {
            var hint = File.Exists(Path.Combine(dir, "pytorch_model.bin")) ? " (pytorch_model.bin is not supported: convert to safetensors)" : "";
            throw new UserError($"{single}: weights not found{hint}");
        }
        foreach (var (name, t) in SafetensorsFile.Load(single)) result[name] = new(t, single);
        return result;
    }

    /// <summary>HF's name for a dtype (config.json <c>dtype</c>).</summary>
    public static string DtypeName(ScalarType dtype) => dtype switch
    {
        ScalarType.Float32 => "float32", ScalarType.BFloat16 => "bfloat16", ScalarType.Float16 => "float16",
        ScalarType.Float64 => "float64", _ => dtype.ToString().ToLowerInvariant(),
    };
}
