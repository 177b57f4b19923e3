using System.Text.Json.Nodes;
using RlhfSharp.Models;
using TorchSharp;

namespace RlhfSharp.Checkpoints;

/// <summary>
/// Saves a model as an HF folder that <c>transformers</c> loads: config.json (transformers-5 layout),
/// model.safetensors (the same keys and shapes save_pretrained writes; a tied head has no lm_head.weight),
/// generation_config.json, a scalar head's reward_normalization.json (<see cref="ScoreNormalizationFile"/>), and the
/// tokenizer files of a source folder. The write is atomic (<see cref="AtomicFolder"/>).
/// Weights are written in the model's current dtype; one file (no sharding).
/// </summary>
public static class HfModelSaver
{
    /// <param name="model">a <see cref="CausalLM"/> or <see cref="ScalarHeadModel"/>.</param>
    /// <param name="dir">target folder; replaced if it exists.</param>
    /// <param name="tokenizerSourceDir">folder whose tokenizer files (and generation_config.json) are copied along.</param>
    public static void Save(HfModel model, string dir, string? tokenizerSourceDir = null)
    {
        if (tokenizerSourceDir is not null && !Directory.Exists(tokenizerSourceDir))
            throw new UserError($"{tokenizerSourceDir}: tokenizer source folder not found");
        // Copy the sources before the swap: the source may be the folder being replaced.
        AtomicFolder.Write(dir, tmp =>
        {
            var config = model.Config with { Dtype = HfFolder.DtypeName(model.Dtype) };
            File.WriteAllText(Path.Combine(tmp, HfFolder.ConfigFile), TransformerConfigJson.ToJson(config));
            SafetensorsFile.Save(Path.Combine(tmp, HfFolder.WeightsFile), model.state_dict());
            if (model is ScalarHeadModel { Normalization: { } normalization }) ScoreNormalizationFile.Write(tmp, normalization);
            var genSrc = tokenizerSourceDir is null ? null : Path.Combine(tokenizerSourceDir, HfFolder.GenerationConfigFile);
            if (genSrc is not null && File.Exists(genSrc)) File.Copy(genSrc, Path.Combine(tmp, HfFolder.GenerationConfigFile));
            else File.WriteAllText(Path.Combine(tmp, HfFolder.GenerationConfigFile), GenerationConfigJson(config));
            if (tokenizerSourceDir is not null)
                foreach (var f in HfFolder.TokenizerFiles)
                    if (File.Exists(Path.Combine(tokenizerSourceDir, f))) File.Copy(Path.Combine(tokenizerSourceDir, f), Path.Combine(tmp, f));
        });
    }

    /// <summary>
    /// Writes the model files into an existing training-output folder without replacing the folder (it also holds
    /// checkpoints and metrics): the files are written to a temp folder first, then each is renamed into place.
    /// </summary>
    public static void SaveInto(HfModel model, string dir, string? tokenizerSourceDir = null)
    {
        Directory.CreateDirectory(dir);
        var staged = Path.Combine(dir, ".model-staged");
        if (Directory.Exists(staged)) Directory.Delete(staged, true);
        Save(model, staged, tokenizerSourceDir);
        foreach (var f in Directory.GetFiles(staged))
            File.Move(f, Path.Combine(dir, Path.GetFileName(f)), overwrite: true);
        // A normalisation file left from an earlier save would otherwise shift a model that has none.
        if (model is ScalarHeadModel { Normalization: null }) File.Delete(Path.Combine(dir, ScoreNormalizationFile.Name));
        Directory.Delete(staged, true);
    }

    /// <summary>The generation_config.json transformers derives from a model config.</summary>
    public static string GenerationConfigJson(TransformerConfig config) => new JsonObject
    {
        ["_from_model_config"] = true, ["bos_token_id"] = config.BosTokenId, ["eos_token_id"] = config.EosTokenId,
        ["pad_token_id"] = config.PadTokenId, ["use_cache"] = true,
    }.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true });
}
