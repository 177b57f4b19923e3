using RlhfSharp.Generation;

namespace RlhfSharp.Serving;

/// <summary>
/// One request's decoding settings, in the terms an API caller uses (OpenAI's and <c>Microsoft.Extensions.AI</c>'s
/// <c>ChatOptions</c>): temperature 0 means greedy; null fields take <see cref="SamplingOptions"/>'s defaults
/// (temperature 1, no top-k, top-p 1) and, for <see cref="MaxTokens"/>, the rest of the model's context.
/// </summary>
public sealed record TextGenerationOptions
{
    /// <summary>Most new tokens; null: whatever the context leaves after the prompt.</summary>
    public int? MaxTokens { get; init; }
    /// <summary>0 means greedy (argmax); null means 1 (the model's own distribution).</summary>
    public double? Temperature { get; init; }
    /// <summary>Nucleus sampling in (0, 1]; null means 1 (off).</summary>
    public double? TopP { get; init; }
    /// <summary>Keep only the K most likely tokens; null or 0 keeps all.</summary>
    public int? TopK { get; init; }
    /// <summary>Seed of the sampler's own generator (reproducible samples); null draws from the global one.</summary>
    public long? Seed { get; init; }
    /// <summary>Texts that end the response; the text is cut before the first one that appears (it is not returned).</summary>
    public IReadOnlyList<string> StopSequences { get; init; } = [];

    /// <summary>More token ids that end the response, besides the model's own (vLLM's stop_token_ids); the id is kept.</summary>
    public IReadOnlyList<int> StopTokenIds { get; init; } = [];
    /// <summary>Do not stop at the model's own stop ids, only at <see cref="StopTokenIds"/> or the limit (vLLM's ignore_eos).</summary>
    public bool IgnoreEos { get; init; }
    /// <summary>Report each token's log-prob in <see cref="GenerationUpdate.LogProb"/>.</summary>
    public bool LogProbs { get; init; }

    /// <summary>Whether these settings decode greedily.</summary>
    public bool Greedy => Temperature is 0;
}

/// <summary>Why a response ended: a stop token or stop sequence, or the token limit.</summary>
public enum GenerationFinish
{
    /// <summary>The model emitted a stop id (end of turn / EOS), or the text reached a stop sequence.</summary>
    Stop,
    /// <summary>The token limit was reached first.</summary>
    Length,
}

/// <summary>
/// One step of a streamed response: <see cref="Text"/> is the newly completed text (possibly empty, never half a
/// character); the last update has <see cref="Finish"/> set. Token counts are running totals. Each update is one
/// generated token: <see cref="TokenId"/>, and its log-prob under the model (before temperature) when asked for.
/// </summary>
public sealed record GenerationUpdate(string Text, int PromptTokens, int OutputTokens, GenerationFinish? Finish, int TokenId = -1, float? LogProb = null);
