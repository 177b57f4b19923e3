using RlhfSharp.Data;
using RlhfSharp.Models;
using RlhfSharp.Tokenization;

namespace RlhfSharp.Bench.Checks;

/// <summary>
/// Tiny synthetic data and a tiny GPT-2 for the device checks: enough to run every phase's code path for a few steps,
/// nothing learned is measured. Everything is a pure function of its seed.
/// </summary>
public static class CheckData
{
    static readonly string[] Names = ["Ada", "Bo", "Cy", "Di", "Ed", "Flo", "Gus", "Hal"];
    static readonly string[] Things = ["a red ball", "a blue cup", "a green hat", "a old map", "a small boat", "a tall lamp"];

    /// <summary>A 2-layer GPT-2 of width 64 for the byte tokenizer (256 bytes + end-of-text + pad).</summary>
    public static TransformerConfig TinyGpt2(int ctx = 128) =>
        TransformerConfig.SmallGpt2(ByteTokenizer.EndOfTextId + 2, layers: 2, dim: 64, heads: 4, ctx: ctx);

    /// <summary>Short sentences for pretraining and the ptx term.</summary>
    public static List<string> Sentences(int count, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => $"{Pick(rng, Names)} has {Pick(rng, Things)}.").ToList();
    }

    /// <summary>Question/answer demonstrations for SFT.</summary>
    public static List<Demonstration> Demonstrations(int count, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ =>
        {
            var (who, what) = (Pick(rng, Names), Pick(rng, Things));
            return Demonstration.FromPair($"What does {who} have?", $"{who} has {what}.");
        }).ToList();
    }

    /// <summary>Comparisons for the reward model and DPO: the chosen answer is polite, the rejected one is not.</summary>
    public static List<Comparison> Comparisons(int count, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ =>
        {
            var (who, what) = (Pick(rng, Names), Pick(rng, Things));
            return new Comparison($"What does {who} have?", $"{who} has {what}, thanks.", $"{what}!!");
        }).ToList();
    }

    /// <summary>RL prompts.</summary>
    public static List<Prompt> Prompts(int count, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => new Prompt($"What does {Pick(rng, Names)} have?")).ToList();
    }

    static string Pick(Random rng, string[] items) => items[rng.Next(items.Length)];
}
