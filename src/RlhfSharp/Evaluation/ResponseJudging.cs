using RlhfSharp.Checkpoints;
using RlhfSharp.Data;
using RlhfSharp.Models;
using RlhfSharp.Tokenization;
using static TorchSharp.torch;

namespace RlhfSharp.Evaluation;

/// <summary>
/// A reward model's score of (prompt, response) texts, read the way it was trained to read them
/// (<see cref="ScoredConversation"/>): the prompt's conversation rendered by the reward model's own chat format and
/// tokenizer, the reply, and its end-of-reply token, where the score is read. Working from text makes it independent of
/// the tokenizer of the model that wrote the response, so models with different tokenizers are judged alike. A row
/// longer than the reward model's context keeps its last tokens (the score must see the end of the reply).
/// </summary>
public static class ResponseJudging
{
    /// <summary>
    /// The reward model's score of each (prompt, response) row, in row order, read as described above; rows are batched
    /// <paramref name="batchSize"/> at a time, right-padded with the folder's pad id.
    /// </summary>
    public static double[] Score(IScalarHeadModel rewardModel, ModelFolder rewardFolder, IReadOnlyList<(Prompt Prompt, string Response)> rows,
        Device device, int batchSize = 16)
    {
        int context = rewardModel.Config.MaxPositions;
        var ids = rows.Select(row =>
        {
            var all = ScoredConversation.Encode(PolicySampling.Messages(row.Prompt), row.Response, rewardFolder.ChatFormat, rewardFolder.Tokenizer,
                rewardFolder.ResponseEndId).All;
            return (IReadOnlyList<int>)(context > 0 && all.Length > context ? all[^context..] : all);
        }).ToList();
        return RewardScoring.ScoreIds(rewardModel, ids, rewardFolder.PadId, device, batchSize);
    }
}
