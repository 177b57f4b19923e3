using RlhfSharp.Models;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Ppo;

/// <summary>A programmatic reward over response token ids — for tests and for tasks with a checkable answer.</summary>
public sealed class FunctionRewardScorer(Func<int[], double> reward) : IRewardScorer
{
    /// <inheritdoc/>
    public Tensor Score(Tensor sequences, Tensor attentionMask, int[][] responses) =>
        tensor(responses.Select(r => (float)reward(r)).ToArray(), device: sequences.device);
}
