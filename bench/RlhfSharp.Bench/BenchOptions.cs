using System.Globalization;

namespace RlhfSharp.Bench;

/// <summary>Command-line shape of a run. Every option has the default shown; names match bench/pytorch_twin.py.</summary>
public sealed record BenchOptions
{
    public string Device { get; init; } = "cpu";      // cpu | cuda | cuda:N
    public int Layers { get; init; } = 4;
    public int Dim { get; init; } = 256;
    public int Heads { get; init; } = 4;
    public int Vocab { get; init; } = 512;
    public int Batch { get; init; } = 8;               // training batch
    public int Seq { get; init; } = 128;               // training sequence length
    public int Steps { get; init; } = 10;              // timed training steps (after warm-up)
    public int Warmup { get; init; } = 3;
    public string Dtype { get; init; } = "f32";        // f32 | bf16
    public int PromptLen { get; init; } = 16;
    public int NewTokens { get; init; } = 64;
    public int[] GenBatches { get; init; } = [1, 32];
    public string Optimizer { get; init; } = "both";   // torch | flat | both
    public string Only { get; init; } = "all";         // all | gen | train | ppo | logprobs | smoke | parity | resume | checks | memory (all but gen/train run only when named)
    public string Fixtures { get; init; } = "";        // parity: the hf-tiny fixtures folder (default ../shared/fixtures/hf-tiny)
    public string Work { get; init; } = "";            // smoke, resume: where phase outputs go (default a temp folder)
    public string Shape { get; init; } = "gpt2-small"; // memory: gpt2-small | qwen2-0.5b
    public string Phase { get; init; } = "ppo";        // memory: sft | ppo
    public string Fit { get; init; } = "fp32";         // memory: fp32 | bf16 | lora | lora-bf16-ckpt

    public static BenchOptions Parse(string[] args)
    {
        var o = new BenchOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string key = args[i];
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{key} needs a value");
            int Int() => int.Parse(Next(), CultureInfo.InvariantCulture);
            o = key switch
            {
                "--device" => o with { Device = Next() },
                "--layers" => o with { Layers = Int() },
                "--dim" => o with { Dim = Int() },
                "--heads" => o with { Heads = Int() },
                "--vocab" => o with { Vocab = Int() },
                "--batch" => o with { Batch = Int() },
                "--seq" => o with { Seq = Int() },
                "--steps" => o with { Steps = Int() },
                "--warmup" => o with { Warmup = Int() },
                "--dtype" => o with { Dtype = Next() },
                "--prompt-len" => o with { PromptLen = Int() },
                "--new-tokens" => o with { NewTokens = Int() },
                "--gen-batches" => o with { GenBatches = Next().Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray() },
                "--optimizer" => o with { Optimizer = Next() },
                "--only" => o with { Only = Next() },
                "--fixtures" => o with { Fixtures = Next() },
                "--work" => o with { Work = Next() },
                "--shape" => o with { Shape = Next() },
                "--phase" => o with { Phase = Next() },
                "--fit" => o with { Fit = Next() },
                _ => throw new ArgumentException($"unknown option {key}"),
            };
        }
        if (o.Dtype is not ("f32" or "bf16")) throw new ArgumentException("--dtype must be f32 or bf16");
        if (o.Optimizer is not ("torch" or "flat" or "both")) throw new ArgumentException("--optimizer must be torch, flat or both");
        if (o.Only is not ("all" or "gen" or "train" or "ppo" or "logprobs" or "smoke" or "parity" or "resume" or "checks" or "memory"))
            throw new ArgumentException("--only must be all, gen, train, ppo, logprobs, smoke, parity, resume, checks or memory");
        if (!MemoryBench.Shapes.Contains(o.Shape)) throw new ArgumentException($"--shape must be one of {string.Join(", ", MemoryBench.Shapes)}");
        if (o.Phase is not ("sft" or "ppo")) throw new ArgumentException("--phase must be sft or ppo");
        if (!MemoryBench.IsFit(o.Fit)) throw new ArgumentException($"--fit must be fp32 or a dash-joined set of bf16, lora and ckpt (the table's: {string.Join(", ", MemoryBench.Fits)})");
        if (o.Dim % o.Heads != 0) throw new ArgumentException("--dim must be a multiple of --heads");
        return o;
    }

    public const string Usage =
        "dotnet run -c Release --project bench/RlhfSharp.Bench -- [--device cpu|cuda] [--layers 4] [--dim 256] [--heads 4] [--vocab 512]\n" +
        "    [--batch 8] [--seq 128] [--steps 10] [--warmup 3] [--dtype f32|bf16] [--prompt-len 16] [--new-tokens 64]\n" +
        "    [--gen-batches 1,32] [--optimizer torch|flat|both] [--only all|gen|train|ppo|logprobs|smoke|parity|resume|checks]\n" +
        "    [--fixtures DIR (parity; default ../shared/fixtures/hf-tiny)] [--work DIR (smoke, resume; default a temp folder)]\n" +
        "    [--only memory --shape gpt2-small|qwen2-0.5b --phase sft|ppo --fit fp32|bf16|lora|lora-bf16-ckpt (CPU peak RSS; bench/memory.sh runs the table)]";
}
