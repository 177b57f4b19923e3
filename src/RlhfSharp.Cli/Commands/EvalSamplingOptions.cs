using RlhfSharp.Cli.CommandLine;
using RlhfSharp.Data;
using RlhfSharp.Generation;

namespace RlhfSharp.Cli.Commands;

/// <summary>The sampling options of `eval samples` and `eval winrate`, spelled as `generate` spells them.</summary>
static class EvalSamplingOptions
{
    public static readonly CliOption Prompts = new CliOption("--prompts", "FILE",
        "Prompts: .txt (one per line) or records (.jsonl, .json, .parquet) with \"prompt\", \"text\" or \"messages\", or a bare string per line.") { Required = true };
    public static readonly CliOption Greedy = CliOption.Switch("--greedy", "Always take the most likely token (ignores temperature, top-k, top-p, seed). Default: sampling.");
    public static readonly CliOption TopK = new CliOption("--top-k", "K", "Sample only among the K most likely tokens; 0 keeps all.") { Default = "0" };
    public static readonly CliOption Chat = CliOption.Switch("--chat",
        "Render each prompt (its messages, or its text as a user turn) in the model folder's chat format with the generation prompt. Default: raw text.");
    public static readonly CliOption Seed = SharedOptions.SampleSeed with { Help = "Seed of the sampler: prompt i is sampled alone with seed N + i.", Default = "0" };

    public static IReadOnlyList<CliOption> All =>
        [Chat, SharedOptions.MaxNewTokens, Greedy, SharedOptions.Temperature, TopK, SharedOptions.TopP, Seed];

    /// <summary>Everything a sampling eval reads besides its models: batch size, device, prompts, options, seed, chat.</summary>
    public static (int BatchSize, TorchSharp.torch.Device Device, IReadOnlyList<Prompt> Prompts, SamplingOptions Options, long Seed, bool Chat) ReadRun(ParsedArgs args)
    {
        int batchSize = args.Int(SharedOptions.BatchSize, 8);
        if (batchSize < 1) throw new UsageError($"--batch-size must be at least 1, got {batchSize}");
        var device = Devices.DeviceSetup.Resolve(args.String(SharedOptions.Device));
        var (options, seed) = Read(args);
        return (batchSize, device, ReadPrompts(args), options, seed, args.Switch(Chat));
    }

    public static (SamplingOptions Options, long Seed) Read(ParsedArgs args)
    {
        var options = new SamplingOptions
        {
            MaxNewTokens = args.Int(SharedOptions.MaxNewTokens, 64), Greedy = args.Switch(Greedy), Temperature = args.Double(SharedOptions.Temperature, 1.0),
            TopK = args.Int(TopK, 0), TopP = args.Double(SharedOptions.TopP, 1.0),
        };
        options.Validate();
        return (options, args.Long(Seed) ?? 0);
    }

    public static IReadOnlyList<Prompt> ReadPrompts(ParsedArgs args)
    {
        var path = args.Required(Prompts);
        var prompts = PromptReader.Read(path);
        return prompts.Count > 0 ? prompts : throw new UserError($"{path}: no prompts");
    }
}
