using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Core;

/// <summary>Optimizer state on disk: one safetensors file, moments keyed by parameter name.</summary>
public sealed partial class AdamW
{
    const string StepKey = "step";

    /// <summary>
    /// Writes <c>step</c>, <c>{name}.exp_avg</c> and <c>{name}.exp_avg_sq</c> (and <c>{name}.master</c>, the float32
    /// master weights, under mixed precision) to a safetensors file, so the state survives a change in parameter order
    /// and can be read from Python.
    /// </summary>
    public void SaveState(string path)
    {
        ThrowIfDisposed();
        using var scope = NewDisposeScope();
        var dict = new Dictionary<string, Tensor> { [StepKey] = tensor(new[] { StepCount }) };
        foreach (var s in _slots)
        {
            // Slices of the flat buffers: clone to standalone CPU tensors so only their bytes are written.
            dict[s.Name + ".exp_avg"] = s.Bucket.ExpAvg.narrow(0, s.Offset, s.Numel).view(s.Shape).cpu().clone();
            dict[s.Name + ".exp_avg_sq"] = s.Bucket.ExpAvgSq.narrow(0, s.Offset, s.Numel).view(s.Shape).cpu().clone();
            if (s.Bucket.Master is { } master) dict[s.Name + ".master"] = master.narrow(0, s.Offset, s.Numel).view(s.Shape).cpu().clone();
        }
        Safetensors.SaveStateDict(path, dict);
    }

    /// <summary>Restores state written by <see cref="SaveState"/>; names and shapes must match exactly.</summary>
    public void LoadState(string path)
    {
        ThrowIfDisposed();
        if (!File.Exists(path)) throw new UserError($"optimizer state not found: {path}");
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Dictionary<string, Tensor> dict;
        try { dict = Safetensors.LoadStateDict(path); }
        catch (Exception e) when (e is not UserError) { throw new UserError($"{path}: not a readable safetensors file ({e.Message})", e); }

        if (!dict.TryGetValue(StepKey, out var step)) throw new UserError($"{path}: missing key '{StepKey}'");
        var expected = new HashSet<string>(_slots.SelectMany(s => s.Bucket.Master is null
            ? new[] { s.Name + ".exp_avg", s.Name + ".exp_avg_sq" }
            : new[] { s.Name + ".exp_avg", s.Name + ".exp_avg_sq", s.Name + ".master" })) { StepKey };
        if (dict.Keys.FirstOrDefault(k => !expected.Contains(k)) is { } extra)
            throw new UserError($"{path}: unexpected key '{extra}' (the optimizer has no parameter of that name)");
        foreach (var s in _slots)
        {
            Restore(s.Bucket.ExpAvg, s, s.Name + ".exp_avg");
            Restore(s.Bucket.ExpAvgSq, s, s.Name + ".exp_avg_sq");
            if (s.Bucket.Master is { } master)
            {
                // Mixed precision: the float32 master decides the next update; the weights are its rounding.
                Restore(master, s, s.Name + ".master");
                s.Bucket.Params.narrow(0, s.Offset, s.Numel).copy_(master.narrow(0, s.Offset, s.Numel));
            }
        }
        StepCount = step.to(ScalarType.Int64).flatten()[0].item<long>();

        void Restore(Tensor flat, Slot s, string key)
        {
            if (!dict.TryGetValue(key, out var t)) throw new UserError($"{path}: missing key '{key}'");
            if (!t.shape.SequenceEqual(s.Shape))
                throw new UserError($"{path}: '{key}' has shape [{string.Join(", ", t.shape)}], the parameter has [{string.Join(", ", s.Shape)}]");
            flat.narrow(0, s.Offset, s.Numel).copy_(t.flatten());
        }
    }
}
