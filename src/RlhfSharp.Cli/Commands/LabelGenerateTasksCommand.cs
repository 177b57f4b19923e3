using RlhfSharp.Checkpoints;
using RlhfSharp.Cli.CommandLine;
using RlhfSharp.Devices;
using RlhfSharp.Labeling;

namespace RlhfSharp.Cli.Commands;

/// <summary>
/// <c>rlhf label generate-tasks</c>: samples K responses per prompt from a model (<see cref="TaskSampler"/>) and adds one
/// labeling task per prompt to the store. Prints the new task ids to stdout, one per line; progress goes to stderr.
/// </summary>
public sealed class LabelGenerateTasksCommand : CliCommand
{
    static readonly CliOption Prompts = new CliOption("--prompts", "FILE", "JSONL: one JSON string, or an object with \"prompt\" (or \"text\"), per line.") { Required = true };
    static readonly CliOption Responses = new CliOption("--k", "K", $"Responses per prompt, 2..{TaskImport.MaxResponses} (InstructGPT showed labelers K = 4 to 9).") { Alias = "-k", Required = true };
    static readonly CliOption BatchSize = SharedOptions.BatchSize with { Help = "Prompts per sampling batch (each repeated K times)." };

    public override string Description => "Sample K responses per prompt from a model and add them as tasks.";

    public override IReadOnlyList<CliOption> Options =>
    [
        SharedOptions.Db, SharedOptions.Model with { Help = "The HF causal-LM folder to sample from (usually the SFT model).", Required = true }, Prompts, Responses,
        SharedOptions.MaxNewTokens, SharedOptions.Temperature, SharedOptions.TopP, SharedOptions.SampleSeed, BatchSize, SharedOptions.Device,
    ];

    public override int Execute(ParsedArgs args, CancellationToken cancellation)
    {
        int k = args.Int(Responses, 0);
        if (k is < 2 or > TaskImport.MaxResponses) throw new UsageError($"--k must be 2..{TaskImport.MaxResponses}; got {args.Required(Responses)}");
        int batchSize = args.Int(BatchSize, 8);
        if (batchSize < 1) throw new UsageError($"--batch-size must be >= 1, got {batchSize}");
        var db = args.Required(SharedOptions.Db);
        var store = LabelStore.Open(db);
        var promptsFile = args.Required(Prompts);
        var prompts = TaskGeneration.ReadPrompts(promptsFile);
        if (prompts.Count == 0) throw new UserError($"{promptsFile}: no prompts");
        var device = DeviceSetup.Resolve(args.String(SharedOptions.Device));
        var folder = ModelFolder.Open(args.Required(SharedOptions.Model));
        long? seed = args.Long(SharedOptions.SampleSeed);
        var options = TaskSampler.OptionsFor(folder, args.Int(SharedOptions.MaxNewTokens, 64), args.Double(SharedOptions.Temperature, 1.0),
            args.Double(SharedOptions.TopP, 1.0), seed);
        using var model = folder.LoadCausalLM(device);
        var sampler = new TaskSampler(folder, model, options, device, Console.Error.WriteLine);
        IReadOnlyList<string> ids;
        try { ids = TaskGeneration.Generate(store, prompts, k, sampler.Sample, batchSize); }
        catch (UserError e) when (e is not UsageError) { throw new UserError($"{promptsFile}: {e.Message}", e); }
        foreach (var id in ids) Console.WriteLine(id);
        Console.Error.WriteLine($"added {ids.Count} tasks with {k} responses each to {db} ({store.CountTasks()} in all)");
        return 0;
    }
}
