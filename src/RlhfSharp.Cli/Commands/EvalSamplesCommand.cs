using System.Text.Json.Nodes;
using RlhfSharp.Checkpoints;
using RlhfSharp.Cli.CommandLine;
using RlhfSharp.Data;
using RlhfSharp.Evaluation;

namespace RlhfSharp.Cli.Commands;

/// <summary><c>rlhf eval samples</c>: a policy's samples with reward, KL to a reference, length and EOS (<see cref="SampleEval"/>).</summary>
public sealed class EvalSamplesCommand : CliCommand
{
    static readonly CliOption Policy = new CliOption("--policy", "DIR", "The policy's HF causal-LM folder: it samples one response per prompt.") { Required = true };
    static readonly CliOption Reference = new CliOption("--reference", "DIR",
        "Reference causal LM (e.g. the SFT model) for the KL, sum over response tokens of log pi - log pi_ref at temperature 1; it must share the policy's tokenizer.") { Default = "none (no KL)" };
    static readonly CliOption Reward = new CliOption("--reward", "RM_DIR",
        "Reward-model folder (*ForSequenceClassification) that scores each prompt and response, rendered with its own chat format and tokenizer.") { Default = "none (no reward)" };
    static readonly CliOption SamplesFile = new CliOption("--samples", "FILE",
        "Where to write one JSON line per sample: prompt, response, response_ids (the stop token included), length, eos, reward, kl, source.") { Default = "samples.jsonl" };

    public override string Description =>
        "Sample a policy on prompts (seeded, generate's sampling options) and report the reward-model score, the KL to a reference "
        + "(sum of log pi - log pi_ref over the response), the length and the EOS rate: means with 95% intervals (normal approximation; "
        + "EOS rate: Wilson). Writes every sample to samples.jsonl.";

    public override IReadOnlyList<CliOption> Options =>
        [Policy, Reference, Reward, EvalSamplingOptions.Prompts, .. EvalSamplingOptions.All, SamplesFile, SharedOptions.BatchSize, SharedOptions.Device, SharedOptions.Json];

    public override int Execute(ParsedArgs args, CancellationToken cancellation)
    {
        var folder = ModelFolder.Open(args.Required(Policy));
        var referenceFolder = args.String(Reference) is { } referenceDir ? ModelFolder.Open(referenceDir) : null;
        var rewardFolder = args.String(Reward) is { } rewardDir ? ModelFolder.Open(rewardDir) : null;
        var (batchSize, device, prompts, options, seed, chat) = EvalSamplingOptions.ReadRun(args);
        if (referenceFolder is not null) CheckSameTokenizer(folder, referenceFolder, prompts, chat);

        using var policy = folder.LoadCausalLM(device);
        Console.Error.WriteLine($"{prompts.Count} prompts on {device}, {(options.Greedy ? "greedy" : $"sampling with seed {seed} + prompt index")}");
        var samples = PolicySampling.Sample(policy, folder, prompts, options, seed, chat, device);
        double[]? kls = null, rewards = null;
        if (referenceFolder is not null)
        {
            using var reference = referenceFolder.LoadCausalLM(device);
            kls = SampleEval.KlToReference(policy, reference, samples, folder.PadId, device, batchSize);
        }
        if (rewardFolder is not null)
        {
            using var rm = rewardFolder.LoadScalarHead(device);
            rewards = ResponseJudging.Score(rm, rewardFolder, samples.Select(s => (s.Prompt, s.Response)).ToList(), device, batchSize);
        }
        var result = SampleEval.Summarise(samples, rewards, kls);

        var samplesPath = args.String(SamplesFile) ?? "samples.jsonl";
        JsonlWriter.Write(samplesPath, result.Samples.Select(m => new JsonObject
        {
            ["prompt"] = m.Sample.Prompt.Text, ["response"] = m.Sample.Response,
            ["response_ids"] = new JsonArray(m.Sample.ResponseIds.Select(id => (JsonNode)id).ToArray()), ["length"] = m.Length, ["eos"] = m.Sample.EndedWithStop,
            ["reward"] = m.Reward, ["kl"] = m.Kl, ["source"] = m.Sample.Prompt.Source,
        }));
        Console.Error.WriteLine($"samples: {samplesPath}");
        if (args.Switch(SharedOptions.Json))
            Console.Out.WriteLine(new JsonObject
            {
                ["reward"] = result.Reward is { } r ? EvalJson.Mean(r) : null, ["kl"] = result.Kl is { } k ? EvalJson.Mean(k) : null,
                ["length"] = EvalJson.Mean(result.Length), ["eos_rate"] = EvalJson.Mean(result.EosRate), ["n"] = samples.Count,
                ["samples"] = samplesPath,
                ["intervals"] = "95%: reward, kl, length normal approximation (mean within 1.96 standard errors); eos_rate Wilson score interval",
            }.ToJsonString());
        else
            Console.Out.WriteLine($"{samples.Count} samples: reward {(result.Reward is { } r ? EvalJson.Text(r) : "n/a (no --reward)")}, "
                + $"kl {(result.Kl is { } k ? EvalJson.Text(k) : "n/a (no --reference)")}, length {EvalJson.Text(result.Length)} (normal 95%), "
                + $"eos rate {EvalJson.Text(result.EosRate)} (Wilson 95%)");
        return 0;
    }

    /// <summary>The KL compares the two models token by token, so they must split text alike.</summary>
    static void CheckSameTokenizer(ModelFolder policy, ModelFolder reference, IReadOnlyList<Prompt> prompts, bool chat)
    {
        bool same = policy.Tokenizer.VocabSize == reference.Tokenizer.VocabSize
            && prompts.Take(8).All(p => PolicySampling.PromptIds(p, policy, chat).SequenceEqual(PolicySampling.PromptIds(p, reference, chat)));
        if (!same) throw new UserError($"--reference {reference.Path} tokenizes differently from --policy {policy.Path}; the KL needs one tokenizer for both");
    }
}
