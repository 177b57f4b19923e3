using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RlhfSharp.Models.Lora;

/// <summary>
/// The LoRA adapters attached to one model (Hu et al. 2021): one <see cref="LowRankAdapter"/> per targeted
/// <see cref="Projection"/>, the base weights frozen. Switching them off (<see cref="Disable"/>) gives back the base
/// model exactly, which is how PPO and DPO get their reference without a second copy of the weights.
/// Parameter names are PEFT's: <c>base_model.model.&lt;module path&gt;.lora_A.weight</c> / <c>lora_B.weight</c>, and
/// <c>base_model.model.score.weight</c> for a scalar head, which stays trainable (PEFT's <c>modules_to_save</c> for
/// sequence classification).
/// </summary>
public sealed class LoraAdapters : IDisposable
{
    /// <summary>PEFT's prefix of every saved key: the PeftModel's <c>base_model</c> (LoraModel) and its <c>model</c>.</summary>
    public const string KeyPrefix = "base_model.model.";

    /// <summary>One adapted projection: its module path in the HF model (e.g. <c>model.layers.0.self_attn.q_proj</c>).</summary>
    public sealed record Entry(string Path, Projection Projection, LowRankAdapter Adapter);

    // By name: moving the model to another dtype or device replaces its Parameter objects.
    readonly Dictionary<string, bool> _requiresGradBefore = [];
    bool _detached;

    /// <summary>The model the adapters sit in.</summary>
    public HfModel Model { get; }
    /// <summary>The options they were made with.</summary>
    public LoraOptions Options { get; }
    /// <summary>The adapted projections in module order.</summary>
    public IReadOnlyList<Entry> Entries { get; }
    /// <summary>True when the model is a scalar head whose <c>score</c> is trained with the adapters.</summary>
    public bool TrainsScoreHead { get; }

    LoraAdapters(HfModel model, LoraOptions options, List<Entry> entries, bool trainsScoreHead)
    {
        (Model, Options, Entries, TrainsScoreHead) = (model, options, entries, trainsScoreHead);
    }

    /// <summary>
    /// Attaches fresh adapters (A drawn from the torch generator, B zero) to the projections <paramref name="options"/>
    /// targets, in the weights' dtype (float32 for bf16/fp16 weights) and device, and freezes every base weight; a scalar head's <c>score</c> stays
    /// trainable. Throws <see cref="ArgumentException"/> naming a target that matches no projection.
    /// </summary>
    public static LoraAdapters Attach(HfModel model, LoraOptions options)
    {
        if (options.Rank < 1) throw new ArgumentException($"lora_r must be >= 1, got {options.Rank}");
        var names = options.Targets.Contains(LoraOptions.AllLinear) ? null : options.ResolveTargets(model.Config);
        bool Matches(string path) => names is null || names.Any(t => path == t || path.EndsWith("." + t, StringComparison.Ordinal));
        return AttachWhere(model, options, Matches);
    }

    /// <summary>As <see cref="Attach"/>, with the projections chosen by a predicate on their module path.</summary>
    public static LoraAdapters AttachWhere(HfModel model, LoraOptions options, Func<string, bool> isTarget)
    {
        var entries = new List<Entry>();
        foreach (var (path, module) in model.named_modules())
        {
            if (module is not Projection p || !isTarget(path)) continue;
            if (p.Adapter is not null) throw new InvalidOperationException($"{path} already has a LoRA adapter");
            // Half-precision bases get float32 adapters (mixed precision: the trained weights stay float32).
            var dtype = p.Weight.dtype is ScalarType.BFloat16 or ScalarType.Float16 ? ScalarType.Float32 : p.Weight.dtype;
            var adapter = new LowRankAdapter(p.InFeatures, p.OutFeatures, options.Rank, options.Scaling, options.Dropout, dtype, p.Weight.device);
            p.Adapter = adapter;
            entries.Add(new Entry(path, p, adapter));
        }
        if (entries.Count == 0) throw new ArgumentException($"lora_targets: [{string.Join(", ", options.Targets)}] match no projection of this {model.Config.ModelType} model");
        bool head = model is ScalarHeadModel;
        var result = new LoraAdapters(model, options, entries, head);
        foreach (var (name, param) in model.named_parameters())
        {
            result._requiresGradBefore[name] = param.requires_grad;
            param.requires_grad = head && name == "score.weight";
        }
        return result;
    }

    /// <summary>PEFT's key of an adapter weight: <c>base_model.model.{path}.lora_A.weight</c> (<paramref name="which"/> = "A" or "B").</summary>
    public static string Key(string path, string which) => $"{KeyPrefix}{path}.lora_{which}.weight";

    /// <summary>The trainable parameters under their PEFT names: every lora_A and lora_B, then the score head when trained.</summary>
    public IEnumerable<(string Name, Parameter Param)> NamedParameters()
    {
        foreach (var e in Entries)
        {
            yield return (Key(e.Path, "A"), e.Adapter.lora_A);
            yield return (Key(e.Path, "B"), e.Adapter.lora_B);
        }
        if (TrainsScoreHead) yield return (KeyPrefix + "score.weight", ((ScalarHeadModel)Model).score.weight!);
    }

    /// <summary>Scalars in the adapters (the score head not counted).</summary>
    public long AdapterParameterCount => Entries.Sum(e => e.Adapter.lora_A.numel() + e.Adapter.lora_B.numel());

    /// <summary>Whether the adapters add their update (true after <see cref="Attach"/>).</summary>
    public bool Enabled
    {
        get => Entries[0].Adapter.Enabled;
        set { foreach (var e in Entries) e.Adapter.Enabled = value; }
    }

    /// <summary>Switches the adapters off until the returned scope is disposed (then restores the previous state): the
    /// model computes with its base weights only.</summary>
    public IDisposable Disable()
    {
        bool before = Enabled;
        Enabled = false;
        return new Restore(() => Enabled = before);
    }

    /// <summary>
    /// Folds each update into its base weight, W = W0 + scaling B A (transposed for a Conv1D's [in, out] weight),
    /// removes the adapters and restores the weights' trainability: the model is then a plain HF model.
    /// </summary>
    public void MergeAndUnload()
    {
        ThrowIfDetached();
        using (torch.no_grad())
        {
            foreach (var e in Entries)
            {
                using var scope = torch.NewDisposeScope();
                var delta = e.Adapter.DeltaWeight().to(e.Projection.Weight.dtype);            // [out, in]
                e.Projection.Weight.add_(e.Projection.FanInFanOut ? delta.t() : delta);
            }
        }
        Unload();
    }

    /// <summary>Removes the adapters without merging them (the model is the base again) and restores trainability.</summary>
    public void Unload()
    {
        ThrowIfDetached();
        _detached = true;
        foreach (var e in Entries)
        {
            e.Projection.Adapter = null;
            e.Adapter.Dispose();
        }
        foreach (var (name, param) in Model.named_parameters())
            if (_requiresGradBefore.TryGetValue(name, out var requiresGrad)) param.requires_grad = requiresGrad;
    }

    void ThrowIfDetached()
    {
        if (_detached) throw new InvalidOperationException("the LoRA adapters were already merged or unloaded");
    }

    /// <summary>Unloads the adapters if they are still attached.</summary>
    public void Dispose()
    {
        if (!_detached) Unload();
    }

    sealed class Restore(Action action) : IDisposable
    {
        bool _done;
        public void Dispose() { if (!_done) { _done = true; action(); } }
    }
}
