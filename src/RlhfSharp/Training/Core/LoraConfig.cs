using RlhfSharp.Configuration;
using RlhfSharp.Models;
using RlhfSharp.Models.Lora;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Core;

/// <summary>
/// LoRA settings of a phase (Hu et al. 2021): off unless <see cref="Rank"/> &gt; 0, then only the adapters (and a
/// scalar head) are trained and the base weights stay frozen. Defaults: alpha 16 and dropout 0.05 (QLoRA, Dettmers et
/// al. 2023, App. B); targets all block projections (attention and MLP; PEFT's "all-linear", which QLoRA found
/// necessary to match full finetuning).
/// </summary>
public sealed record LoraConfig
{
    /// <summary>Rank r of each adapter; 0 = no LoRA (full finetuning).</summary>
    public int Rank { get; init; }
    /// <summary>alpha of the scaling alpha / r (default 16, QLoRA).</summary>
    public double Alpha { get; init; } = 16;
    /// <summary>Dropout on each adapter's input while training (default 0.05, QLoRA).</summary>
    public double Dropout { get; init; } = 0.05;
    /// <summary>Comma-separated module names to adapt, or all-linear (default).</summary>
    public string Targets { get; init; } = LoraOptions.AllLinear;

    /// <summary>Whether LoRA is on.</summary>
    public bool Enabled => Rank > 0;

    /// <summary>The model-level options.</summary>
    public LoraOptions Options => new() { Rank = Rank, Alpha = Alpha, Dropout = Dropout, Targets = LoraOptions.ParseTargets(Targets) };

    /// <summary>Every projection name any supported architecture has, plus all-linear.</summary>
    static readonly HashSet<string> KnownTargets =
    [
        LoraOptions.AllLinear, "c_attn", "c_proj", "c_fc", "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj",
    ];

    /// <summary>lora_targets must name projections (checked per architecture when the adapters are attached).</summary>
    public static string? TargetsProblem(string text)
    {
        var names = LoraOptions.ParseTargets(text);
        if (names.Count == 0) return "must name at least one module, or all-linear";
        var unknown = names.FirstOrDefault(n => !KnownTargets.Contains(n));
        return unknown is null ? null : $"'{unknown}' is not a projection (one of: {string.Join(", ", KnownTargets)})";
    }

    /// <summary>
    /// Attaches adapters to <paramref name="model"/> as configured (A drawn from <paramref name="seed"/>), or returns null
    /// when LoRA is off. A target the architecture does not have is a <see cref="ConfigError"/> naming lora_targets.
    /// </summary>
    public LoraAdapters? Attach(HfModel model, string section, ulong seed)
    {
        if (!Enabled) return null;
        manual_seed((long)seed);
        try { return LoraAdapters.Attach(model, Options); }
        catch (ArgumentException e) { throw new ConfigError(section, "lora_targets", e.Message.Replace("lora_targets: ", "")); }
    }
}

/// <summary>The LoRA settings, declared once and added to the schema of every phase that trains a model (sft, reward, dpo, ppo).</summary>
public static class LoraSettings
{
    /// <param name="lora">Reads the phase record's <see cref="LoraConfig"/>.</param>
    /// <param name="withLora">Returns the phase record with another <see cref="LoraConfig"/>.</param>
    public static IEnumerable<Setting<TConfig>> For<TConfig>(Func<TConfig, LoraConfig> lora, Func<TConfig, LoraConfig, TConfig> withLora)
    {
        yield return new Setting<TConfig, int>("lora_r", "Rank of LoRA adapters (Hu et al. 2021); only adapters (and a score head) train, base weights stay frozen. 0 = full finetuning.",
            null, "R", c => lora(c).Rank, (c, v) => withLora(c, lora(c) with { Rank = v }), Rules.AtLeast(0));
        yield return new Setting<TConfig, double>("lora_alpha", "LoRA scaling numerator: the update is (alpha / r) B A x.",
            "QLoRA", "ALPHA", c => lora(c).Alpha, (c, v) => withLora(c, lora(c) with { Alpha = v }), Rules.Positive);
        yield return new Setting<TConfig, double>("lora_dropout", "Dropout on the adapters' input while training.",
            "QLoRA", "P", c => lora(c).Dropout, (c, v) => withLora(c, lora(c) with { Dropout = v }), Rules.Fraction);
        yield return new Setting<TConfig, string>("lora_targets", "Comma-separated projection names to adapt (q_proj,v_proj; c_attn), or all-linear: every attention and MLP projection.",
            "QLoRA", "NAMES", c => lora(c).Targets, (c, v) => withLora(c, lora(c) with { Targets = v }), LoraConfig.TargetsProblem);
    }
}
