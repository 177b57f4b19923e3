using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using RlhfSharp.Models;
using RlhfSharp.Models.Lora;

namespace RlhfSharp.Checkpoints;

/// <summary>What a PEFT <c>adapter_config.json</c> of a LoRA adapter says that matters here.</summary>
/// <param name="Options">rank, alpha, dropout, targets (names; or <see cref="TargetPattern"/>), rsLoRA.</param>
/// <param name="TargetPattern">a regular expression that must match a whole module path (PEFT's string form of
/// <c>target_modules</c>), or null when <c>Options.Targets</c> lists names.</param>
/// <param name="TaskType">PEFT's task type: CAUSAL_LM, SEQ_CLS, or null.</param>
/// <param name="BaseModel">base_model_name_or_path, or null.</param>
/// <param name="ModulesToSave">modules saved in full beside the adapters (e.g. <c>score</c>).</param>
public sealed record AdapterConfig(LoraOptions Options, string? TargetPattern, string? TaskType, string? BaseModel,
    IReadOnlyList<string> ModulesToSave)
{
    /// <summary>Whether the projection at <paramref name="path"/> is a target: a whole-path match of the pattern, or the path
    /// equal to or ending in "." + one of the names (PEFT's suffix rule), or any projection for all-linear.</summary>
    public bool IsTarget(string path)
    {
        if (TargetPattern is not null) return Regex.IsMatch(path, $"^(?:{TargetPattern})$");
        if (Options.Targets.Contains(LoraOptions.AllLinear)) return true;
        return Options.Targets.Any(t => path == t || path.EndsWith("." + t, StringComparison.Ordinal));
    }
}

/// <summary>
/// Reads and writes PEFT's <c>adapter_config.json</c> for LoRA (peft_type "LORA"). Reading is strict: a field this
/// project does not know is an error naming it, and so is a known field set to a feature that would change the
/// computation here (DoRA, per-layer rank or alpha patterns, trained biases, layer subsets...). Fields that only
/// describe the training setup (inference_mode, revision, init_lora_weights...) are accepted and ignored.
/// </summary>
public static class AdapterConfigFile
{
    /// <summary>The file name PEFT uses.</summary>
    public const string Name = "adapter_config.json";

    // Fields with no effect on the forward pass, whatever their value.
    static readonly HashSet<string> Descriptive =
    [
        "inference_mode", "revision", "init_lora_weights", "auto_mapping", "megatron_config", "megatron_core", "loftq_config",
        "eva_config", "corda_config", "lora_dtype", "qalora_group_size", "peft_version", "layers_pattern",
        "enable_lora", "use_merged_linear", "swift_type", "fan_in_fan_out",
    ];

    // Fields that change the computation unless they hold the neutral value: field -> is the value neutral?
    static readonly Dictionary<string, Func<JsonNode?, bool>> NeutralOnly = new()
    {
        ["use_dora"] = IsFalse, ["lora_bias"] = IsFalse, ["use_qalora"] = IsFalse,
        ["bias"] = n => n is null || (n is JsonValue v && v.TryGetValue(out string? s) && s == "none"),
        ["rank_pattern"] = IsEmpty, ["alpha_pattern"] = IsEmpty, ["layers_to_transform"] = IsEmpty,
        ["exclude_modules"] = IsEmpty, ["layer_replication"] = IsEmpty, ["target_parameters"] = IsEmpty,
        ["trainable_token_indices"] = IsEmpty,
    };

    static bool IsFalse(JsonNode? n) => n is null || (n is JsonValue v && v.TryGetValue(out bool b) && !b);
    static bool IsEmpty(JsonNode? n) => n is null || n is JsonObject { Count: 0 } || n is JsonArray { Count: 0 };

    /// <summary>Writes <c>adapter_config.json</c> for <paramref name="adapters"/> into <paramref name="dir"/>: peft_type LORA,
    /// task_type CAUSAL_LM or SEQ_CLS (score in modules_to_save), r, lora_alpha, lora_dropout, the adapted module names,
    /// fan_in_fan_out (true for GPT-2's Conv1D), use_rslora, bias "none".</summary>
    public static void Write(string dir, LoraAdapters adapters, string? baseModel)
    {
        var names = adapters.Entries.Select(e => e.Path.Split('.')[^1]).Distinct().Order(StringComparer.Ordinal).ToArray();
        var o = adapters.Options;
        var json = new JsonObject
        {
            ["peft_type"] = "LORA",
            ["task_type"] = adapters.Model is ScalarHeadModel ? "SEQ_CLS" : "CAUSAL_LM",
            ["base_model_name_or_path"] = baseModel,
            ["r"] = o.Rank,
            ["lora_alpha"] = o.Alpha,
            ["lora_dropout"] = o.Dropout,
            ["target_modules"] = new JsonArray(names.Select(n => (JsonNode)n).ToArray()),
            ["fan_in_fan_out"] = adapters.Entries[0].Projection.FanInFanOut,
            ["use_rslora"] = o.UseRsLora,
            ["use_dora"] = false,
            ["bias"] = "none",
            ["modules_to_save"] = adapters.TrainsScoreHead ? new JsonArray("score") : null,
            ["init_lora_weights"] = true,
            ["inference_mode"] = true,
            ["rank_pattern"] = new JsonObject(),
            ["alpha_pattern"] = new JsonObject(),
            ["layers_to_transform"] = null,
            ["layers_pattern"] = null,
            ["revision"] = null,
        };
        File.WriteAllText(Path.Combine(dir, Name), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>Reads <c>dir/adapter_config.json</c> strictly; any problem is a <see cref="UserError"/> naming the file and field.</summary>
    public static AdapterConfig Read(string dir)
    {
        var path = Path.Combine(dir, Name);
        if (!File.Exists(path)) throw new UserError($"{path}: not found (a PEFT adapter folder holds adapter_config.json and adapter_model.safetensors)");
        JsonObject root;
        try { root = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new UserError($"{path}: must be a JSON object"); }
        catch (JsonException e) { throw new UserError($"{path}: invalid JSON ({e.Message})"); }

        UserError Bad(string field, string problem) => new($"{path}: '{field}' {problem}");
        foreach (var (key, value) in root)
        {
            if (key is "peft_type" or "task_type" or "base_model_name_or_path" or "r" or "lora_alpha" or "lora_dropout"
                or "target_modules" or "use_rslora" or "modules_to_save" || Descriptive.Contains(key)) continue;
            if (NeutralOnly.TryGetValue(key, out var neutral))
            {
                if (!neutral(value)) throw Bad(key, $"= {value?.ToJsonString()} is not supported (only LoRA with the neutral value of this field)");
                continue;
            }
            throw Bad(key, "is not a field this reader knows; refusing to guess what it changes");
        }

        string? Str(string field)
        {
            var n = root[field];
            if (n is null) return null;
            return n is JsonValue v && v.TryGetValue(out string? s) ? s : throw Bad(field, $"must be a string, got {n.ToJsonString()}");
        }
        double Num(string field, double? fallback)
        {
            var n = root[field];
            if (n is null) return fallback ?? throw Bad(field, "is missing");
            return n is JsonValue v && v.TryGetValue(out double d) && double.IsFinite(d) ? d : throw Bad(field, $"must be a number, got {n.ToJsonString()}");
        }

        var peftType = Str("peft_type") ?? throw Bad("peft_type", "is missing");
        if (!string.Equals(peftType, "LORA", StringComparison.OrdinalIgnoreCase)) throw Bad("peft_type", $"is '{peftType}'; only LORA adapters are supported");
        double r = Num("r", null);
        if (r < 1 || r != Math.Floor(r)) throw Bad("r", $"must be a whole number >= 1, got {r}");
        double alpha = Num("lora_alpha", null);
        double dropout = Num("lora_dropout", 0);
        if (dropout is < 0 or >= 1) throw Bad("lora_dropout", $"must be in [0, 1), got {dropout}");
        bool rs = root["use_rslora"] is { } rsNode
            ? rsNode is JsonValue rv && rv.TryGetValue(out bool rb) ? rb : throw Bad("use_rslora", "must be true or false")
            : false;

        string? pattern = null;
        List<string> targets;
        switch (root["target_modules"])
        {
            case JsonArray list:
                targets = list.Select(n => n is JsonValue v && v.TryGetValue(out string? s) && s.Length > 0 ? s
                    : throw Bad("target_modules", $"must hold module names, got {n?.ToJsonString()}")).ToList();
                if (targets.Count == 0) throw Bad("target_modules", "is empty");
                break;
            case JsonValue v when v.TryGetValue(out string? s):
                if (s == LoraOptions.AllLinear) targets = [LoraOptions.AllLinear];
                else
                {
                    try { _ = new Regex(s); } catch (ArgumentException e) { throw Bad("target_modules", $"is not a valid regular expression ({e.Message})"); }
                    (pattern, targets) = (s, [s]);
                }
                break;
            default:
                throw Bad("target_modules", "is missing (give a list of module names or a pattern)");
        }

        var modules = root["modules_to_save"] switch
        {
            null => new List<string>(),
            JsonArray a => a.Select(n => n is JsonValue v && v.TryGetValue(out string? s) ? s : throw Bad("modules_to_save", "must hold module names")).ToList(),
            var n => throw Bad("modules_to_save", $"must be a list or null, got {n.ToJsonString()}"),
        };
        foreach (var m in modules)
            if (m is not ("score" or "classifier")) throw Bad("modules_to_save", $"names '{m}'; only a sequence-classification head (score) can be saved in full");

        var options = new LoraOptions { Rank = (int)r, Alpha = alpha, Dropout = dropout, Targets = targets, UseRsLora = rs };
        return new AdapterConfig(options, pattern, Str("task_type"), Str("base_model_name_or_path"), modules);
    }
}
