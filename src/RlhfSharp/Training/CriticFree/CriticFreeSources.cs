using RlhfSharp.Data;
using RlhfSharp.Tokenization;

namespace RlhfSharp.Training.CriticFree;

/// <summary>Where GRPO's and RLOO's models and data come from.</summary>
public sealed record CriticFreeSources
{
    /// <summary>The SFT model folder: the policy starts from it and the frozen reference is a second copy of it.</summary>
    public required string PolicyFolder { get; init; }
    /// <summary>A reward-model folder (*ForSequenceClassification), frozen; null when only verifiable rewards
    /// (<see cref="CriticFreeSettings.RewardFunctions"/>) score the responses.</summary>
    public string? RewardFolder { get; init; }
    /// <summary>RL prompts, rendered with the policy folder's chat format and its generation prompt; verifiable rewards
    /// read each prompt's <see cref="Prompt.Answer"/>.</summary>
    public required IReadOnlyList<Prompt> Prompts { get; init; }
    /// <summary>Device of the frozen reference and reward models; null = the run's device.</summary>
    public string? FrozenDevice { get; init; }
    /// <summary>The tokenizer, when the policy folder holds none (GPT-2's tiktoken); null = the policy folder's.</summary>
    public ITextTokenizer? Tokenizer { get; init; }
    /// <summary>Extra metrics per rollout, given the prompt index of each row (into <see cref="Prompts"/>; G rows per
    /// prompt) and the response ids — e.g. the demo's gold reward, watched and never optimised.</summary>
    public Func<long[], int[][], IReadOnlyDictionary<string, double>>? RolloutMetrics { get; init; }

    /// <summary>Reads the prompts (JSONL/JSON/Parquet "prompt", "text" or "messages" records with an optional "answer",
    /// or .txt lines); <paramref name="rewardFolder"/> may be null.</summary>
    public static CriticFreeSources FromFiles(string policyFolder, string? rewardFolder, string prompts)
    {
        var read = PromptReader.Read(prompts);
        if (read.Count == 0) throw new UserError($"{prompts}: no prompts");
        return new CriticFreeSources { PolicyFolder = policyFolder, RewardFolder = rewardFolder, Prompts = read };
    }
}
