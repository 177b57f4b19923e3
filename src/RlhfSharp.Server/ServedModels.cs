using System.Collections.Concurrent;
using RlhfSharp.Serving;

namespace RlhfSharp.Server;

/// <summary>
/// The models one server answers for: the folder it was started with, under its id, and the LoRA adapters loaded at
/// run time (<c>POST /v1/load_lora_adapter</c>, as vLLM's dynamic LoRA), each under its own name on a copy of the base.
/// The base is the caller's; the adapters are this registry's and are freed when unloaded or when the server stops.
/// </summary>
sealed class ServedModels(LocalModel baseModel)
{
    readonly ConcurrentDictionary<string, (LocalModel Model, ModelChatClient Chat)> adapters = new();

    /// <summary>The folder the server was started with.</summary>
    public LocalModel Base { get; } = baseModel;
    /// <summary>Its chat client.</summary>
    public ModelChatClient BaseChat { get; } = new(baseModel);

    /// <summary>The adapters' names, in no particular order.</summary>
    public IEnumerable<string> AdapterNames => adapters.Keys;

    /// <summary>The model and chat client named <paramref name="name"/>, or null when none is.</summary>
    public (LocalModel Model, ModelChatClient Chat)? Find(string name) =>
        name == Base.Id ? (Base, BaseChat) : adapters.TryGetValue(name, out var entry) ? entry : null;

    /// <summary>Loads the PEFT adapter at <paramref name="path"/> on the base as <paramref name="name"/>; false when the name is taken.</summary>
    public bool TryLoadAdapter(string name, string path)
    {
        if (name == Base.Id || adapters.ContainsKey(name)) return false;
        var model = Base.WithAdapter(path, name);
        if (adapters.TryAdd(name, (model, new ModelChatClient(model)))) return true;
        model.Dispose();
        return false;
    }

    /// <summary>Stops serving <paramref name="name"/> and frees it once its response in progress ends; false when no adapter has that name.</summary>
    public async Task<bool> UnloadAdapterAsync(string name)
    {
        if (!adapters.TryRemove(name, out var entry)) return false;
        await entry.Model.UnloadAsync();
        return true;
    }

    /// <summary>Frees every adapter (the server is stopping).</summary>
    public void DisposeAdapters()
    {
        foreach (var name in adapters.Keys.ToList())
            if (adapters.TryRemove(name, out var entry)) entry.Model.Dispose();
    }
}
