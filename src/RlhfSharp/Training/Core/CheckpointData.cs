using System.Text.Json.Nodes;
using TorchSharp;
using TorchSharp.PyBridge;

namespace RlhfSharp.Training.Core;

/// <summary>
/// Everything one checkpoint holds, gathered by the trainer and written by <see cref="CheckpointStore.Save"/>.
/// The torch CPU generator state is always captured; other generators (CUDA, our own) go in
/// <see cref="ExtraRng"/>.
/// </summary>
public sealed class CheckpointData
{
    /// <summary>Name of the file that <see cref="AddModule"/> writes inside a model's folder.</summary>
    public const string StateDictFile = "model.safetensors";

    /// <summary>Optimizer steps done; the checkpoint folder is <c>step-{Step}</c>.</summary>
    public required long Step { get; init; }

    /// <summary>Step of the learning-rate schedule (usually equal to <see cref="Step"/>).</summary>
    public long? SchedulerStep { get; init; }

    /// <summary>Name -> a delegate that writes the model into the folder it is given (e.g. an HF folder).</summary>
    public Dictionary<string, Action<string>> Models { get; } = [];

    /// <summary>Optimizers to save, by name.</summary>
    public Dictionary<string, AdamW> Optimizers { get; } = [];

    /// <summary>Where the data sampler stands, so the next batch after resume is the one that would have come.</summary>
    public SamplerPosition? DataPosition { get; init; }

    /// <summary>Free-form trainer state (e.g. a KL controller's coefficient, best eval loss).</summary>
    public JsonObject TrainerState { get; init; } = [];

    /// <summary>Extra generator states by name (e.g. <c>cuda</c>, a sampling generator).</summary>
    public Dictionary<string, byte[]> ExtraRng { get; } = [];

    /// <summary>Adds a model saved as a plain state_dict (safetensors); fine for any <c>nn.Module</c>.</summary>
    public CheckpointData AddModule(string name, torch.nn.Module module)
    {
        Models[name] = folder => module.save_safetensors(Path.Combine(folder, StateDictFile));
        return this;
    }
}
