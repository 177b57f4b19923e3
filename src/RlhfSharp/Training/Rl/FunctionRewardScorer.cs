using static TorchSharp.torch;

namespace RlhfSharp.Training.Rl;

/// <summary>A programmatic reward over response token ids — for tests and for tasks with a checkable answer.</summary>
public sealed class FunctionRewardScorer : IRewardScorer
{
    readonly Func<int[], long, double> reward;

    /// <summary>A reward of the response ids alone.</summary>
    public FunctionRewardScorer(Func<int[], double> reward) => this.reward = (response, _) => reward(response);

    /// <summary>A reward of the response ids and the index of the row's prompt.</summary>
    public FunctionRewardScorer(Func<int[], long, double> reward) => this.reward = reward;

    /// <inheritdoc/>
    public Tensor Score(Tensor sequences, Tensor attentionMask, int[][] responses, long[] promptIndices) =>
        tensor(responses.Select((r, i) => (float)reward(r, promptIndices[i])).ToArray(), device: sequences.device);
}
