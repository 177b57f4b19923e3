namespace RlhfSharp.Generation;

/// <summary>
/// How to pick each next token. Greedy ignores temperature, top-k and top-p.
/// Defaults follow Hugging Face <c>generate</c>: temperature 1, no top-k (0), no top-p (1.0).
/// </summary>
public sealed record SamplingOptions
{
    /// <summary>Most tokens sampled per row (default 64); at least 1.</summary>
    public int MaxNewTokens { get; init; } = 64;
    /// <summary>Argmax decoding instead of sampling.</summary>
    public bool Greedy { get; init; }
    /// <summary>Logits are divided by it before sampling; must be &gt; 0 unless greedy (default 1, as HF <c>generate</c>).</summary>
    public double Temperature { get; init; } = 1.0;
    /// <summary>Keep only the k most likely tokens; 0 keeps all.</summary>
    public int TopK { get; init; }
    /// <summary>Nucleus sampling: keep the smallest set whose probability reaches p; 1.0 keeps all.</summary>
    public double TopP { get; init; } = 1.0;
    /// <summary>Seed for the sampler's own generator, so sampling does not disturb the global RNG; null draws from the global one.</summary>
    public long? Seed { get; init; }
    /// <summary>Generation stops for a row once it emits this id. Null: only the token limit stops.</summary>
    public int? EosId { get; init; }
    /// <summary>Further ids that also end a row (e.g. a chat format's end-of-turn token, or the extra ids of a
    /// generation_config.json <c>eos_token_id</c> list). Empty by default.</summary>
    public IReadOnlyList<int> StopIds { get; init; } = [];
    /// <summary>Fills prompts on the left and finished rows on the right. Must differ from EOS, so a pad never reads as "ended".</summary>
    public int PadId { get; init; }

    /// <summary>Data-parallel sampling: this batch is rows [Offset, Offset + B) of a global batch of Total rows whose
    /// other rows other processes sample with the same <see cref="Seed"/>. Each step draws the noise of the whole global
    /// batch and uses this batch's rows, so a row's tokens do not depend on how the global batch is split. Null: this
    /// batch is the whole batch.</summary>
    public RowSlice? Rows { get; init; }

    /// <summary>Whether any id ends generation (<see cref="EosId"/> or <see cref="StopIds"/>).</summary>
    public bool HasStop => EosId is not null || StopIds.Count > 0;

    /// <summary>Throws a <see cref="UserError"/> naming the first bad option (limits, temperature, top-k/top-p, a pad id that is also a stop id).</summary>
    public void Validate()
    {
        if (MaxNewTokens < 1) throw new UserError($"max-new-tokens must be at least 1 (got {MaxNewTokens})");
        if (!Greedy && !(Temperature > 0)) throw new UserError($"temperature must be > 0 (got {Temperature}); use greedy decoding instead of 0");
        if (TopK < 0) throw new UserError($"top-k must be >= 0 (got {TopK})");
        if (!(TopP > 0 && TopP <= 1)) throw new UserError($"top-p must be in (0, 1] (got {TopP})");
        if (EosId is int e && e == PadId) throw new UserError($"the pad id equals the EOS id ({e}); EOS is never used as padding");
        if (Rows is { } rows && (rows.Offset < 0 || rows.Total < 1 || rows.Offset >= rows.Total))
            throw new UserError($"row slice [{rows.Offset}, ...) does not lie in a global batch of {rows.Total} rows");
        if (StopIds.Contains(PadId)) throw new UserError($"the pad id {PadId} is also a stop id; a stop token is never used as padding");
    }
}

/// <summary>Rows [<paramref name="Offset"/>, Offset + B) of a global batch of <paramref name="Total"/> rows (<see cref="SamplingOptions.Rows"/>).</summary>
public readonly record struct RowSlice(int Offset, int Total);
