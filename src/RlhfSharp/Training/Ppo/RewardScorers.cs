using RlhfSharp.Models;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Ppo;

/// <summary>What PPO maximises: a score per sampled sequence.</summary>
public interface IRewardScorer
{
    /// <summary>sequences [B,P+N] (left-padded prompt + right-padded response) and mask [B,P+N] on the policy's device;
    /// <paramref name="responses"/> are the response ids cut after EOS. Returns [B] float32 on the same device.</summary>
    Tensor Score(Tensor sequences, Tensor attentionMask, int[][] responses);
}

/// <summary>A learned reward model, frozen, scored at each sequence's last real token; may live on another device/dtype.</summary>
public sealed class ModelRewardScorer(ScalarHeadModel model) : IRewardScorer
{
    public ScalarHeadModel Model { get; } = model;

    public Tensor Score(Tensor sequences, Tensor attentionMask, int[][] responses)
    {
        var dev = Model.Device;
        return Model.Score(sequences.to(dev), attentionMask.to(dev)).to(sequences.device).to_type(ScalarType.Float32);
    }
}

/// <summary>A programmatic reward over response token ids — for tests and for tasks with a checkable answer.</summary>
public sealed class FunctionRewardScorer(Func<int[], double> reward) : IRewardScorer
{
    public Tensor Score(Tensor sequences, Tensor attentionMask, int[][] responses) =>
        tensor(responses.Select(r => (float)reward(r)).ToArray(), device: sequences.device);
}
