using RlhfSharp.Checkpoints;
using RlhfSharp.Models;
using RlhfSharp.Tests.Infrastructure;
using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Models;

/// <summary>Reads a fixture's reference.safetensors and compares tensors the way DESIGN.md's tolerances say.</summary>
public static class FixtureHelpers
{
    public static readonly string[] LmFixtures =
    [
        "gpt2-tiny", "llama-tiny", "qwen2-tiny", "llama-tiny-sharded", "llama-tiny-bf16",
        "llama3-rope-tiny", "llama3-rope-tiny-v4config", "mistral-tiny",
    ];
    public static readonly string[] RewardFixtures = ["llama-tiny-reward", "gpt2-tiny-reward"];

    public static IEnumerable<object[]> Lm => LmFixtures.Select(f => new object[] { f });
    public static IEnumerable<object[]> Reward => RewardFixtures.Select(f => new object[] { f });

    public static Dictionary<string, Tensor> Reference(string fixture) =>
        SafetensorsFile.Load(Path.Combine(SharedPaths.Fixture(fixture), "reference.safetensors"));

    /// <summary>‖out − ref‖ / ‖ref‖ in float64.</summary>
    public static double RelErr(Tensor output, Tensor reference)
    {
        using var scope = torch.NewDisposeScope();
        var o = output.to(ScalarType.Float64); var r = reference.to(ScalarType.Float64);
        return (o - r).norm().item<double>() / r.norm().item<double>();
    }

    /// <summary>
    /// Greedy decoding with the KV cache: prefill the prompt [B,P], then feed one token at a time.
    /// Returns [B, P + newTokens].
    /// </summary>
    public static Tensor Greedy(ILanguageModel model, Tensor prompt, int newTokens)
    {
        using var _ = torch.no_grad();
        using var cache = model.NewCache();
        long B = prompt.shape[0];
        var ids = prompt;
        var step = prompt;
        for (int i = 0; i < newTokens; i++)
        {
            var mask = torch.ones(B, cache.Length + step.shape[1], dtype: ScalarType.Int64);
            var logits = model.Forward(step, mask, cache);                        // [B,T,V]
            step = logits.select(1, -1).argmax(-1, keepdim: true);                 // [B,1]
            ids = torch.cat([ids, step], 1);
        }
        return ids;
    }
}
