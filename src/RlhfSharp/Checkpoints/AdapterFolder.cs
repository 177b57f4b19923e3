using RlhfSharp.Models;
using RlhfSharp.Models.Lora;
using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Checkpoints;

/// <summary>
/// A PEFT LoRA adapter folder: <c>adapter_config.json</c> (<see cref="AdapterConfigFile"/>) and
/// <c>adapter_model.safetensors</c> with PEFT's keys, <c>base_model.model.&lt;module path&gt;.lora_A.weight</c> [r, in] and
/// <c>.lora_B.weight</c> [out, r] (the adapter name "default" is not part of saved keys), plus
/// <c>base_model.model.score.weight</c> when a scalar head is trained. PEFT's <c>PeftModel.from_pretrained</c> loads what
/// <see cref="Save"/> writes, and <see cref="Load"/> reads what PEFT's <c>save_pretrained</c> writes.
/// </summary>
public static class AdapterFolder
{
    /// <summary>The weights file PEFT writes.</summary>
    public const string WeightsFile = "adapter_model.safetensors";

    /// <summary>Whether <paramref name="dir"/> holds an adapter (its config file).</summary>
    public static bool IsAdapter(string dir) => File.Exists(Path.Combine(dir, AdapterConfigFile.Name));

    /// <summary>Writes the adapter (and tokenizer files of <paramref name="tokenizerSourceDir"/>, as PEFT trainers do) atomically into <paramref name="dir"/>.</summary>
    /// <param name="adapters">the attached adapters.</param>
    /// <param name="dir">target folder; replaced if it exists.</param>
    /// <param name="baseModel">written as base_model_name_or_path (the base model's folder or Hub id), or null.</param>
    /// <param name="tokenizerSourceDir">folder whose tokenizer files are copied along, or null.</param>
    public static void Save(LoraAdapters adapters, string dir, string? baseModel, string? tokenizerSourceDir = null) =>
        AtomicFolder.Write(dir, tmp =>
        {
            AdapterConfigFile.Write(tmp, adapters, baseModel);
            SafetensorsFile.Save(Path.Combine(tmp, WeightsFile), adapters.NamedParameters().ToDictionary(p => p.Name, p => (Tensor)p.Param));
            // A reward model's normalisation belongs to its head, which the adapter carries (PEFT ignores the extra file).
            // A shift folded into the base (ln_f's bias) is not in the adapter, so base + adapter applies it at run time.
            if (adapters.Model is ScalarHeadModel { Normalization: { } normalization })
                ScoreNormalizationFile.Write(tmp, normalization with { ShiftInWeights = false });
            if (tokenizerSourceDir is not null)
                foreach (var f in HfFolder.TokenizerFiles)
                    if (File.Exists(Path.Combine(tokenizerSourceDir, f))) File.Copy(Path.Combine(tokenizerSourceDir, f), Path.Combine(tmp, f));
        });

    /// <summary>The subfolder of a LoRA run's output that holds the PEFT adapter.</summary>
    public const string OutputSubfolder = "adapter";

    /// <summary>
    /// How every LoRA phase ends: the PEFT adapter goes to <c>outputDir/adapter/</c> (base_model_name_or_path = the
    /// tokenizer source folder, the base model's folder when the run started from one), then the adapters are merged
    /// into the model, so the caller saves the output folder as a plain HF model that the next phase loads.
    /// </summary>
    public static void SaveIntoOutputAndMerge(LoraAdapters adapters, string outputDir, string? tokenizerSourceDir)
    {
        Save(adapters, Path.Combine(outputDir, OutputSubfolder), tokenizerSourceDir is null ? null : Path.GetFullPath(tokenizerSourceDir), tokenizerSourceDir);
        adapters.MergeAndUnload();
    }

    /// <summary>
    /// Attaches the adapter in <paramref name="dir"/> to <paramref name="model"/> (in the model's dtype and device) and
    /// loads its weights, strictly: every adapted projection needs its lora_A and lora_B with the right shapes, a saved
    /// score head needs a scalar-head model, and no other key may be in the file. Errors name the file and key.
    /// </summary>
    public static LoraAdapters Load(HfModel model, string dir)
    {
        var config = AdapterConfigFile.Read(dir);
        LoraAdapters adapters;
        try { adapters = LoraAdapters.AttachWhere(model, config.Options, config.IsTarget); }
        catch (ArgumentException) { throw new UserError($"{Path.Combine(dir, AdapterConfigFile.Name)}: target_modules [{string.Join(", ", config.Options.Targets)}] match no projection of this {model.Config.ModelType} model"); }
        try
        {
            LoadWeights(adapters, dir);
            if (model is ScalarHeadModel head && ScoreNormalizationFile.Read(dir) is { } normalization) head.Normalization = normalization;
            return adapters;
        }
        catch
        {
            adapters.Unload();
            throw;
        }
    }

    /// <summary>Copies the weights in <c>dir/adapter_model.safetensors</c> into already attached adapters (strict keys and shapes), e.g. to resume.</summary>
    public static void LoadWeights(LoraAdapters adapters, string dir)
    {
        var path = Path.Combine(dir, WeightsFile);
        if (!File.Exists(path)) throw new UserError($"{path}: not found");
        var disk = SafetensorsFile.Load(path);
        try
        {
            var expected = adapters.NamedParameters().ToDictionary(p => p.Name, p => p.Param);
            var headKey = LoraAdapters.KeyPrefix + "score.weight";
            foreach (var (key, param) in expected)
            {
                if (!disk.TryGetValue(key, out var t))
                {
                    // A head trained in full is optional on disk: PEFT saves it only when it was in modules_to_save.
                    if (key == headKey) continue;
                    throw new UserError($"{path}: missing tensor '{key}' (needed by the adapter of {key[LoraAdapters.KeyPrefix.Length..^".lora_A.weight".Length]})");
                }
                if (!t.shape.SequenceEqual(param.shape))
                    throw new UserError($"{path}: tensor '{key}' has shape [{string.Join(",", t.shape)}] but this model needs [{string.Join(",", param.shape)}]");
            }
            foreach (var key in disk.Keys)
                if (!expected.ContainsKey(key))
                    throw new UserError(key == headKey
                        ? $"{path}: holds a score head ('{key}') but the model is a causal LM"
                        : $"{path}: unexpected tensor '{key}' (no targeted projection of this model has that name)");
            using var _ = torch.no_grad();
            foreach (var (key, param) in expected)
                if (disk.TryGetValue(key, out var t)) param.copy_(t);
        }
        finally
        {
            foreach (var t in disk.Values) t.Dispose();
        }
    }
}
