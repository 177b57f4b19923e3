using RlhfSharp.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Generation;

/// <summary>
/// Batched autoregressive sampling with a KV cache. Prompts are left-padded so every row's next token sits in the
/// last column; the model derives position ids from the attention mask, so padding does not shift positions.
/// The host is asked whether every row has finished only every <see cref="SyncEvery"/> tokens, not per token, and
/// nothing else in the per-token loop reads from the device. Unpadded prompts (all of one length) run without an
/// attention mask, so the prefill takes SDPA's causal fast path and decode steps need no bias.
/// A row ends at <see cref="SamplingOptions.EosId"/> or any of <see cref="SamplingOptions.StopIds"/>; the stop token
/// is kept (ResponseMask covers it) and the row is filled with the pad id after it.
/// </summary>
public static class Sampler
{
    /// <summary>Tokens between host checks of "all rows finished" (each check is a device sync).</summary>
    public const int SyncEvery = 8;

    /// <summary>
    /// Samples up to <see cref="SamplingOptions.MaxNewTokens"/> tokens for each prompt, as one left-padded batch on
    /// <paramref name="device"/>, under no_grad. The result's tensors belong to the caller.
    /// </summary>
    /// <param name="model">the policy; its KV cache is created and freed here.</param>
    /// <param name="prompts">token ids per row; none may be empty.</param>
    /// <param name="options">validated first; a user error names the bad option.</param>
    /// <param name="device">where the batch is built (the model's device).</param>
    public static GenerationResult Generate(ILanguageModel model, IReadOnlyList<IReadOnlyList<int>> prompts, SamplingOptions options, Device device)
    {
        options.Validate();
        if (prompts.Count == 0) throw new UserError("no prompts to generate from");
        if (prompts.Any(p => p.Count == 0)) throw new UserError("an empty prompt cannot be continued (it has no last token)");

        using var outer = NewDisposeScope();
        using var _ = no_grad();
        var (ids, promptMask) = TokenBatch.LeftPadded(prompts, options.PadId, device);   // [B,P], [B,P]
        int B = prompts.Count, P = (int)ids.shape[1];
        // Known on the host, so no device read: an unpadded batch needs no mask now or at any later step (the model
        // would treat an all-ones mask the same, at the cost of a bias per step).
        bool padded = prompts.Any(p => p.Count != P);
        Tensor? mask = padded ? promptMask : null;                                         // [B,P+step] or null
        var generator = SeededGenerator.Create(options.Seed, device);

        using var cache = model.NewCache();
        // Only the last position's logits outlive their step: the prompt's [B,P,V] and each step's [B,V] are freed as
        // soon as the next token is drawn (at a 50k vocabulary they would otherwise pile up to gigabytes).
        Tensor logits;                                                                     // [B,V]
        using (NewDisposeScope()) logits = LastLogits(model.Forward(ids, mask, cache)).MoveToOuterDisposeScope();
        var stopIds = (options.EosId is int e ? new[] { e } : []).Concat(options.StopIds).Distinct().ToList();
        var finished = zeros(B, dtype: ScalarType.Bool, device: device);
        var tokens = new List<Tensor>(); var logps = new List<Tensor>(); var alive = new List<Tensor>();
        for (int step = 0; step < options.MaxNewTokens; step++)
        {
            using var scope = NewDisposeScope();
            var next = Pick(logits, options, generator);                                     // [B]
            double t = options.Greedy ? 1.0 : options.Temperature;
            var lp = nn.functional.log_softmax(logits / t, -1).gather(-1, next.unsqueeze(-1)).squeeze(-1); // [B]
            var live = finished.logical_not();
            next = where(live, next, full_like(next, options.PadId));
            lp = where(live, lp, zeros_like(lp));
            tokens.Add(next.MoveToOuterDisposeScope()); logps.Add(lp.MoveToOuterDisposeScope()); alive.Add(live.MoveToOuterDisposeScope());
            foreach (var stop in stopIds) finished = finished.logical_or(next.eq(stop));
            finished = finished.MoveToOuterDisposeScope();
            if (step == options.MaxNewTokens - 1) break;
            if (stopIds.Count > 0 && step % SyncEvery == SyncEvery - 1 && finished.all().item<bool>()) break;
            if (mask is not null) mask = cat([mask, ones(B, 1, dtype: mask.dtype, device: device)], 1).MoveToOuterDisposeScope();
            var previous = logits;
            logits = LastLogits(model.Forward(next.unsqueeze(-1), mask, cache)).MoveToOuterDisposeScope();
            previous.Dispose();
        }

        var responseIds = stack(tokens, 1);                                  // [B,N]
        var responseMask = stack(alive, 1).to_type(ScalarType.Int64);       // [B,N]
        var result = new GenerationResult
        {
            Sequences = cat([ids, responseIds], 1).MoveToOuterDisposeScope(),
            AttentionMask = cat([promptMask, responseMask], 1).MoveToOuterDisposeScope(),
            ResponseIds = responseIds.MoveToOuterDisposeScope(),
            ResponseMask = responseMask.MoveToOuterDisposeScope(),
            LogProbs = stack(logps, 1).MoveToOuterDisposeScope(),
            PromptLength = P,
        };
        generator?.Dispose();
        return result;
    }

    /// <summary>
    /// N, the response width <see cref="Generate"/> returns for responses of <paramref name="lengths"/> tokens (each
    /// counting its stop token): the token limit when a row never stopped, else the longest response rounded up to
    /// the next host check (every <see cref="SyncEvery"/> tokens), capped at the limit. An external engine that
    /// samples the same tokens builds tensors of this width, so re-scoring sees the very shapes local sampling gives.
    /// </summary>
    public static int ResponseWidth(IReadOnlyList<int> lengths, bool allStopped, int maxNewTokens)
    {
        if (!allStopped || lengths.Count == 0) return maxNewTokens;
        int longest = Math.Max(1, lengths.Max());
        return Math.Min(maxNewTokens, (longest + SyncEvery - 1) / SyncEvery * SyncEvery);
    }

    static Tensor LastLogits(Tensor logits) => logits[.., -1].to_type(ScalarType.Float32); // [B,T,V] -> [B,V]

    /// <summary>Chooses one token per row from logits [B,V]: argmax, or a draw after temperature, top-k and top-p.</summary>
    public static Tensor Pick(Tensor logits, SamplingOptions options, Generator? generator)
    {
        if (options.Greedy) return logits.argmax(-1);
        var scaled = logits / options.Temperature;
        if (options.TopK > 0 && options.TopK < scaled.shape[^1])
        {
            var kth = scaled.topk(options.TopK, dim: -1).values[.., ^1..];          // [B,1]
            scaled = scaled.masked_fill(scaled.lt(kth), float.NegativeInfinity);
        }
        var probs = nn.functional.softmax(scaled, -1);
        if (options.TopP < 1.0)
        {
            var (sorted, order) = torch.sort(probs, -1, descending: true);
            // The nucleus is the smallest prefix whose mass reaches p: drop a token once the mass before it
            // already reaches p. The most likely token always stays (its mass-before is 0 < p).
            var drop = (sorted.cumsum(-1) - sorted).ge(options.TopP);
            sorted = sorted.masked_fill(drop, 0);
            probs = zeros_like(probs).scatter(-1, order, sorted);
        }
        if (options.Rows is { } rows)
        {
            // torch.multinomial's one-sample draw, argmax p / q with q ~ Exp(1) (ATen Distributions.cpp, the exponential
            // race), with q drawn for the whole global batch and this batch's rows taken: every process that samples a
            // part of the batch draws what one process sampling all of it draws (and one process with the slice
            // [0, B) of B rows draws exactly what multinomial draws).
            long b = probs.shape[0];
            if (rows.Offset + b > rows.Total) throw new ArgumentException($"rows [{rows.Offset}, {rows.Offset + b}) exceed the global batch of {rows.Total}");
            var q = empty([rows.Total, probs.shape[1]], probs.dtype, probs.device).exponential_(1, generator)[rows.Offset..(int)(rows.Offset + b)];
            return (probs / q).argmax(-1);
        }
        return multinomial(probs, 1, generator: generator).squeeze(-1);
    }
}
