namespace RlhfSharp.Models.Lora;

/// <summary>
/// Which projections get a LoRA adapter and how it is shaped (Hu et al. 2021). Scaling = alpha / r (§4.1), or
/// alpha / sqrt(r) with <see cref="UseRsLora"/> (Kalajdzievski 2023, rank-stabilised LoRA).
/// </summary>
public sealed record LoraOptions
{
    /// <summary>The keyword that targets every projection of the blocks (attention and MLP), PEFT's "all-linear"
    /// (which leaves out the output layer).</summary>
    public const string AllLinear = "all-linear";

    /// <summary>Rank r of the update (r &gt;= 1).</summary>
    public int Rank { get; init; } = 8;
    /// <summary>alpha in the scaling alpha / r.</summary>
    public double Alpha { get; init; } = 16;
    /// <summary>Dropout on the adapter's input, in [0, 1).</summary>
    public double Dropout { get; init; }
    /// <summary>Module names (the last part of the module path, e.g. q_proj, c_attn) to adapt, or <see cref="AllLinear"/>.</summary>
    public IReadOnlyList<string> Targets { get; init; } = [AllLinear];
    /// <summary>Scale by alpha / sqrt(r) instead of alpha / r (PEFT's <c>use_rslora</c>).</summary>
    public bool UseRsLora { get; init; }

    /// <summary>The factor applied to B A x.</summary>
    public double Scaling => UseRsLora ? Alpha / Math.Sqrt(Rank) : Alpha / Rank;

    /// <summary>The block projections of an architecture: GPT-2's Conv1D c_attn, c_proj (attention and MLP), c_fc;
    /// the Llama family's q/k/v/o and gate/up/down.</summary>
    public static IReadOnlyList<string> ProjectionNames(TransformerConfig config) => config.IsGpt2
        ? ["c_attn", "c_proj", "c_fc"]
        : ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"];

    /// <summary>The module names targeted on <paramref name="config"/>'s architecture (<see cref="AllLinear"/> expanded);
    /// a name that is no projection of that architecture is an error naming it.</summary>
    public IReadOnlyList<string> ResolveTargets(TransformerConfig config)
    {
        var known = ProjectionNames(config);
        if (Targets.Count == 0) throw new ArgumentException("lora_targets: give at least one module name or all-linear");
        if (Targets.Contains(AllLinear)) return known;
        foreach (var t in Targets)
            if (!known.Contains(t))
                throw new ArgumentException($"lora_targets: '{t}' is not a projection of {config.ModelType} (one of: {string.Join(", ", known)}, or {AllLinear})");
        return Targets.Distinct().ToList();
    }

    /// <summary>Parses a comma-separated list ("q_proj,v_proj", or "all-linear").</summary>
    public static IReadOnlyList<string> ParseTargets(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
