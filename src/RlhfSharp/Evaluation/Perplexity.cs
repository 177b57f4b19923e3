using RlhfSharp.Generation;
using RlhfSharp.Models;
using RlhfSharp.Tokenization;
using RlhfSharp.Training.Losses;
using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Evaluation;

/// <summary>Perplexity over a set of records.</summary>
/// <param name="Perplexity">exp(<paramref name="MeanNll"/>).</param>
/// <param name="Tokens">number of predicted tokens.</param>
/// <param name="MeanNll">mean next-token negative log-likelihood, in nats per token.</param>
public sealed record PerplexityResult(double Perplexity, long Tokens, double MeanNll);

/// <summary>
/// Perplexity = exp(total NLL / total predicted tokens) over records. Each record is tokenized on its own (no added
/// special tokens unless the tokenizer's post-processor adds them) and predicts tokens 2..n of itself; a record longer
/// than the context is cut into consecutive windows, each predicting all but its first token.
/// </summary>
public static class Perplexity
{
    /// <summary>Window length when a config states no context size: GPT-2's.</summary>
    const int FallbackContext = 1024;

    /// <summary>Perplexity of <paramref name="model"/> on <paramref name="texts"/>, windows of the model's context batched <paramref name="batchSize"/> at a time (right-padded), under no_grad.</summary>
    /// <remarks>A user error when no record has two or more tokens.</remarks>
    public static PerplexityResult Compute(ILanguageModel model, ITextTokenizer tokenizer, IEnumerable<string> texts, Device device, int batchSize = 8)
    {
        int ctx = model.Config.MaxPositions > 0 ? model.Config.MaxPositions : FallbackContext;
        var windows = new List<IReadOnlyList<int>>();
        foreach (var text in texts)
        {
            var ids = tokenizer.Encode(text, addSpecialTokens: true);
            for (int s = 0; s < ids.Count; s += ctx)
            {
                var w = ids.Skip(s).Take(ctx).ToList();
                if (w.Count >= 2) windows.Add(w);
            }
        }
        double nll = 0; long count = 0;
        using var _ = no_grad();
        for (int b = 0; b < windows.Count; b += batchSize)
        {
            using var scope = NewDisposeScope();
            var batch = windows.Skip(b).Take(batchSize).ToList();
            var (ids, mask) = TokenBatch.RightPadded(batch, tokenizer.PadId ?? 0, device);
            var (sum, n) = SequenceNll(model, ids, mask);
            nll += sum; count += n;
        }
        if (count == 0) throw new UserError("no record has two or more tokens, so there is nothing to predict");
        return new(Math.Exp(nll / count), count, nll / count);
    }

    /// <summary>Summed next-token NLL over real positions of right-padded ids [B,T], and the number of predicted tokens:
    /// <see cref="LanguageModelObjective.LanguageModelNllSum"/> (the loss pretraining and SFT train on) on the shifted batch.</summary>
    public static (double Sum, long Count) SequenceNll(ILanguageModel model, Tensor ids, Tensor mask)
    {
        using var scope = NewDisposeScope();
        var logits = model.Forward(ids, mask)[.., ..^1];                                 // [B,T-1,V] predicts positions 1..T-1
        var (sum, count) = LanguageModelObjective.LanguageModelNllSum(logits, ids[.., 1..], mask[.., 1..]);
        return (sum.to_type(ScalarType.Float64).item<double>(), count.item<long>());
    }
}
