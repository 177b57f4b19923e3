using RlhfSharp.Generation;
using RlhfSharp.Models;
using static TorchSharp.torch;

namespace RlhfSharp.Bench;

/// <summary>
/// Generation throughput with the KV cache: random prompts of PromptLen tokens, NewTokens sampled tokens per row
/// (temperature 1, no EOS, so every row runs to the limit). tokens/s = batch * NewTokens / seconds (prefill included).
/// </summary>
public static class GenerationBench
{
    public static double TokensPerSecond(CausalLM model, BenchOptions o, int batch, Device device)
    {
        var rng = new Random(1234);
        var prompts = Enumerable.Range(0, batch)
            .Select(_ => (IReadOnlyList<int>)Enumerable.Range(0, o.PromptLen).Select(_ => rng.Next(o.Vocab)).ToArray()).ToList();
        var options = new SamplingOptions { MaxNewTokens = o.NewTokens, Temperature = 1.0, Seed = 1, EosId = null, PadId = 0 };
        void Run() { using var r = Sampler.Generate(model, prompts, options, device); }
        Run();                                                   // warm-up: allocator, kernels
        double best = double.MaxValue;
        for (int i = 0; i < 3; i++) best = Math.Min(best, Timing.Seconds(device, Run));
        return batch * (double)o.NewTokens / best;
    }
}
