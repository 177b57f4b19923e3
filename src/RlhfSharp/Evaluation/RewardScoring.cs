using RlhfSharp.Generation;
using RlhfSharp.Models;
using RlhfSharp.Tokenization;
using static TorchSharp.torch;

namespace RlhfSharp.Evaluation;

/// <summary>Scores texts with a reward model: the scalar at each text's last real token, batched with right padding.</summary>
public static class RewardScoring
{
    /// <summary>One score per text: encoded with the tokenizer's special tokens, cut to its last max_position_embeddings tokens (the reward model must see the end of a response), and scored at the last real token.</summary>
    public static double[] Score(IScalarHeadModel rewardModel, ITextTokenizer tokenizer, IReadOnlyList<string> texts, Device device, int batchSize = 16)
    {
        var ids = texts.Select(text => Truncate(tokenizer.Encode(text, addSpecialTokens: true), rewardModel.Config.MaxPositions)).ToList();
        return ScalarHeadScoring.Score(rewardModel, ids, tokenizer.PadId ?? 0, device, batchSize);
    }

    /// <summary>Scores token rows (see <see cref="ScalarHeadScoring.Score"/>).</summary>
    public static double[] ScoreIds(IScalarHeadModel rewardModel, IReadOnlyList<IReadOnlyList<int>> ids, int padId, Device device, int batchSize = 16) =>
        ScalarHeadScoring.Score(rewardModel, ids, padId, device, batchSize);

    /// <summary>Keeps the last <paramref name="maxTokens"/> tokens: the reward model must see the end of a response.</summary>
    static IReadOnlyList<int> Truncate(IReadOnlyList<int> ids, int maxTokens) =>
        maxTokens > 0 && ids.Count > maxTokens ? ids.Skip(ids.Count - maxTokens).ToList() : ids;
}
