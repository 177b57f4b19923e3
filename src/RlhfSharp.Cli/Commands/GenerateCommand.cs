using RlhfSharp.Checkpoints;
using RlhfSharp.Cli.CommandLine;
using RlhfSharp.Devices;
using RlhfSharp.Evaluation;
using RlhfSharp.Generation;
using RlhfSharp.Tokenization;
using static TorchSharp.torch;

namespace RlhfSharp.Cli.Commands;

/// <summary>
/// <c>rlhf generate</c>: continues one prompt and prints only the continuation (decoded, without the prompt and without
/// the stop token) to stdout; logs go to stderr. With --best-of N and --reward, N responses are sampled in one batch and
/// the one the reward model scores highest is printed.
/// </summary>
public sealed class GenerateCommand : CliCommand
{
    static readonly CliOption Prompt = new CliOption("--prompt", "TEXT", "The text to continue.") { Required = true };
    static readonly CliOption Greedy = CliOption.Switch("--greedy", "Always take the most likely token (ignores temperature, top-k, top-p, seed). Default: sampling.");
    static readonly CliOption TopK = new CliOption("--top-k", "K", "Sample only among the K most likely tokens; 0 keeps all.") { Default = "0" };
    static readonly CliOption Chat = CliOption.Switch("--chat", "Wrap the prompt as a user turn in the model folder's chat format with the generation prompt. Default: raw text.");
    static readonly CliOption BestOf = new CliOption("--best-of", "N", "Sample N responses and print the one with the highest reward (needs --reward; not with --greedy).") { Default = "1" };
    static readonly CliOption Adapter = new CliOption("--adapter", "DIR", "A PEFT LoRA adapter folder (adapter_config.json, adapter_model.safetensors) applied on top of --model.") { Default = "none" };
    static readonly CliOption Reward = new CliOption("--reward", "RM_DIR", "Reward-model folder (*ForSequenceClassification) that scores prompt + response for --best-of.") { Default = "none" };

    public override string Description => "Continue a prompt with a causal LM (greedy or sampled; best-of-n with a reward model) and print only the continuation.";

    public override IReadOnlyList<CliOption> Options =>
    [
        SharedOptions.Model with { Help = "Hugging Face causal-LM folder (config.json, model.safetensors, tokenizer.json).", Required = true }, Prompt,
        SharedOptions.MaxNewTokens, Greedy, SharedOptions.Temperature, TopK, SharedOptions.TopP, SharedOptions.SampleSeed, SharedOptions.Device,
        Chat, BestOf, Reward, Adapter,
    ];

    public override int Execute(ParsedArgs args, CancellationToken cancellation)
    {
        var promptText = args.Required(Prompt);
        int bestOf = args.Int(BestOf, 1);
        bool greedy = args.Switch(Greedy), chat = args.Switch(Chat);
        var rewardDir = args.String(Reward);
        if (bestOf < 1) throw new UsageError($"--best-of must be at least 1, got {bestOf}");
        if (bestOf > 1 && rewardDir is null) throw new UsageError("--best-of needs --reward <RM_DIR> to choose among the samples");
        if (bestOf > 1 && greedy) throw new UsageError("--best-of with --greedy would repeat one response; drop --greedy to sample");
        if (rewardDir is not null && bestOf == 1) Console.Error.WriteLine("note: --reward has no effect without --best-of N > 1");
        var device = DeviceSetup.Resolve(args.String(SharedOptions.Device));
        var folder = ModelFolder.Open(args.Required(SharedOptions.Model));

        if (chat) promptText = folder.ChatFormat.Render([new ChatMessage("user", promptText)], addGenerationPrompt: true);
        // A chat template writes its own BOS into the text; raw text gets the tokenizer's post-processor, if any.
        var promptIds = folder.Tokenizer.Encode(promptText, addSpecialTokens: !chat);
        if (promptIds.Count == 0) throw new UsageError("--prompt encodes to no tokens; give some text to continue");
        int maxNewTokens = args.Int(SharedOptions.MaxNewTokens, 64);
        var options = new SamplingOptions
        {
            MaxNewTokens = maxNewTokens, Greedy = greedy, Temperature = args.Double(SharedOptions.Temperature, 1.0),
            TopK = args.Int(TopK, 0), TopP = args.Double(SharedOptions.TopP, 1.0), Seed = args.Long(SharedOptions.SampleSeed),
            EosId = folder.StopIds[0], StopIds = folder.StopIds.Skip(1).ToList(), PadId = folder.PadId,
        };
        options.Validate();

        var adapterDir = args.String(Adapter);
        using var model = adapterDir is null ? folder.LoadCausalLM(device) : AdapterMerge.LoadCausalLM(folder.Path, adapterDir, device).Model;
        if (adapterDir is not null) Console.Error.WriteLine($"LoRA adapter from {adapterDir}");
        Console.Error.WriteLine($"{folder.Config.CausalLMArchitecture} from {folder.Path} on {device}: prompt {promptIds.Count} tokens, {(greedy ? "greedy" : "sampling")}, up to {maxNewTokens} new tokens");
        var prompts = Enumerable.Repeat(promptIds, bestOf).ToList();
        int[][] responses;
        using (var result = Sampler.Generate(model, prompts, options, device)) responses = result.Responses();

        var texts = responses.Select(r => folder.Tokenizer.Decode(r.Where(id => !folder.StopIds.Contains(id)), skipSpecialTokens: true)).ToArray();
        int best = bestOf > 1 ? PickBest(rewardDir!, folder, promptIds, responses, device) : 0;
        var ended = responses[best].Length > 0 && folder.StopIds.Contains(responses[best][^1]);
        Console.Error.WriteLine($"{responses[best].Length} tokens, {(ended ? "ended at EOS" : "hit the token limit")}");
        Console.Out.WriteLine(texts[best]);
        return 0;
    }

    /// <summary>
    /// Scores each sampled sequence with the reward model exactly as PPO does: the prompt ids and the response ids up to
    /// and including the token that ended it, read at that last token. Returns the best index.
    /// </summary>
    static int PickBest(string rewardDir, ModelFolder policy, IReadOnlyList<int> promptIds, int[][] responses, Device device)
    {
        var rewardFolder = ModelFolder.Open(rewardDir, policy.Tokenizer);
        using var rm = rewardFolder.LoadScalarHead(device);
        var rows = responses.Select(r => (IReadOnlyList<int>)promptIds.Concat(r).ToList()).ToList();
        var scores = RewardScoring.ScoreIds(rm, rows, policy.PadId, device);
        for (int i = 0; i < scores.Length; i++) Console.Error.WriteLine($"sample {i}: reward {scores[i]:G6}");
        int best = Array.IndexOf(scores, scores.Max());
        Console.Error.WriteLine($"best of {scores.Length}: sample {best}");
        return best;
    }
}
