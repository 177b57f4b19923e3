using RlhfSharp.Generation;
using RlhfSharp.Models;
using RlhfSharp.Tokenization;
using static TorchSharp.torch;

namespace RlhfSharp.Evaluation;

/// <summary>Scores texts with a reward model: the scalar at each text's last real token, batched with right padding.</summary>
public static class RewardScoring
{
    public static double[] Score(IScalarHeadModel rm, ITextTokenizer tokenizer, IReadOnlyList<string> texts, Device device, int batchSize = 16)
    {
        var ids = texts.Select(t => (IReadOnlyList<int>)Truncate(tokenizer.Encode(t, addSpecialTokens: true), rm.Config.MaxPositions)).ToList();
        return ScoreIds(rm, ids, tokenizer.PadId ?? 0, device, batchSize);
    }

    public static double[] ScoreIds(IScalarHeadModel rm, IReadOnlyList<IReadOnlyList<int>> ids, int padId, Device device, int batchSize = 16)
    {
        var scores = new List<double>(ids.Count);
        using var _ = no_grad();
        for (int b = 0; b < ids.Count; b += batchSize)
        {
            using var scope = NewDisposeScope();
            var (x, mask) = TokenBatch.RightPadded(ids.Skip(b).Take(batchSize).ToList(), padId, device);
            scores.AddRange(rm.Score(x, mask).to_type(ScalarType.Float64).cpu().data<double>().ToArray());
        }
        return scores.ToArray();
    }

    /// <summary>Keeps the last <paramref name="max"/> tokens: the reward model must see the end of a response.</summary>
    static IReadOnlyList<int> Truncate(IReadOnlyList<int> ids, int max) => max > 0 && ids.Count > max ? ids.Skip(ids.Count - max).ToList() : ids;
}
