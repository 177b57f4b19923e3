using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RlhfSharp.Models;

/// <summary>
/// HF <c>*ForSequenceClassification</c> with num_labels = 1: backbone + <c>score</c> Linear(C, 1, no bias).
/// The reward model, and PPO's value model. A normalised reward model (<see cref="Normalization"/>) adds its
/// run-time shift to every output, so every reader of <see cref="Score"/> or <see cref="ForwardValues"/> (PPO, eval,
/// best-of-n) gets normalised scores whether or not the architecture could fold the shift into its weights.
/// </summary>
public sealed class ScalarHeadModel : HfModel, IScalarHeadModel
{
    /// <summary>The scalar head, Linear(C, 1) without bias (HF <c>score</c>).</summary>
    public readonly Linear score;   // C -> 1

    /// <summary>The reward normalisation applied to this head, or null; loaded from and saved to
    /// <c>reward_normalization.json</c> beside the weights.</summary>
    public ScoreNormalization? Normalization { get; set; }

    /// <summary>A scalar-head model for <paramref name="config"/>, with num_labels = 1 and the family's <c>*ForSequenceClassification</c> architecture.</summary>
    public ScalarHeadModel(TransformerConfig config)
        : base(nameof(ScalarHeadModel), config with
        {
            NumLabels = 1,
            Architectures = [config.SequenceClassificationArchitecture],
        })
    {
        score = nn.Linear(config.HiddenSize, 1, hasBias: false);
        register_module("score", score);
    }

    /// <inheritdoc />
    public Tensor ForwardValues(Tensor inputIds, Tensor? attentionMask = null)
    {
        using var scope = torch.NewDisposeScope();
        var h = Backbone.Forward(inputIds, attentionMask, null);                        // [B,T,C]
        var values = AtLeastFloat32(score.forward(h).squeeze(-1));                     // [B,T]
        // A constant: it moves scores, not their gradients.
        if (Normalization?.RuntimeShift is double shift and not 0.0) values = values + shift;
        return values.MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    /// <remarks>
    /// Without a mask the last token that is not pad_token_id is used, as HF does (its fixtures call it so);
    /// with no pad id either, the last token.
    /// </remarks>
    public Tensor Score(Tensor inputIds, Tensor? attentionMask = null)
    {
        using var scope = torch.NewDisposeScope();
        var values = ForwardValues(inputIds, attentionMask);                           // [B,T]
        var last = LastRealIndex(inputIds, attentionMask, Config.PadTokenId);         // [B]
        return values.gather(1, last.unsqueeze(1)).squeeze(1).MoveToOuterDisposeScope();   // [B]
    }

    /// <summary>Index of each row's last real token [B]: max over j of j * real[b,j] (works for left and right padding).</summary>
    public static Tensor LastRealIndex(Tensor inputIds, Tensor? attentionMask, int? padTokenId)
    {
        long T = inputIds.shape[1];
        Tensor? real = attentionMask is not null ? attentionMask.to(ScalarType.Int64)
                     : padTokenId is int pad ? inputIds.ne(pad).to(ScalarType.Int64) : null;
        if (real is null) return torch.full(inputIds.shape[0], T - 1, dtype: ScalarType.Int64, device: inputIds.device);
        var idx = torch.arange(T, dtype: ScalarType.Int64, device: inputIds.device).unsqueeze(0);
        return (idx * real).argmax(1);
    }
}
