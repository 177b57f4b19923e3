using RlhfSharp.Checkpoints;
using RlhfSharp.Models;
using RlhfSharp.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Core;

/// <summary>A <see cref="ModelSource"/> resolved: what the trainers need besides the weights.</summary>
public sealed record OpenedSource(ModelSource Source, ITextTokenizer Tokenizer, IChatFormat ChatFormat, string? TokenizerSourceDir,
    TransformerConfig Config)
{
    /// <summary>The causal LM: the folder's weights, or fresh weights drawn from <paramref name="seed"/>.</summary>
    public CausalLM NewCausalLM(ulong seed, Device device)
    {
        if (Source.Folder is not null) return HfModelLoader.LoadCausalLM(Source.Folder, device);
        manual_seed((long)seed);
        var model = ModelFactory.Create(Config);
        model.to(device);
        return model;
    }

    /// <summary>A reward model: the folder's trunk (or fresh weights) and a score head, all drawn from <paramref name="seed"/>.</summary>
    public ScalarHeadModel NewScalarHead(ulong seed, Device device)
    {
        manual_seed((long)seed);
        if (Source.Folder is not null) return HfModelLoader.LoadScalarHeadFromCausalLM(Source.Folder, device);
        var model = ModelFactory.CreateScalarHead(Config);
        model.to(device);
        return model;
    }
}
