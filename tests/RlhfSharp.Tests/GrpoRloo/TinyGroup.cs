using RlhfSharp.Models;
using RlhfSharp.Tests.Ppo;
using RlhfSharp.Training.CriticFree;
using RlhfSharp.Training.Rl;

namespace RlhfSharp.Tests.GrpoRloo;

/// <summary>GRPO and RLOO on PPO's tiny setup (<see cref="TinyPpo"/>): 16-token vocabulary, EOS 0, pad 1, reward = the
/// number of token 5 in the response (closed form: a uniform policy scores about 8/16 per 8-token response).</summary>
static class TinyGroup
{
    static CriticFreeSettings Common => new()
    {
        Iterations = 12, MaxNewTokens = 8, Temperature = 1.0, PolicyLr = 3e-3, SaveEvery = 0, Seed = 3,
    };

    /// <summary>GRPO: 4 prompts x 8 = 32 responses per iteration, one on-policy step each.</summary>
    public static GrpoConfig Grpo => new() { GroupSize = 8, Common = Common with { PromptsPerIteration = 4 } };

    /// <summary>RLOO: 8 prompts x 4 = 32 responses per iteration, one REINFORCE step each.</summary>
    public static RlooConfig Rloo => new() { GroupSize = 4, Common = Common with { PromptsPerIteration = 8 } };

    /// <summary>The reference is the seed-0 policy, whatever weights the policy starts from (a resumed run's policy
    /// starts elsewhere and must be restored from the checkpoint; the frozen reference is not checkpointed).</summary>
    static CriticFreeModels Models(CausalLM policy, Func<int[], double>? reward) =>
        new(policy, TinyPpo.Policy(0), [new RewardTerm("count", new FunctionRewardScorer(reward ?? TinyPpo.CountReward), 1.0)]);

    public static CriticFreeTrainer Trainer(GrpoConfig config, CausalLM policy, Func<int[], double>? reward = null) =>
        new(config, Models(policy, reward), TinyPpo.Prompts(64, 1), TinyPpo.Eos, TinyPpo.Pad);

    public static CriticFreeTrainer Trainer(RlooConfig config, CausalLM policy, Func<int[], double>? reward = null) =>
        new(config, Models(policy, reward), TinyPpo.Prompts(64, 1), TinyPpo.Eos, TinyPpo.Pad);
}
