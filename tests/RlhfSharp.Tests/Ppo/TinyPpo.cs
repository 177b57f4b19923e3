using RlhfSharp.Data;
using RlhfSharp.Models;
using RlhfSharp.Training.Core;
using RlhfSharp.Training.Losses;
using RlhfSharp.Training.Ppo;
using RlhfSharp.Training.Rl;
using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Ppo;

/// <summary>A tiny PPO setup: 16-token vocabulary, EOS 0, pad 1, reward = occurrences of token 5 in the response.</summary>
static class TinyPpo
{
    public const int Vocab = 16, Eos = 0, Pad = 1, Target = 5;

    public static TransformerConfig Config => TransformerConfig.SmallGpt2(Vocab, layers: 2, dim: 32, heads: 2, ctx: 32) with { EosTokenId = Eos, PadTokenId = Pad, BosTokenId = Eos };

    public static CausalLM Policy(int seed)
    {
        torch.manual_seed(seed);
        return ModelFactory.Create(Config);
    }

    public static List<IReadOnlyList<int>> Prompts(int n, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (IReadOnlyList<int>)Enumerable.Range(0, rng.Next(2, 6)).Select(_ => rng.Next(2, Vocab)).ToList()).ToList();
    }

    /// <summary>A cyclic "language" 2,3,4,...,15,2,3,... with EOS between documents.</summary>
    public static List<PackedBlock> PtxBlocks(int n, int length = 16)
    {
        var rng = new Random(7);
        return Enumerable.Range(0, n).Select(_ =>
        {
            int s = rng.Next(2, Vocab);
            var seq = Enumerable.Range(0, length + 1).Select(i => 2 + (s - 2 + i) % (Vocab - 2)).ToArray();
            return new PackedBlock(seq[..^1], seq[1..]);
        }).ToList();
    }

    public static double CountReward(int[] response) => response.Count(t => t == Target);

    public static PpoConfig BaseConfig => new()
    {
        Iterations = 12, RolloutBatchSize = 32, MiniBatchSize = 16, PpoEpochs = 2, MaxNewTokens = 8, Temperature = 1.0,
        KlCoef = 0.05, PolicyLr = 3e-3, ValueLr = 3e-3, WarmupIterations = 1, PtxCoef = 0, MissingEosPenalty = 0,
        ValueModel = ValueModelKind.SharedTrunk, SaveEvery = 0, Seed = 3,
    };

    public static PpoTrainer Trainer(PpoConfig cfg, CausalLM policy, IReadOnlyList<PackedBlock>? ptx = null) =>
        new(cfg, new PpoModels(policy, ModelFactory.DeepCopy(policy), new FunctionRewardScorer(CountReward), null),
            Prompts(64, 1), ptx, Eos, Pad);

    /// <summary>Mean next-token loss of the model on pretraining blocks.</summary>
    public static double PtxLoss(CausalLM model, IReadOnlyList<PackedBlock> blocks)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var input = tensor(blocks.SelectMany(b => b.Input.Select(x => (long)x)).ToArray(), [blocks.Count, blocks[0].Input.Length]);
        var target = tensor(blocks.SelectMany(b => b.Target.Select(x => (long)x)).ToArray(), [blocks.Count, blocks[0].Target.Length]);
        return LanguageModelObjective.LanguageModelLoss(model.Forward(input), target).item<float>();
    }

    /// <summary>Pretrains the policy on the ptx language so that drift away from it is measurable.</summary>
    public static void Pretrain(CausalLM model, IReadOnlyList<PackedBlock> blocks, int steps)
    {
        using var opt = new RlhfSharp.Training.Core.AdamW(model, new AdamWOptions { Lr = 1e-2, WeightDecay = 0 });
        for (int i = 0; i < steps; i++)
        {
            using var scope = NewDisposeScope();
            var input = tensor(blocks.SelectMany(b => b.Input.Select(x => (long)x)).ToArray(), [blocks.Count, blocks[0].Input.Length]);
            var target = tensor(blocks.SelectMany(b => b.Target.Select(x => (long)x)).ToArray(), [blocks.Count, blocks[0].Target.Length]);
            opt.ZeroGrad();
            LanguageModelObjective.LanguageModelLoss(model.Forward(input), target).backward();
            opt.Step();
        }
    }
}
