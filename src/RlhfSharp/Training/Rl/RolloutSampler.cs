using RlhfSharp.Generation;
using RlhfSharp.Models;
using RlhfSharp.Training.Losses;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Rl;

/// <summary>How a rollout is sampled: response length, temperature, the seed of this iteration's draw, and the stop and pad ids.</summary>
/// <param name="MaxNewTokens">longest response in tokens.</param>
/// <param name="Temperature">sampling temperature, also used when re-scoring (so the ratio and KL compare like with like).</param>
/// <param name="Seed">seed of the sampling generator (<see cref="RolloutSeeds.Sampling"/>).</param>
/// <param name="EosId">the id that ends a response.</param>
/// <param name="PadId">the pad id; never a stop id.</param>
/// <param name="Greedy">decode greedily (checking an engine); re-scoring still uses <paramref name="Temperature"/>.</param>
/// <param name="Rows">with data parallelism, this rank's rows of the global rollout (<see cref="SamplingOptions.Rows"/>,
/// all ranks sampling with the same seed), so the responses do not depend on the number of ranks; null in one process.</param>
public sealed record RolloutSampling(int MaxNewTokens, double Temperature, long Seed, int EosId, int PadId, bool Greedy = false, RowSlice? Rows = null);

/// <summary>
/// Has a rollout engine generate responses (the policy here, or an inference server: <see cref="IRolloutEngine"/>) and
/// scores them without gradients: the policy's own log-probs of the sampled tokens (re-scored at the sampling
/// temperature, N-details), the frozen reference's log-probs (which may live on another device or dtype), and whether
/// each row ended. PPO, GRPO and RLOO all roll out through here.
/// </summary>
public static class RolloutSampler
{
    /// <summary>Samples one response per row of <paramref name="prompts"/> on the policy's device.</summary>
    /// <param name="policy">the trained policy (sampled from, and re-scored).</param>
    /// <param name="reference">the frozen reference (SFT) model.</param>
    /// <param name="prompts">prompt ids, one list per row (a group method repeats each prompt G times).</param>
    /// <param name="promptIndices">[B] each row's prompt index, carried into <see cref="Rollout.PromptIndices"/>.</param>
    /// <param name="options">length, temperature, seed, stop and pad ids.</param>
    /// <param name="referenceScope">opened around the reference's forward; with LoRA, where the reference is the policy
    /// itself, it switches the adapters off. Null: nothing to switch.</param>
    /// <param name="engine">who generates the responses; null: the policy here (<see cref="LocalRolloutEngine"/>).</param>
    /// <param name="iteration">iterations done so far (a server engine syncs the policy's weights by it).</param>
    public static Rollout Sample(CausalLM policy, CausalLM reference, IReadOnlyList<IReadOnlyList<int>> prompts, long[] promptIndices, RolloutSampling options,
                                 Func<IDisposable?>? referenceScope = null, IRolloutEngine? engine = null, int iteration = 0)
    {
        var device = policy.Device;
        var gen = (engine ?? LocalRolloutEngine.Instance).Generate(policy, prompts, options, iteration);
        var responses = gen.Responses();
        gen.LogProbs.Dispose();   // re-scored below by a full forward pass, as the update will score them

        using var _ = no_grad();
        int P = gen.PromptLength;
        var seq = gen.Sequences; var mask = gen.AttentionMask; var resp = gen.ResponseIds;        // [B,P+N], [B,P+N], [B,N]
        var respMask = gen.ResponseMask.to_type(ScalarType.Float32);                               // [B,N]
        gen.ResponseMask.Dispose();

        var hidden = policy.ForwardHidden(seq, mask);                                              // [B,P+N,C]
        var oldLogp = ResponseLogProbs.Chunked(hidden, policy.LmHeadWeight, P, resp, options.Temperature);   // [B,N]

        var refDev = reference.Device;
        Tensor refHidden;
        using (referenceScope?.Invoke()) refHidden = reference.ForwardHidden(seq.to(refDev), mask.to(refDev));
        var refLogp = ResponseLogProbs.Chunked(refHidden, reference.LmHeadWeight, P, resp.to(refDev), options.Temperature).to(device); // [B,N]
        var ended = resp.eq(options.EosId).logical_and(respMask.to_type(ScalarType.Bool)).any(-1);   // [B]
        return new Rollout
        {
            Sequences = seq, AttentionMask = mask, Responses = resp, ResponseMask = respMask, PolicyHidden = hidden,
            OldLogProbs = oldLogp, RefLogProbs = refLogp, Ended = ended, PromptLength = P, ResponseIds = responses, PromptIndices = promptIndices,
        };
    }
}

/// <summary>
/// The seeds of an RL trainer's random streams, pure functions of (seed, iteration), so a resumed run
/// redraws exactly what an uninterrupted one would, under any number of data-parallel ranks.
/// </summary>
public static class RolloutSeeds
{
    /// <summary>Sampling seed = seed · stride + iteration: a prime above any iteration count, so no two
    /// (seed, iteration) pairs share a sampling seed.</summary>
    const ulong SamplingSeedStride = 1_000_003;
    /// <summary>Minibatch order seed = seed XOR (this · (iteration + 1)): a large odd multiplier (a Weyl-sequence step),
    /// so consecutive iterations get far-apart seeds, different from the prompt sampler's epoch seeds.</summary>
    const ulong MinibatchSeedMultiplier = 0xD1B54A32D192ED03UL;

    /// <summary>Seed of iteration <paramref name="iteration"/>'s sampling generator; with data parallelism every rank
    /// uses it and draws its rows' share of the global noise (<see cref="RolloutSampling.Rows"/>).</summary>
    public static long Sampling(ulong seed, int iteration) => (long)(seed * SamplingSeedStride + (ulong)iteration) & long.MaxValue;

    /// <summary>Seed of the minibatch order of iteration <paramref name="iteration"/> (epoch by epoch through <see cref="Core.EpochSampler.Permutation"/>).</summary>
    public static ulong Minibatch(ulong seed, int iteration) => seed ^ (MinibatchSeedMultiplier * (ulong)(iteration + 1));
}
