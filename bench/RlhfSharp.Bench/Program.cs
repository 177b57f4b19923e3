using System.Globalization;
using RlhfSharp.Bench;
using RlhfSharp.Devices;
using RlhfSharp.Models;
using TorchSharp;
using static TorchSharp.torch;

// Generation and training-step throughput of a GPT-2-shaped model built from scratch (random weights).
// bench/pytorch_twin.py measures the same shapes in plain PyTorch; bench/README.md says how to compare.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
BenchOptions o;
try { o = BenchOptions.Parse(args); }
catch (Exception e) when (e is ArgumentException or FormatException)
{
    Console.Error.WriteLine($"error: {e.Message}\nusage: {BenchOptions.Usage}");
    return 2;
}
DeviceSetup.PreloadExternalLibTorch();
var device = DeviceSetup.Resolve(o.Device);

// Peak memory of one SFT step or PPO-ptx iteration at a named shape (bench/memory.sh runs one process per line).
if (o.Only == "memory")
{
    if (device.type != DeviceType.CPU) { Console.Error.WriteLine("error: --only memory measures peak RSS on the CPU; TorchSharp 0.107 has no CUDA allocator statistics"); return 2; }
    MemoryBench.Result m;
    try { m = MemoryBench.Run(o.Shape, o.Phase, o.Fit); }
    catch (InsufficientMemoryException e) { Console.WriteLine($"memory {o.Shape} {o.Phase} {o.Fit}: {e.Message}"); return 3; }
    Console.WriteLine($"memory {o.Shape} {o.Phase} {o.Fit}: trained parameters {m.TrainedParameters:N0}, RSS after loading {m.LoadedRssBytes / 1e9:F2} GB, " +
                      $"peak RSS {m.PeakRssBytes / 1e9:F2} GB, {m.Seconds:F0} s ({MemoryBench.Sizes(o.Phase)})");
    if (MemoryBench.Phases.Count > 0) Console.WriteLine("  peak within: " + string.Join(", ", MemoryBench.Phases.Select(p => $"{p.Key} {p.Value / 1e9:F2} GB")));
    Results.Measure($"peak RSS {o.Shape} {o.Phase} {o.Fit}", m.PeakRssBytes / 1e9, "GB");
    return 0;
}
var dtype = o.Dtype == "bf16" ? ScalarType.BFloat16 : ScalarType.Float32;
int ctx = Math.Max(o.Seq, o.PromptLen + o.NewTokens);
var config = TransformerConfig.SmallGpt2(o.Vocab, o.Layers, o.Dim, o.Heads, ctx);

CausalLM NewModel()
{
    torch.manual_seed(0);
    var m = ModelFactory.Create(config);
    if (dtype != ScalarType.Float32) m.to(dtype);
    m.to(device);
    return m;
}

Console.WriteLine($"device {device}{(device.type == DeviceType.CUDA ? $" ({cuda.device_count()} visible)" : $", {torch.get_num_threads()} threads")}, libtorch {torch.__version__}, dtype {o.Dtype}");
Console.WriteLine($"model gpt2 layers={o.Layers} dim={o.Dim} heads={o.Heads} vocab={o.Vocab} ctx={ctx}");

// Device checks (bench/gpu/run.sh): every phase on the device, device vs CPU, resume on the device. RESULT lines only.
if (o.Only is "smoke" or "parity" or "resume" or "checks")
{
    var work = o.Work.Length > 0 ? o.Work : Path.Combine(Path.GetTempPath(), "rlhfsharp-checks-" + Environment.ProcessId);
    var fixtures = o.Fixtures.Length > 0 ? o.Fixtures : Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "..", "shared", "fixtures", "hf-tiny");
    bool ok = true;
    if (o.Only is "smoke" or "checks") ok &= RlhfSharp.Bench.Checks.SmokeCheck.Run(o.Device, work);
    if (o.Only is "parity" or "checks") ok &= RlhfSharp.Bench.Checks.ParityCheck.Run(o.Device, Path.GetFullPath(fixtures));
    if (o.Only is "resume" or "checks") ok &= RlhfSharp.Bench.Checks.ResumeCheck.Run(o.Device, work);
    return ok ? 0 : 1;
}

if (o.Only is "all" or "gen")
{
    using var model = NewModel();
    model.eval();
    foreach (var b in o.GenBatches)
    {
        double tps = GenerationBench.TokensPerSecond(model, o, b, device);
        Console.WriteLine($"generate  batch={b,-3} prompt={o.PromptLen} new={o.NewTokens}: {tps,10:F1} tokens/s");
        Results.Measure($"generate B={b}, {o.PromptLen}+{o.NewTokens} tokens", tps, "tokens/s");
    }
}

if (o.Only is "all" or "train")
{
    var kinds = o.Optimizer == "both" ? new[] { "torch", "flat" } : [o.Optimizer];
    foreach (var kind in kinds)
    {
        using var model = NewModel();
        // HOOK: the optimiser under test. "flat" is the project's flat-buffer AdamW (RlhfSharp.Training.Core.AdamW).
        using TrainingBench.IStepper opt = kind == "flat" ? new TrainingBench.FlatAdamW(model) : new TrainingBench.TorchAdamW(model);
        var r = TrainingBench.Run(model, opt, o, device);
        Console.WriteLine($"train     batch={o.Batch} seq={o.Seq} {r.Optimizer,-22}: {r.MsPerStep,8:F1} ms/step {r.TokensPerSecond,10:F0} tokens/s (loss {r.FinalLoss:F3})");
        Results.Measure(kind == "flat" ? $"train B={o.Batch}x{o.Seq}, fastest AdamW (RlhfSharp flat; PyTorch fused)"
                                       : $"train B={o.Batch}x{o.Seq}, default AdamW (TorchSharp optim.AdamW; PyTorch foreach)", r.MsPerStep, "ms");
    }
}
if (o.Only is "ppo")
{
    var r = PpoBench.Run(config, o, device, dtype);
    Console.WriteLine($"ppo       rollout={o.Batch} prompt={o.PromptLen} new={o.NewTokens} ptx_seq={o.Seq}: {r.SecondsPerIteration,8:F2} s/iteration" +
                      (device.type == DeviceType.CPU ? $", peak RSS {r.PeakRssBytes / 1e9:F2} GB" : ""));
    Results.Measure(PpoBench.LineName(o), r.SecondsPerIteration, "s");
}
if (o.Only is "logprobs")
{
    // The log-prob op alone: --batch, --seq and --vocab give the logits' shape; best and worst of --steps after --warmup.
    Console.WriteLine($"logprobs  logits [{o.Batch},{o.Seq},{o.Vocab}] float32, forward + backward, best of {o.Steps} (range)");
    foreach (var r in LogProbsBench.Run(o, device))
        Console.WriteLine($"logprobs  {r.Rows,-9} {r.Op,-24}: {r.BestMs,8:F1} ms ({r.BestMs:F1}-{r.WorstMs:F1})");
}
return 0;
