using static TorchSharp.torch;

namespace RlhfSharp.Generation;

/// <summary>
/// A batch of sampled continuations. Tensors live on the model's device and belong to the caller (dispose them).
/// Prompts are left-padded to a common length P; responses are right-padded with the pad id after EOS.
/// </summary>
public sealed class GenerationResult : IDisposable
{
    /// <summary>[B, P + N]: left-padded prompts followed by responses.</summary>
    public required Tensor Sequences { get; init; }
    /// <summary>[B, P + N]: 1 on real prompt and response tokens (EOS included), 0 on padding.</summary>
    public required Tensor AttentionMask { get; init; }
    /// <summary>[B, N]: the sampled tokens, pad after the row's EOS.</summary>
    public required Tensor ResponseIds { get; init; }
    /// <summary>[B, N]: 1 up to and including EOS.</summary>
    public required Tensor ResponseMask { get; init; }
    /// <summary>[B, N]: log p(token) under the temperature-scaled distribution (before top-k/top-p), 0 on padding.</summary>
    public required Tensor LogProbs { get; init; }
    /// <summary>P, the common (left-padded) prompt length: responses start at column P of <see cref="Sequences"/>.</summary>
    public required int PromptLength { get; init; }

    /// <summary>
    /// A batch from responses sampled elsewhere (an inference server), laid out exactly as <see cref="Sampler.Generate"/>
    /// lays out its own: prompts left-padded to P, responses right-padded with <paramref name="padId"/> to
    /// <paramref name="width"/> (<see cref="Sampler.ResponseWidth"/>), the mask 1 up to and including the stop token.
    /// </summary>
    /// <param name="prompts">prompt ids per row.</param>
    /// <param name="responses">response ids per row, the stop token kept; none longer than <paramref name="width"/>.</param>
    /// <param name="logProbs">per row, the log-probs the engine reported for the response tokens (0 where it gave none).</param>
    /// <param name="width">N, the response columns.</param>
    /// <param name="padId">the pad id.</param>
    /// <param name="device">where the tensors are built.</param>
    public static GenerationResult FromResponses(IReadOnlyList<IReadOnlyList<int>> prompts, IReadOnlyList<int[]> responses, IReadOnlyList<float[]> logProbs,
        int width, int padId, Device device)
    {
        if (responses.Any(r => r.Length > width)) throw new ArgumentException($"a response is longer than the width {width}");
        using var scope = NewDisposeScope();
        var (ids, promptMask) = TokenBatch.LeftPadded(prompts, padId, device);                 // [B,P], [B,P]
        int B = prompts.Count;
        var respIds = new long[B * width]; var respMask = new long[B * width]; var lps = new float[B * width];
        for (int i = 0; i < B; i++)
            for (int j = 0; j < width; j++)
            {
                bool real = j < responses[i].Length;
                respIds[i * width + j] = real ? responses[i][j] : padId;
                respMask[i * width + j] = real ? 1 : 0;
                lps[i * width + j] = real && j < logProbs[i].Length ? logProbs[i][j] : 0f;
            }
        var responseIds = tensor(respIds, [B, width]).to(device);                                  // [B,N]
        var responseMask = tensor(respMask, [B, width]).to(device);                                // [B,N]
        return new GenerationResult
        {
            Sequences = cat([ids, responseIds], 1).MoveToOuterDisposeScope(),
            AttentionMask = cat([promptMask, responseMask], 1).MoveToOuterDisposeScope(),
            ResponseIds = responseIds.MoveToOuterDisposeScope(),
            ResponseMask = responseMask.MoveToOuterDisposeScope(),
            LogProbs = tensor(lps, [B, width]).to(device).MoveToOuterDisposeScope(),
            PromptLength = (int)ids.shape[1],
        };
    }

    /// <summary>Host copy of each response's ids, cut after EOS (EOS kept).</summary>
    public int[][] Responses()
    {
        using var ids = ResponseIds.cpu();
        using var mask = ResponseMask.cpu();
        long b = ids.shape[0], n = ids.shape[1];
        var flat = ids.to_type(TorchSharp.torch.ScalarType.Int64).data<long>().ToArray();
        var m = mask.to_type(TorchSharp.torch.ScalarType.Int64).data<long>().ToArray();
        var rows = new int[b][];
        for (long i = 0; i < b; i++)
        {
            var row = new List<int>();
            for (long j = 0; j < n && m[i * n + j] != 0; j++) row.Add((int)flat[i * n + j]);
            rows[i] = row.ToArray();
        }
        return rows;
    }

    /// <summary>[B] on host: whether each response ended with EOS (false = hit the token limit).</summary>
    public bool[] EndedWithEos(int eosId)
    {
        var r = Responses();
        return r.Select(x => x.Length > 0 && x[^1] == eosId).ToArray();
    }

    /// <summary>Disposes the five tensors.</summary>
    public void Dispose()
    {
        Sequences.Dispose(); AttentionMask.Dispose(); ResponseIds.Dispose(); ResponseMask.Dispose(); LogProbs.Dispose();
    }
}
