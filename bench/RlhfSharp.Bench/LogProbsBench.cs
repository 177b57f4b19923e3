using RlhfSharp.Training.Losses;
using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Bench;

/// <summary>
/// The per-token log-prob op alone, forward + backward, on float32 logits [batch, seq, vocab]: the library's
/// <see cref="LogProbs.TokenLogProbs"/> against the plain PyTorch idiom <c>log_softmax(z).gather(y)</c> and the
/// <c>z.gather(y) - logsumexp(z)</c> form. Two kinds of rows: ordinary logits (N(0, 2²)) and peaked ones (every logit
/// near -120 but the target's 0), where exp underflows. bench/pytorch_twin.py <c>--only logprobs</c> is the twin.
/// </summary>
public static class LogProbsBench
{
    public sealed record Result(string Op, string Rows, double BestMs, double WorstMs);

    public static IEnumerable<Result> Run(BenchOptions o, Device device)
    {
        int B = o.Batch, T = o.Seq, V = o.Vocab;
        var ops = new (string Name, Func<Tensor, Tensor, Tensor> Fn)[]
        {
            ("log_softmax+gather", (z, y) => z.log_softmax(-1).gather(-1, y.unsqueeze(-1)).squeeze(-1)),
            ("gather-logsumexp", (z, y) => z.gather(-1, y.unsqueeze(-1)).squeeze(-1) - z.logsumexp(-1)),
            ("LogProbs.TokenLogProbs", (z, y) => LogProbs.TokenLogProbs(z, y)),
            // What the library did before it was made exact: logits 80 below the row max raised to that floor.
            ("old floor (max-80)", (z, y) =>
            {
                var f = z.maximum(z.detach().amax([-1], keepdim: true) - 80.0);
                return f.gather(-1, y.unsqueeze(-1)).squeeze(-1) - f.logsumexp(-1);
            }),
        };
        foreach (var rows in new[] { "ordinary", "peaked" })
        {
            torch.manual_seed(1234);
            Tensor logits, targets;
            using (no_grad())
            {
                targets = randint(0, V, [B, T], device: device);                            // [B,T]
                logits = randn([B, T, V], device: device) * 2.0;                            // [B,T,V]
                if (rows == "peaked")
                {
                    logits = logits - 120.0;
                    logits.scatter_(-1, targets.unsqueeze(-1), zeros([B, T, 1], device: device));
                }
            }
            foreach (var (name, fn) in ops)
            {
                void Step()
                {
                    using var scope = NewDisposeScope();
                    var z = logits.detach().requires_grad_(true);
                    fn(z, targets).sum().backward();
                    _ = z.grad!.sum().item<float>();   // one host sync, as a training step has
                }
                for (int i = 0; i < o.Warmup; i++) Step();
                var times = Enumerable.Range(0, o.Steps).Select(_ => Timing.Seconds(device, Step) * 1000).ToArray();
                yield return new Result(name, rows, times.Min(), times.Max());
            }
            logits.Dispose(); targets.Dispose();
        }
    }
}
