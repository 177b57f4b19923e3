using RlhfSharp.Checkpoints;
using RlhfSharp.Generation;
using RlhfSharp.Models;
using RlhfSharp.Training.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Bench.Checks;

/// <summary>
/// The device against the CPU on the transformers fixtures (float32): greedy tokens identical to transformers' and
/// to the CPU's, logits within DESIGN.md's 1e-4 relative, and one training step (next-token cross-entropy, backward,
/// flat AdamW) whose loss before and after the step agrees with the CPU's within <see cref="LossTolerance"/>.
/// </summary>
public static class ParityCheck
{
    /// <summary>Relative tolerance on a training step's loss, device against CPU. Same maths, other kernels and
    /// summation orders (cuBLAS, cuDNN-free SDPA kernels, atomics in some backward passes): float32 rounding, amplified
    /// a little by one optimizer step. DESIGN.md's tolerance for float32 logits against transformers is the same 1e-4.</summary>
    public const double LossTolerance = 1e-4;
    const double LogitTolerance = 1e-4;

    static readonly string[] Fixtures = ["gpt2-tiny", "llama-tiny", "qwen2-tiny", "mistral-tiny"];

    public static bool Run(string device, string fixturesDir)
    {
        var dev = Devices.DeviceSetup.Resolve(device);
        bool ok = true;
        foreach (var fixture in Fixtures)
        {
            var dir = Path.Combine(fixturesDir, fixture);
            if (!Directory.Exists(dir)) { Results.Check($"parity {fixture}", "SKIP", $"{dir} not found"); continue; }
            ok &= Results.Guard($"parity {fixture}: greedy tokens and logits, {device} vs CPU vs transformers", () => Greedy(dir, dev));
            if (fixture is "gpt2-tiny" or "llama-tiny")
                ok &= Results.Guard($"parity {fixture}: training step loss, {device} vs CPU (rel tol {Results.Sci(LossTolerance)})", () => TrainStep(dir, dev));
        }
        return ok;
    }

    static (bool, string) Greedy(string dir, Device dev)
    {
        using var scope = NewDisposeScope();
        var reference = SafetensorsFile.Load(Path.Combine(dir, "reference.safetensors"));
        var prompts = Rows(reference["greedy_prompt"]);
        var expected = Rows(reference["greedy_output"]);
        int newTokens = expected[0].Length - prompts[0].Length;
        var options = new SamplingOptions { Greedy = true, MaxNewTokens = newTokens, EosId = null, PadId = 1 };
        using var cpuModel = HfModelLoader.LoadCausalLM(dir);
        using var devModel = HfModelLoader.LoadCausalLM(dir, dev);
        using var onCpu = Sampler.Generate(cpuModel, prompts, options, CPU);
        using var onDev = Sampler.Generate(devModel, prompts, options, dev);
        var cpuRows = Rows(onCpu.Sequences);
        var devRows = Rows(onDev.Sequences);
        bool sameAsCpu = cpuRows.Zip(devRows).All(p => p.First.SequenceEqual(p.Second));
        bool sameAsHf = devRows.Zip(expected).All(p => p.First.SequenceEqual(p.Second));

        double err;
        using (no_grad())
        {
            var logits = devModel.Forward(reference["input_ids"].to(dev)).cpu().to(ScalarType.Float64);
            var want = reference["logits"].to(ScalarType.Float64);
            err = ((logits - want).norm() / want.norm()).item<double>();
        }
        return (sameAsCpu && sameAsHf && err < LogitTolerance,
                $"{devRows.Length}x{newTokens} greedy tokens {(sameAsHf ? "=" : "!=")} transformers, {(sameAsCpu ? "=" : "!=")} CPU; logits rel err {Results.Sci(err)}");
    }

    /// <summary>Loss before and after one step of next-token training on fixed random tokens, from the fixture's weights.</summary>
    static (bool, string) TrainStep(string dir, Device dev)
    {
        (double before, double after, Tensor weights) Step(Device d)
        {
            using var model = HfModelLoader.LoadCausalLM(dir, d);
            model.train();
            using var opt = new AdamW(model, new AdamWOptions { Lr = 1e-3, WeightDecay = 0.01 });
            var rng = new Random(7);
            long V = model.Config.VocabSize;
            var flat = Enumerable.Range(0, 4 * 33).Select(_ => (long)rng.Next(2, (int)V)).ToArray();
            using var ids = tensor(flat, [4, 33], device: d);
            double Loss(bool step)
            {
                using var scope = NewDisposeScope();
                var logits = model.Forward(ids[.., ..^1]);                                          // [4,32,V] float32
                var loss = nn.functional.cross_entropy(logits.reshape(-1, V), ids[.., 1..].reshape(-1));
                if (step) { opt.ZeroGrad(); loss.backward(); opt.Step(); }
                return loss.to(ScalarType.Float64).item<double>();
            }
            double l0 = Loss(step: true), l1 = Loss(step: false);
            var w = torch.cat(model.parameters().Select(p => p.detach().flatten().cpu()).ToArray()).DetachFromDisposeScope();
            return (l0, l1, w);
        }
        var (cb, ca, cw) = Step(CPU);
        var (db, da, dw) = Step(dev);
        double relBefore = Math.Abs(db - cb) / Math.Abs(cb), relAfter = Math.Abs(da - ca) / Math.Abs(ca);
        double maxParam = (dw - cw).abs().max().item<float>();
        cw.Dispose(); dw.Dispose();
        return (relBefore < LossTolerance && relAfter < LossTolerance,
                $"loss {db:F6} vs CPU {cb:F6} (rel {Results.Sci(relBefore)}), after one AdamW step {da:F6} vs {ca:F6} " +
                $"(rel {Results.Sci(relAfter)}); max abs param diff {Results.Sci(maxParam)}");
    }

    static int[][] Rows(Tensor t)
    {
        long b = t.shape[0], n = t.shape[1];
        var flat = t.to(ScalarType.Int64).cpu().data<long>().ToArray();
        return Enumerable.Range(0, (int)b).Select(i => flat.Skip(i * (int)n).Take((int)n).Select(x => (int)x).ToArray()).ToArray();
    }
}
