using RlhfSharp.Configuration;

namespace RlhfSharp.Training.Rl;

/// <summary>
/// Where an RL phase's responses are generated (PPO, GRPO, RLOO): in this process (<c>local</c>), or by an
/// OpenAI-compatible inference server such as vLLM or <c>rlhf serve</c> (<c>openai</c>), which is sent the policy's
/// weights every <see cref="SyncEvery"/> iterations. Either way the trainer re-scores the sampled tokens itself, so
/// PPO's maths is the same (OpenRLHF's vLLM rollouts work the same way).
/// </summary>
public sealed record RolloutEngineSettings
{
    /// <summary>The engine names.</summary>
    public const string Local = "local", OpenAi = "openai";

    /// <summary><c>local</c> (default) or <c>openai</c>.</summary>
    public string Engine { get; init; } = Local;
    /// <summary>The server's base URL (e.g. http://127.0.0.1:8000; a trailing /v1 is accepted); only with <c>openai</c>.</summary>
    public string? Url { get; init; }
    /// <summary>The served name of the starting policy; null: the first model the server lists at GET /v1/models.</summary>
    public string? Model { get; init; }
    /// <summary>Send the policy's weights to the server every N iterations (1: before every rollout, fully on-policy).</summary>
    public int SyncEvery { get; init; } = 1;
    /// <summary>Decode greedily instead of sampling (for checking an engine; not for training: the ratio and KL are
    /// still computed at the sampling temperature).</summary>
    public bool Greedy { get; init; }

    /// <summary>Whether an inference server generates.</summary>
    public bool UsesServer => Engine == OpenAi;

    /// <summary>The rollout-engine settings as schema entries of a phase's config, declared once here.</summary>
    /// <param name="get">reads the config's <see cref="RolloutEngineSettings"/>.</param>
    /// <param name="with">returns the config with other rollout-engine settings.</param>
    public static IEnumerable<Setting<TConfig>> For<TConfig>(Func<TConfig, RolloutEngineSettings> get, Func<TConfig, RolloutEngineSettings, TConfig> with)
    {
        Setting<TConfig> Make<TValue>(string key, string valueName, string help, string? source, Func<RolloutEngineSettings, TValue> read,
            Func<RolloutEngineSettings, TValue, RolloutEngineSettings> write, Func<TValue, string?>? rule = null) =>
            new Setting<TConfig, TValue>(key, help, source, valueName, c => read(get(c)), (c, v) => with(c, write(get(c), v)), rule);

        yield return Make("rollout_engine", "ENGINE", "Who generates the responses: local (this process) or openai (an OpenAI-compatible server at rollout_url, e.g. vLLM or rlhf serve, asked for token ids; the trainer re-scores them itself).", "OpenRLHF vLLM rollouts",
            s => s.Engine, (s, v) => s with { Engine = v }, Rules.OneOf(Local, OpenAi));
        yield return Make("rollout_url", "URL", "Base URL of the inference server (rollout_engine openai), e.g. http://127.0.0.1:8000.", null,
            s => s.Url, (s, v) => s with { Url = v is null || v.Trim().ToLowerInvariant() is "none" or "" ? null : v.Trim() }, UrlProblem);
        yield return Make("rollout_model", "NAME", "Served name of the starting policy on the server; none = the first model at GET /v1/models.", null,
            s => s.Model, (s, v) => s with { Model = v is null || v.Trim().ToLowerInvariant() is "none" or "" ? null : v.Trim() });
        yield return Make("sync_every", "N", "Send the policy's weights (its LoRA adapter when LoRA is on) to the server every N iterations; 1 = every rollout is on-policy.", null,
            s => s.SyncEvery, (s, v) => s with { SyncEvery = v }, Rules.AtLeast(1));
        yield return Make("rollout_greedy", "BOOL", "Decode greedily instead of sampling: for checking an engine against local sampling, not for training (the ratio and KL stay at the sampling temperature).", null,
            s => s.Greedy, (s, v) => s with { Greedy = v });
    }

    /// <summary>The rule across the settings, reported under rollout_url: a URL exactly when the engine is openai.</summary>
    public static string? Problem(RolloutEngineSettings settings) => (settings.UsesServer, settings.Url) switch
    {
        (true, null) => "is required with rollout_engine openai (the server's base URL, e.g. http://127.0.0.1:8000)",
        (false, not null) => "is only used with rollout_engine openai; set rollout_engine openai, or leave rollout_url out",
        _ => null,
    };

    static string? UrlProblem(string? url) =>
        url is null || Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" ? null
            : $"must be an http(s) URL such as http://127.0.0.1:8000, got '{url}'";
}
