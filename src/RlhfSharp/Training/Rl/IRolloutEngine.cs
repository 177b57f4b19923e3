using RlhfSharp.Generation;
using RlhfSharp.Models;

namespace RlhfSharp.Training.Rl;

/// <summary>
/// Generates a rollout's responses: in this process (<see cref="LocalRolloutEngine"/>) or on an inference server
/// (<see cref="OpenAiRolloutEngine"/>). Either way the result is laid out as <see cref="Sampler.Generate"/> lays it out
/// (left-padded prompts, responses ending at the stop token and right-padded), and <see cref="RolloutSampler"/>
/// re-scores it with the policy and the reference, so the trainer's maths does not depend on the engine.
/// </summary>
public interface IRolloutEngine : IDisposable
{
    /// <summary>One response per row of <paramref name="prompts"/>, as of iteration <paramref name="iteration"/>
    /// (an engine that holds its own copy of the policy brings it up to date first, when due).</summary>
    /// <param name="policy">the trained policy, as it is now.</param>
    /// <param name="prompts">prompt ids per row.</param>
    /// <param name="options">length, temperature, seed, stop and pad ids.</param>
    /// <param name="iteration">iterations done so far (0 = the starting policy).</param>
    GenerationResult Generate(CausalLM policy, IReadOnlyList<IReadOnlyList<int>> prompts, RolloutSampling options, int iteration);
}

/// <summary>Samples with the policy in this process, on its device (KV cache, batched, seeded per iteration).</summary>
public sealed class LocalRolloutEngine : IRolloutEngine
{
    /// <summary>The one instance (it holds nothing).</summary>
    public static LocalRolloutEngine Instance { get; } = new();

    /// <inheritdoc/>
    public GenerationResult Generate(CausalLM policy, IReadOnlyList<IReadOnlyList<int>> prompts, RolloutSampling options, int iteration) =>
        Sampler.Generate(policy, prompts, new SamplingOptions
        {
            MaxNewTokens = options.MaxNewTokens, Greedy = options.Greedy, Temperature = options.Temperature, Seed = options.Seed,
            EosId = options.EosId, PadId = options.PadId, Rows = options.Rows,
        }, policy.Device);

    /// <summary>Nothing to free.</summary>
    public void Dispose() { }
}

/// <summary>Opens the engine a phase's <see cref="RolloutEngineSettings"/> name.</summary>
public static class RolloutEngines
{
    /// <summary>The folder under a phase's output where the synced policy is written for the server.</summary>
    public const string SyncFolder = "rollout-sync";

    /// <summary>The local engine, or an <see cref="OpenAiRolloutEngine"/> that writes the policy under <c>output/rollout-sync</c>.</summary>
    /// <param name="settings">the phase's rollout-engine settings (validated).</param>
    /// <param name="snapshot">how the policy is written for the server.</param>
    /// <param name="outputDir">the phase's output folder.</param>
    /// <param name="log">progress messages.</param>
    public static IRolloutEngine Open(RolloutEngineSettings settings, PolicySnapshot snapshot, string outputDir, Action<string>? log = null) =>
        settings.UsesServer ? new OpenAiRolloutEngine(settings, snapshot, Path.Combine(outputDir, SyncFolder), log) : LocalRolloutEngine.Instance;
}
