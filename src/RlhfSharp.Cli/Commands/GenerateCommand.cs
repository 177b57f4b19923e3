using System.ComponentModel;
using RlhfSharp.Checkpoints;
using RlhfSharp.Devices;
using RlhfSharp.Evaluation;
using RlhfSharp.Generation;
using RlhfSharp.Tokenization;
using Spectre.Console.Cli;
using static TorchSharp.torch;

namespace RlhfSharp.Cli.Commands;

/// <summary>
/// `rlhf generate`: continues one prompt and prints only the continuation (decoded, without the prompt and without
/// the stop token) to stdout; logs go to stderr. With --best-of N and --reward, N responses are sampled in one batch
/// and the one the reward model scores highest is printed.
/// </summary>
public sealed class GenerateCommand : Command<GenerateCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--model <DIR>")]
        [Description("Hugging Face causal-LM folder (config.json, model.safetensors, tokenizer.json). Required.")]
        public string? Model { get; init; }

        [CommandOption("--prompt <TEXT>")]
        [Description("The text to continue. Required.")]
        public string? Prompt { get; init; }

        [CommandOption("--max-new-tokens <N>")]
        [Description("Most tokens to generate; generation also stops at EOS. Default: 64.")]
        public int MaxNewTokens { get; init; } = 64;

        [CommandOption("--greedy")]
        [Description("Always take the most likely token (ignores temperature, top-k, top-p, seed). Default: off (sampling).")]
        public bool Greedy { get; init; }

        [CommandOption("--temperature <T>")]
        [Description("Sampling temperature, > 0. Default: 1.0.")]
        public double Temperature { get; init; } = 1.0;

        [CommandOption("--top-k <K>")]
        [Description("Sample only among the K most likely tokens; 0 keeps all. Default: 0.")]
        public int TopK { get; init; }

        [CommandOption("--top-p <P>")]
        [Description("Nucleus sampling: the smallest set of tokens whose probability reaches P, in (0, 1]. Default: 1.0 (all).")]
        public double TopP { get; init; } = 1.0;

        [CommandOption("--seed <S>")]
        [Description("Seed of the sampler's random generator, for reproducible samples. Default: none (a fresh draw each run).")]
        public long? Seed { get; init; }

        [CommandOption("--device <DEVICE>")]
        [Description("cpu, cuda or cuda:N. CUDA uses TorchSharp's CUDA package or the PyTorch libtorch named by RLHF_LIBTORCH_DIR. Default: cpu.")]
        public string Device { get; init; } = "cpu";

        [CommandOption("--chat")]
        [Description("Wrap the prompt as a user turn in the model folder's chat format (tokenizer_config.json chat_template) with the generation prompt; also stop at the end-of-turn token. Default: off (raw text).")]
        public bool Chat { get; init; }

        [CommandOption("--best-of <N>")]
        [Description("Sample N responses and print the one with the highest reward (needs --reward; not with --greedy). Default: 1.")]
        public int BestOf { get; init; } = 1;

        [CommandOption("--reward <RM_DIR>")]
        [Description("Reward-model folder (*ForSequenceClassification) that scores prompt + response text for --best-of. Default: none.")]
        public string? Reward { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        if (settings.Prompt is null) throw new UserError("--prompt is required");
        if (settings.BestOf < 1) throw new UserError($"--best-of must be at least 1 (got {settings.BestOf})");
        if (settings.BestOf > 1 && settings.Reward is null) throw new UserError("--best-of needs --reward <RM_DIR> to choose among the samples");
        if (settings.BestOf > 1 && settings.Greedy) throw new UserError("--best-of with --greedy would repeat one response; drop --greedy to sample");
        if (settings.Reward is not null && settings.BestOf == 1) Console.Error.WriteLine("note: --reward has no effect without --best-of N > 1");
        var device = DeviceSetup.Resolve(settings.Device);
        var dir = settings.Model!;
        var (config, tokenizer) = ModelFolder.Open(settings.Model);

        string promptText = settings.Prompt;
        var stops = ModelFolder.EosIds(dir, config, tokenizer).ToList();
        if (settings.Chat)
        {
            var format = ChatFormats.FromTokenizerConfig(dir);
            promptText = format.Render([new ChatMessage("user", settings.Prompt)], addGenerationPrompt: true);
            var endOfTurn = tokenizer.Encode(format.EndOfTurn.Trim());
            if (endOfTurn.Count == 1 && !stops.Contains(endOfTurn[0])) stops.Add(endOfTurn[0]);
        }
        // A chat template writes its own BOS into the text; raw text gets the tokenizer's post-processor, if any.
        var promptIds = tokenizer.Encode(promptText, addSpecialTokens: !settings.Chat);
        if (promptIds.Count == 0) throw new UserError("--prompt: the prompt encodes to no tokens; give some text to continue");

        var options = new SamplingOptions
        {
            MaxNewTokens = settings.MaxNewTokens, Greedy = settings.Greedy, Temperature = settings.Temperature,
            TopK = settings.TopK, TopP = settings.TopP, Seed = settings.Seed,
            EosId = stops.Count > 0 ? stops[0] : null, StopIds = stops.Skip(1).ToList(),
            PadId = ModelFolder.PadId(config, tokenizer, stops),
        };
        options.Validate();

        using var model = HfModelLoader.LoadCausalLM(dir, device);
        Console.Error.WriteLine($"{config.CausalLMArchitecture} from {dir} on {device}: prompt {promptIds.Count} tokens, {(settings.Greedy ? "greedy" : "sampling")}, up to {settings.MaxNewTokens} new tokens");
        var prompts = Enumerable.Repeat((IReadOnlyList<int>)promptIds, settings.BestOf).ToList();
        int[][] responses;
        using (var result = Sampler.Generate(model, prompts, options, device)) responses = result.Responses();

        var texts = responses.Select(r => tokenizer.Decode(r.Where(id => !stops.Contains(id)), skipSpecialTokens: true)).ToArray();
        int best = 0;
        if (settings.BestOf > 1) best = PickBest(settings.Reward!, promptText, texts, device);
        var ended = responses[best].Length > 0 && stops.Contains(responses[best][^1]);
        Console.Error.WriteLine($"{responses[best].Length} tokens, {(ended ? "ended at EOS" : "hit the token limit")}");
        Console.Out.WriteLine(texts[best]);
        return 0;
    }

    /// <summary>Scores prompt + each response with the reward model (its own tokenizer) and returns the best index.</summary>
    static int PickBest(string rewardDir, string promptText, string[] responses, Device device)
    {
        var (_, rmTokenizer) = ModelFolder.Open(rewardDir, "--reward");
        using var rm = HfModelLoader.LoadScalarHead(rewardDir, device);
        var scores = RewardScoring.Score(rm, rmTokenizer, responses.Select(r => promptText + r).ToList(), device);
        for (int i = 0; i < scores.Length; i++) Console.Error.WriteLine($"sample {i}: reward {scores[i]:G6}");
        int best = Array.IndexOf(scores, scores.Max());
        Console.Error.WriteLine($"best of {scores.Length}: sample {best}");
        return best;
    }
}
