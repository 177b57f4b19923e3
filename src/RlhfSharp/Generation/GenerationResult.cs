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
