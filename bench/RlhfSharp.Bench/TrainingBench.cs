using RlhfSharp.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Bench;

/// <summary>
/// One training step = forward + next-token cross-entropy + backward + AdamW step + zero grad, on random tokens
/// [Batch, Seq]. Reports the mean step time over Steps timed steps after Warmup, and tokens/s = Batch * Seq / step.
/// </summary>
public static class TrainingBench
{
    /// <summary>The optimiser under test: step and zero-grad over the model's parameters.</summary>
    public interface IStepper : IDisposable
    {
        string Name { get; }
        void Step();
        void ZeroGrad();
    }

    /// <summary>TorchSharp's <c>torch.optim.AdamW</c> (about ten kernels per parameter tensor).</summary>
    public sealed class TorchAdamW(nn.Module model) : IStepper
    {
        readonly optim.Optimizer _opt = optim.AdamW(model.parameters(), lr: 1e-4, weight_decay: 0.01);
        public string Name => "torch.optim.AdamW";
        public void Step() => _opt.step();
        public void ZeroGrad() => _opt.zero_grad();
        public void Dispose() => _opt.Dispose();
    }

    /// <summary>The project's flat-buffer AdamW (<c>RlhfSharp.Training.Core.AdamW</c>): a handful of whole-buffer kernels per step.</summary>
    public sealed class FlatAdamW(nn.Module model) : IStepper
    {
        readonly RlhfSharp.Training.Core.AdamW _opt = new(model, new RlhfSharp.Training.Core.AdamWOptions { Lr = 1e-4, WeightDecay = 0.01 });
        public string Name => "RlhfSharp flat AdamW";
        public void Step() => _opt.Step();
        public void ZeroGrad() => _opt.ZeroGrad();
        public void Dispose() => _opt.Dispose();
    }

    public sealed record Result(string Optimizer, double MsPerStep, double TokensPerSecond, double FinalLoss);

    public static Result Run(CausalLM model, IStepper optimizer, BenchOptions o, Device device)
    {
        model.train();
        // Drawn on the CPU, then copied: TorchSharp 0.107's generators are CPU generators, which a CUDA kernel refuses.
        using var gen = new torch.Generator(42);
        using var ids = randint(0, o.Vocab, [o.Batch, o.Seq + 1], dtype: ScalarType.Int64, generator: gen).to(device);
        using var x = ids[.., ..^1].contiguous();     // [B,T]
        using var y = ids[.., 1..].contiguous();      // [B,T]
        double loss = 0;
        void Step()
        {
            using var scope = NewDisposeScope();
            var logits = model.Forward(x);                                                         // [B,T,V] float32
            var l = nn.functional.cross_entropy(logits.reshape(-1, o.Vocab), y.reshape(-1));
            l.backward();
            optimizer.Step();
            optimizer.ZeroGrad();
            loss = l.item<float>() is var v ? v : 0;    // one host sync per step, as a training loop's logging does
        }
        for (int i = 0; i < o.Warmup; i++) Step();
        double seconds = Timing.Seconds(device, () => { for (int i = 0; i < o.Steps; i++) Step(); });
        double ms = seconds * 1000 / o.Steps;
        model.eval();
        return new(optimizer.Name, ms, o.Batch * (double)o.Seq / (seconds / o.Steps), loss);
    }
}
