using static TorchSharp.torch;

namespace RlhfSharp.Training.Rl;

/// <summary>What the RL trainers (PPO, GRPO, RLOO) maximise: a score per sampled sequence.</summary>
public interface IRewardScorer
{
    /// <summary>Scores one rollout batch.</summary>
    /// <param name="sequences">[B,P+N] left-padded prompts followed by right-padded responses, on the policy's device.</param>
    /// <param name="attentionMask">[B,P+N] 1 on real tokens.</param>
    /// <param name="responses">the response ids of each row, cut after the stop token (kept).</param>
    /// <param name="promptIndices">[B] each row's prompt, as an index into the trainer's prompt list (a verifiable reward
    /// looks up the prompt's answer with it).</param>
    /// <returns>[B] float32 on the device of <paramref name="sequences"/>.</returns>
    Tensor Score(Tensor sequences, Tensor attentionMask, int[][] responses, long[] promptIndices);
}
