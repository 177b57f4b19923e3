using RlhfSharp.Models;
using RlhfSharp.Models.Lora;
using static TorchSharp.torch;

namespace RlhfSharp.Checkpoints;

/// <summary>A base model folder plus a PEFT LoRA adapter folder: loaded together, or merged into a plain HF folder.</summary>
public static class AdapterMerge
{
    /// <summary>Whether the adapter belongs on a scalar head: task_type SEQ_CLS or a saved score head.</summary>
    public static bool IsScalarHead(AdapterConfig config) =>
        config.TaskType == "SEQ_CLS" || config.ModulesToSave.Contains("score");

    /// <summary>The causal LM of <paramref name="baseDir"/> with the adapter of <paramref name="adapterDir"/> attached (enabled).</summary>
    public static (CausalLM Model, LoraAdapters Adapters) LoadCausalLM(string baseDir, string adapterDir, Device? device = null, ScalarType? dtype = null)
    {
        var config = AdapterConfigFile.Read(adapterDir);
        if (IsScalarHead(config))
            throw new UserError($"{Path.Combine(adapterDir, AdapterConfigFile.Name)}: a SEQ_CLS (scalar-head) adapter; it does not apply to a causal LM");
        var model = HfModelLoader.LoadCausalLM(baseDir, device, dtype);
        try { return (model, AdapterFolder.Load(model, adapterDir)); }
        catch { model.Dispose(); throw; }
    }

    /// <summary>
    /// Loads the base and the adapter, folds the adapter into the weights (W = W0 + scaling B A) and writes a plain HF
    /// folder into <paramref name="outputDir"/> (config, weights, tokenizer files of the base, or of the adapter folder
    /// when the base has none). A SEQ_CLS adapter gives a *ForSequenceClassification folder; its score head must be in the
    /// adapter file unless the base already is a scalar head.
    /// </summary>
    public static void Merge(string baseDir, string adapterDir, string outputDir)
    {
        var config = AdapterConfigFile.Read(adapterDir);
        bool head = IsScalarHead(config);
        using HfModel model = head ? HfModelLoader.LoadScalarHeadFromCausalLM(baseDir) : HfModelLoader.LoadCausalLM(baseDir);
        if (head && !HfFolder.ReadConfig(baseDir).IsSequenceClassification
            && !SafetensorsFile.ReadHeader(Path.Combine(adapterDir, AdapterFolder.WeightsFile)).Any(e => e.Name == LoraAdapters.KeyPrefix + "score.weight"))
            throw new UserError($"{Path.Combine(adapterDir, AdapterFolder.WeightsFile)}: a SEQ_CLS adapter on a causal-LM base needs its score head ('{LoraAdapters.KeyPrefix}score.weight')");
        var adapters = AdapterFolder.Load(model, adapterDir);
        adapters.MergeAndUnload();
        bool baseHasTokenizer = HfFolder.TokenizerFiles.Any(f => File.Exists(Path.Combine(baseDir, f)));
        HfModelSaver.Save(model, outputDir, baseHasTokenizer ? baseDir : adapterDir);
    }
}
