using RlhfSharp.Checkpoints;
using RlhfSharp.Evaluation;
using RlhfSharp.Tests.Infrastructure;
using RlhfSharp.Tokenization;
using Xunit;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Evaluation;

public class PerplexityTests
{
    /// <summary>
    /// Batched, right-padded perplexity equals a float64 computation one record at a time; a record longer than the
    /// context (gpt2-tiny: 64 positions) is cut into windows of 64 that each predict all but their first token.
    /// </summary>
    [Fact]
    public void BatchedWindowedPerplexityEqualsPerRecordFloat64()
    {
        var dir = SharedPaths.Fixture("gpt2-tiny");
        var tokenizer = TokenizerLoader.FromFolder(dir);
        using var model = HfModelLoader.LoadCausalLM(dir);
        var words = "the model learns from human feedback reward policy response prompt labeler ranks outputs which is better".Split(' ');
        var texts = new List<string> { "hello", "hello world", string.Join(' ', Enumerable.Range(0, 90).Select(i => words[i * 7 % words.Length])), "the policy" };
        var ids = texts.Select(t => tokenizer.Encode(t, addSpecialTokens: true)).ToList();
        Assert.True(ids[2].Count > 64, "one record must exceed the context");

        double nll = 0; long count = 0;
        using (no_grad())
            foreach (var record in ids)
                for (int s = 0; s < record.Count; s += 64)
                {
                    using var scope = NewDisposeScope();
                    var w = record.Skip(s).Take(64).Select(i => (long)i).ToArray();
                    if (w.Length < 2) continue;
                    var logp = nn.functional.log_softmax(model.Forward(tensor(w).unsqueeze(0)).to_type(ScalarType.Float64)[0], -1);   // [T,V]
                    for (int t = 0; t + 1 < w.Length; t++) nll -= logp[t, w[t + 1]].item<double>();
                    count += w.Length - 1;
                }

        var r = Perplexity.Compute(model, tokenizer, texts, CPU, batchSize: 3);
        Assert.Equal(count, r.Tokens);
        Assert.Equal(nll / count, r.MeanNll, 1e-5);
        Assert.Equal(Math.Exp(nll / count), r.Perplexity, 1e-5 * r.Perplexity);
    }

    [Fact]
    public void NothingToPredictIsAUserError()
    {
        var dir = SharedPaths.Fixture("gpt2-tiny");
        using var model = HfModelLoader.LoadCausalLM(dir);
        Assert.Throws<UserError>(() => Perplexity.Compute(model, TokenizerLoader.FromFolder(dir), ["a"], CPU));
    }
}
