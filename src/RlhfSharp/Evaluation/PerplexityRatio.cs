using RlhfSharp.Models;
using RlhfSharp.Tokenization;
using static TorchSharp.torch;

namespace RlhfSharp.Evaluation;

/// <summary>
/// Two models' perplexity on the same texts and their ratio, model / baseline: InstructGPT's "alignment tax" (Ouyang
/// et al. 2022, section 4.2 and figure 28: RLHF can regress public-NLP performance, and PPO-ptx mixes pretraining
/// gradients in to reduce it). A ratio above 1 means the model predicts the text worse than the baseline (e.g. the
/// pretrained or SFT model it started from). Each model reads the texts with its own tokenizer; when the two tokenize
/// differently, per-token perplexities count different units and the ratio is only indicative
/// (<see cref="SameTokenization"/> is false).
/// </summary>
public sealed record PerplexityComparison(PerplexityResult Model, PerplexityResult Baseline)
{
    /// <summary>Model perplexity / baseline perplexity; above 1 means the model predicts the texts worse.</summary>
    public double Ratio => Model.Perplexity / Baseline.Perplexity;

    /// <summary>Whether both models predicted the same number of tokens (the same tokenization, as far as counts tell).</summary>
    public bool SameTokenization => Model.Tokens == Baseline.Tokens;

    /// <summary>
    /// Both perplexities on <paramref name="texts"/> by <see cref="Perplexity.Compute"/>, each model with its own
    /// tokenizer, windows batched <paramref name="batchSize"/> at a time.
    /// </summary>
    public static PerplexityComparison Compute(ILanguageModel model, ITextTokenizer tokenizer, ILanguageModel baseline, ITextTokenizer baselineTokenizer,
        IReadOnlyList<string> texts, Device device, int batchSize = 8) =>
        new(Perplexity.Compute(model, tokenizer, texts, device, batchSize), Perplexity.Compute(baseline, baselineTokenizer, texts, device, batchSize));
}
