using RlhfSharp.Models;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Rl;

/// <summary>A learned reward model, frozen, scored at each sequence's last real token; may live on another device/dtype.</summary>
public sealed class ModelRewardScorer(ScalarHeadModel model) : IRewardScorer
{
    /// <summary>The frozen reward model.</summary>
    public ScalarHeadModel Model { get; } = model;

    /// <inheritdoc/>
    public Tensor Score(Tensor sequences, Tensor attentionMask, int[][] responses, long[] promptIndices)
    {
        var dev = Model.Device;
        return Model.Score(sequences.to(dev), attentionMask.to(dev)).to(sequences.device).to_type(ScalarType.Float32);
    }
}
