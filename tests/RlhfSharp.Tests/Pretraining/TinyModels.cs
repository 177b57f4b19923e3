using Xunit;
using RlhfSharp.Data;
using RlhfSharp.Models;
using RlhfSharp.Tokenization;
using RlhfSharp.Training.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Pretraining;

/// <summary>Tiny models and synthetic preferences shared by the trainer tests (byte tokenizer, GPT-2 shape).</summary>
public static class TinyModels
{
    public static TransformerConfig Config(int ctx = 64, int dim = 32, int layers = 2) =>
        TransformerConfig.SmallGpt2(ByteTokenizer.EndOfTextId + 2, layers, dim, 2, ctx) with
        { BosTokenId = ByteTokenizer.EndOfTextId, EosTokenId = ByteTokenizer.EndOfTextId, PadTokenId = ByteTokenizer.PadTokenId };

    public static CausalLM Lm(long seed, int ctx = 64, int dim = 32)
    {
        torch.manual_seed(seed);
        return ModelFactory.Create(Config(ctx, dim));
    }

    public static ScalarHeadModel Rm(long seed, int ctx = 64, int dim = 32)
    {
        torch.manual_seed(seed);
        return ModelFactory.CreateScalarHead(Config(ctx, dim));
    }

    public static TrainingConfig Fast(long steps, double lr = 3e-3) => new()
    {
        MaxSteps = steps, Lr = lr, WarmupSteps = Math.Min(5, steps - 1), WeightDecay = 0.0, EvalInterval = 0,
        SaveInterval = 0, LogInterval = 5, KeepCheckpoints = 2, Seed = 7,
    };

    /// <summary>
    /// A learnable preference: the rejected response is random lowercase letters; the chosen one is the same with one
    /// letter replaced by the marker '#'. The pairs differ only there, so a model must find the marker.
    /// </summary>
    public static List<Comparison> MarkerPairs(int n, int seed)
    {
        var rng = new Random(seed);
        var list = new List<Comparison>();
        for (int i = 0; i < n; i++)
        {
            var word = new string(Enumerable.Range(0, 8).Select(_ => (char)('a' + rng.Next(26))).ToArray());
            var chars = word.ToCharArray();
            chars[rng.Next(chars.Length)] = '#';
            list.Add(new Comparison($"say {rng.Next(100)}", new string(chars), word));
        }
        return list;
    }

    public static Dictionary<string, float[]> Snapshot(nn.Module m) =>
        m.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.to(ScalarType.Float32).cpu().data<float>().ToArray());

    public static void AssertBitwiseEqual(nn.Module a, nn.Module b)
    {
        var sa = Snapshot(a); var sb = Snapshot(b);
        Assert.Equal(sa.Keys.Order(), sb.Keys.Order());
        foreach (var (k, v) in sa) Assert.True(v.SequenceEqual(sb[k]), $"parameter {k} differs");
    }
}

/// <summary>Stops a run right after the checkpoint of <paramref name="step"/> is written, as an interruption would.</summary>
public sealed class InterruptAfterCheckpoint(long step) : ITrainingProgress
{
    public void Report(ProgressUpdate update) { }
    public void Message(string text)
    {
        if (text.Contains("checkpoint") && text.Contains(CheckpointStore.FolderName(step))) throw new InterruptedException();
    }
    public sealed class InterruptedException : Exception;
}

/// <summary>Collects messages (for printing figures in test output).</summary>
public sealed class CollectingProgress : ITrainingProgress
{
    public List<string> Messages { get; } = [];
    public void Report(ProgressUpdate update) { }
    public void Message(string text) => Messages.Add(text);
}
