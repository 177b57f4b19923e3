using System.ComponentModel;
using RlhfSharp.Checkpoints;
using RlhfSharp.Devices;
using RlhfSharp.Generation;
using RlhfSharp.Labeling;
using RlhfSharp.Tokenization;
using RlhfSharp.Training.Ppo;
using Spectre.Console;
using Spectre.Console.Cli;

namespace RlhfSharp.Cli.Commands;

/// <summary>
/// <c>rlhf label generate-tasks</c>: samples K responses per prompt from a model (each prompt rendered as a user turn in the
/// folder's chat format, repeated K times in one sampling batch) and adds one labeling task per prompt to the store.
/// Prints the new task ids to stdout, one per line; progress goes to stderr.
/// </summary>
public sealed class LabelGenerateTasksCommand : Command<LabelGenerateTasksCommand.Settings>
{
    public sealed class Settings : LabelDbSettings
    {
        [CommandOption("--model <DIR>"), Description("The HF causal-LM folder to sample from (usually the SFT model). Required.")]
        public string Model { get; init; } = "";

        [CommandOption("--prompts <FILE>"), Description("JSONL: one JSON string, or an object with \"prompt\" (or \"text\"), per line. Required.")]
        public string Prompts { get; init; } = "";

        [CommandOption("-k|--responses <K>"), Description("Responses per prompt (-k K; Spectre.Console allows no one-letter --k), 2 up to the store's limit (InstructGPT showed labelers K = 4 to 9). Required.")]
        public int K { get; init; }

        [CommandOption("--max-new-tokens <N>"), Description("Longest response in tokens; sampling also stops at EOS / end of turn. Default: 64.")]
        public int MaxNewTokens { get; init; } = 64;

        [CommandOption("--temperature <T>"), Description("Sampling temperature, > 0. Default: 1.0 (the model's own distribution, as the samples InstructGPT's labelers ranked).")]
        public double Temperature { get; init; } = 1.0;

        [CommandOption("--top-p <P>"), Description("Nucleus sampling threshold in (0, 1]. Default: 1.0 (off).")]
        public double TopP { get; init; } = 1.0;

        [CommandOption("--seed <S>"), Description("Seed of the sampler, for reproducible tasks. Default: none (a fresh draw each run).")]
        public long? Seed { get; init; }

        [CommandOption("--batch-size <N>"), Description("Prompts per sampling batch (each repeated K times). Default: 8.")]
        public int BatchSize { get; init; } = 8;

        [CommandOption("--device <DEVICE>"), Description("cpu, cuda or cuda:N. Default: cpu.")]
        public string Device { get; init; } = "cpu";

        public override ValidationResult Validate() =>
            Model.Length == 0 ? ValidationResult.Error("--model is required")
            : Prompts.Length == 0 ? ValidationResult.Error("--prompts is required")
            : K == 0 ? ValidationResult.Error("-k K (responses per prompt) is required")
            : MaxNewTokens < 1 ? ValidationResult.Error("--max-new-tokens must be >= 1")
            : BatchSize < 1 ? ValidationResult.Error("--batch-size must be >= 1")
            : ValidationResult.Success();
    }

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellationToken)
    {
        if (s.K is < 2 or > TaskImport.MaxResponses) throw new UserError($"-k must be 2..{TaskImport.MaxResponses}; got {s.K}");
        var store = LabelStore.Open(s.Db);
        var prompts = TaskGeneration.ReadPrompts(s.Prompts);
        if (prompts.Count == 0) throw new UserError($"{s.Prompts}: no prompts");
        var device = DeviceSetup.Resolve(s.Device);
        var (config, tokenizer) = ModelFolder.Open(s.Model);
        var format = ChatFormats.FromTokenizerConfig(s.Model);
        var stops = ModelFolder.EosIds(s.Model, config, tokenizer).ToList();
        int endOfTurn = PpoFromFolders.EosId(format, tokenizer, config, s.Model);
        if (!stops.Contains(endOfTurn)) stops.Insert(0, endOfTurn);
        var options = new SamplingOptions
        {
            MaxNewTokens = s.MaxNewTokens, Temperature = s.Temperature, TopP = s.TopP,
            EosId = stops[0], StopIds = stops.Skip(1).ToList(), PadId = ModelFolder.PadId(config, tokenizer, stops),
        };
        options.Validate();
        using var model = HfModelLoader.LoadCausalLM(s.Model, device);
        int room = config.MaxPositions - s.MaxNewTokens, batchNo = 0, done = 0;

        IReadOnlyList<IReadOnlyList<string>> Sample(IReadOnlyList<string> batch, int k)
        {
            var ids = batch.Select(p =>
            {
                var e = tokenizer.Encode(format.Render([new ChatMessage("user", p)], addGenerationPrompt: true));
                if (e.Count > room) throw new UserError($"{s.Prompts}: prompt {done + 1} is {e.Count} tokens; with --max-new-tokens {s.MaxNewTokens} it does not fit the model's context ({config.MaxPositions})");
                done++;
                return e;
            }).ToList();
            var repeated = ids.SelectMany(e => Enumerable.Repeat(e, k)).ToList();   // prompt i's samples are rows i*k .. i*k+k-1
            var o = options with { Seed = s.Seed is long seed ? seed + batchNo++ : null };
            int[][] responses;
            using (var gen = Sampler.Generate(model, repeated, o, device)) responses = gen.Responses();
            var texts = responses.Select(r => tokenizer.Decode(r.Where(t => !stops.Contains(t)), skipSpecialTokens: true).Trim()).ToList();
            Console.Error.WriteLine($"label generate-tasks: {done}/{prompts.Count} prompts sampled");
            return Enumerable.Range(0, batch.Count).Select(i => (IReadOnlyList<string>)texts.Skip(i * k).Take(k).ToList()).ToList();
        }

        var ids = TaskGeneration.Generate(store, prompts, s.K, Sample, s.BatchSize);
        foreach (var id in ids) Console.WriteLine(id);
        Console.Error.WriteLine($"added {ids.Count} tasks with {s.K} responses each to {s.Db} ({store.CountTasks()} in all)");
        return 0;
    }
}
