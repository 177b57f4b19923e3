using static TorchSharp.torch;

namespace RlhfSharp.Generation;

/// <summary>Turns ragged token lists into a padded id tensor and its attention mask (both int64).</summary>
public static class TokenBatch
{
    /// <summary>Prompts for generation: padding on the left, so each row's last token is in the last column.</summary>
    public static (Tensor ids, Tensor mask) LeftPadded(IReadOnlyList<IReadOnlyList<int>> rows, int padId, Device device) => Pad(rows, padId, device, left: true);

    /// <summary>Sequences for scoring and training: padding on the right.</summary>
    public static (Tensor ids, Tensor mask) RightPadded(IReadOnlyList<IReadOnlyList<int>> rows, int padId, Device device) => Pad(rows, padId, device, left: false);

    static (Tensor ids, Tensor mask) Pad(IReadOnlyList<IReadOnlyList<int>> rows, int padId, Device device, bool left)
    {
        int B = rows.Count, T = Math.Max(1, rows.Max(r => r.Count));
        var ids = new long[B * T]; var mask = new long[B * T];
        for (int i = 0; i < B; i++)
        {
            int off = left ? T - rows[i].Count : 0;
            for (int j = 0; j < T; j++)
            {
                int k = j - off;
                bool real = k >= 0 && k < rows[i].Count;
                ids[i * T + j] = real ? rows[i][k] : padId;
                mask[i * T + j] = real ? 1 : 0;
            }
        }
        return (tensor(ids, [B, T]).to(device), tensor(mask, [B, T]).to(device));
    }
}
