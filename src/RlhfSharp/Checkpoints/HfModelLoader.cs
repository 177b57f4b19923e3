using RlhfSharp.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Checkpoints;

/// <summary>
/// Loads HF model folders with strict key checking: every weight the architecture needs must be on disk with the
/// right shape, and nothing else may be (apart from tied heads and known non-persistent buffers).
/// Weights are converted to <c>dtype</c> (float32 by default, so bf16-on-disk checkpoints are upcast).
/// </summary>
public static class HfModelLoader
{
    /// <summary>A causal LM (GPT2LMHeadModel, LlamaForCausalLM, Qwen2ForCausalLM, MistralForCausalLM).</summary>
    public static CausalLM LoadCausalLM(string dir, Device? device = null, ScalarType? dtype = null)
    {
        var config = HfFolder.ReadConfig(dir);
        if (config.IsSequenceClassification)
            throw new UserError($"{Path.Combine(dir, HfFolder.ConfigFile)}: holds a {config.Architectures[0]} (scalar head), not a causal LM; load it with LoadScalarHead");
        var model = new CausalLM(config with { Architectures = [config.CausalLMArchitecture], NumLabels = null });
        // A tied head's lm_head.weight is a copy of the embedding when present on disk: ignored, as HF ties it.
        var ignore = config.TieWordEmbeddings ? new HashSet<string> { "lm_head.weight" } : [];
        return Finish(model, dir, ignore, allowMissing: [], device, dtype);
    }

    /// <summary>A scalar-head model saved as *ForSequenceClassification (num_labels = 1): a reward or value model,
    /// with its reward normalisation (<see cref="ScoreNormalizationFile"/>) when the folder has one.</summary>
    public static ScalarHeadModel LoadScalarHead(string dir, Device? device = null, ScalarType? dtype = null)
    {
        var config = HfFolder.ReadConfig(dir);
        if (!config.IsSequenceClassification)
            throw new UserError($"{Path.Combine(dir, HfFolder.ConfigFile)}: architectures [{string.Join(", ", config.Architectures)}] is not a *ForSequenceClassification model; use LoadScalarHeadFromCausalLM to start one from a causal LM");
        var model = Finish(new ScalarHeadModel(config), dir, [], allowMissing: [], device, dtype);
        model.Normalization = ScoreNormalizationFile.Read(dir);
        return model;
    }

    /// <summary>
    /// A scalar-head model whose backbone comes from a causal-LM folder (the reward model starts from the SFT
    /// model; PPO's value model from the reward model or the policy). The score head is fresh: N(0, 0.02) as HF
    /// initialises it. lm_head.weight is dropped. A folder that already is a scalar head loads as one, head included.
    /// </summary>
    public static ScalarHeadModel LoadScalarHeadFromCausalLM(string dir, Device? device = null, ScalarType? dtype = null)
    {
        var config = HfFolder.ReadConfig(dir);
        if (config.IsSequenceClassification) return LoadScalarHead(dir, device, dtype);
        var model = new ScalarHeadModel(config);
        using (torch.no_grad()) model.score.weight!.normal_(0, 0.02);
        return Finish(model, dir, ["lm_head.weight"], allowMissing: ["score.weight"], device, dtype);
    }

    /// <summary>Weights from <paramref name="dir"/> into an already built model (strict), e.g. to resume; a scalar head
    /// also takes the folder's normalisation (none if the folder has none), as it was saved.</summary>
    public static void LoadWeightsInto(HfModel model, string dir)
    {
        CopyStrict(model, dir, [], []);
        if (model is ScalarHeadModel head) head.Normalization = ScoreNormalizationFile.Read(dir);
    }

    static T Finish<T>(T model, string dir, HashSet<string> ignore, HashSet<string> allowMissing, Device? device, ScalarType? dtype)
        where T : HfModel
    {
        var target = dtype ?? ScalarType.Float32;
        if (target != ScalarType.Float32) model.to(target);
        CopyStrict(model, dir, ignore, allowMissing);
        model.Config = model.Config with { Dtype = HfFolder.DtypeName(target) };
        if (device is not null) model.to(device);
        model.eval();
        return model;
    }

    static void CopyStrict(HfModel model, string dir, HashSet<string> ignore, HashSet<string> allowMissing)
    {
        var disk = HfFolder.ReadWeights(dir);
        try
        {
            var expected = model.state_dict();
            var weightsName = File.Exists(Path.Combine(dir, HfFolder.IndexFile)) ? HfFolder.IndexFile : HfFolder.WeightsFile;
            var arch = model.Config.Architectures.FirstOrDefault() ?? model.Config.ModelType;
            foreach (var (key, param) in expected)
            {
                if (!disk.TryGetValue(key, out var d))
                {
                    if (allowMissing.Contains(key)) continue;
                    throw new UserError($"{Path.Combine(dir, weightsName)}: missing tensor '{key}' (needed by {arch})");
                }
                if (!d.Tensor.shape.SequenceEqual(param.shape))
                    throw new UserError($"{d.File}: tensor '{key}' has shape [{string.Join(",", d.Tensor.shape)}] but config.json implies [{string.Join(",", param.shape)}]");
            }
            foreach (var (key, d) in disk)
                if (!expected.ContainsKey(key) && !ignore.Contains(key) && !IsNonPersistentBuffer(key))
                    throw new UserError($"{d.File}: unexpected tensor '{key}' (not part of {arch})");

            using var _ = torch.no_grad();
            foreach (var (key, param) in expected)
                if (disk.TryGetValue(key, out var d)) param.copy_(d.Tensor);   // copy_ converts dtype (bf16 -> float32)
        }
        finally
        {
            foreach (var d in disk.Values) d.Tensor.Dispose();
        }
    }

    /// <summary>
    /// Buffers old checkpoints carry that are recomputed, not loaded: GPT-2's causal mask (attn.bias, attn.masked_bias)
    /// and RoPE's inv_freq. (A GPT-2 Conv1D bias is "attn.c_attn.bias", which this does not match.)
    /// </summary>
    public static bool IsNonPersistentBuffer(string key) =>
        key.EndsWith(".attn.bias") || key.EndsWith(".attn.masked_bias") || key.EndsWith("rotary_emb.inv_freq");
}
