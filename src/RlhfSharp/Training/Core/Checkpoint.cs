using System.Text.Json;
using System.Text.Json.Nodes;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Core;

/// <summary>A complete checkpoint found on disk (see <see cref="CheckpointStore"/>); parts are read on demand.</summary>
public sealed class Checkpoint
{
    readonly JsonObject _state;

    /// <summary>The <c>step-N</c> folder.</summary>
    public string Folder { get; }
    /// <summary>Optimizer steps done when it was saved.</summary>
    public long Step { get; }
    /// <summary>Step of the learning-rate schedule (defaults to <see cref="Step"/>).</summary>
    public long SchedulerStep { get; }
    /// <summary>Where the data sampler stood, or null.</summary>
    public SamplerPosition? DataPosition { get; }
    /// <summary>The trainer's free-form state (empty when none).</summary>
    public JsonObject TrainerState { get; }
    /// <summary>Names of the models saved.</summary>
    public IReadOnlyList<string> ModelNames { get; }
    /// <summary>Names of the optimizers saved.</summary>
    public IReadOnlyList<string> OptimizerNames { get; }

    Checkpoint(string folder, JsonObject state)
    {
        Folder = folder;
        _state = state;
        Step = state["step"]!.GetValue<long>();
        SchedulerStep = state["scheduler_step"]?.GetValue<long>() ?? Step;
        DataPosition = state["data_position"] is JsonObject p ? new(p["epoch"]!.GetValue<long>(), p["index"]!.GetValue<long>()) : null;
        TrainerState = state["trainer_state"] as JsonObject ?? [];
        ModelNames = Names("models");
        OptimizerNames = Names("optimizers");
    }

    List<string> Names(string key) => (_state[key] as JsonArray ?? []).Select(n => n!.GetValue<string>()).ToList();

    /// <summary>Opens a folder if its manifest parses and every listed file exists with its size; else null.</summary>
    internal static Checkpoint? TryOpen(string folder)
    {
        try
        {
            var statePath = Path.Combine(folder, CheckpointStore.StateFile);
            if (!File.Exists(statePath)) return null;
            if (JsonNode.Parse(File.ReadAllText(statePath)) is not JsonObject state) return null;
            if (state["files"] is not JsonObject files || state["step"] is null) return null;
            foreach (var (rel, size) in files)
            {
                var f = new FileInfo(Path.Combine(folder, rel));
                if (!f.Exists || f.Length != size!.GetValue<long>()) return null;
            }
            return new Checkpoint(folder, state);
        }
        catch (Exception e) when (e is JsonException or IOException or InvalidOperationException or FormatException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The folder the model's save delegate wrote into; pass it to the matching load function.</summary>
    public string ModelFolder(string name)
    {
        if (!ModelNames.Contains(name)) throw new UserError($"{Folder}: checkpoint has no model '{name}' (has: {string.Join(", ", ModelNames)})");
        return Path.Combine(Folder, "models", name);
    }

    /// <summary>Loads a model saved with <see cref="CheckpointData.AddModule"/> (strict: names and shapes must match).</summary>
    public void LoadModule(string name, nn.Module module)
    {
        var path = Path.Combine(ModelFolder(name), CheckpointData.StateDictFile);
        try { module.load_safetensors(path, strict: true); }
        catch (Exception e) when (e is not UserError) { throw new UserError($"{path}: does not fit the model ({e.Message.Split('\n')[0]})", e); }
    }

    /// <summary>Restores <paramref name="optimizer"/>'s step count and moments (names and shapes must match); a user error when the checkpoint holds no optimizer of that name.</summary>
    public void LoadOptimizer(string name, AdamW optimizer)
    {
        if (!OptimizerNames.Contains(name)) throw new UserError($"{Folder}: checkpoint has no optimizer '{name}' (has: {string.Join(", ", OptimizerNames)})");
        optimizer.LoadState(Path.Combine(Folder, "optimizers", name + ".safetensors"));
    }

    /// <summary>Restores the torch CPU generator, so dropout and sampling continue as without the interruption.</summary>
    public void RestoreTorchRng()
    {
        using var scope = NewDisposeScope();
        set_rng_state(ReadRng()[CheckpointStore.TorchRngKey]);
    }

    /// <summary>An extra generator state saved under <paramref name="name"/>, or null.</summary>
    public byte[]? ExtraRng(string name)
    {
        using var scope = NewDisposeScope();
        return ReadRng().TryGetValue("extra." + name, out var t) ? t.data<byte>().ToArray() : null;
    }

    Dictionary<string, Tensor> ReadRng() => Safetensors.LoadStateDict(Path.Combine(Folder, CheckpointStore.RngFile));
}
