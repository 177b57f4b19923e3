using RlhfSharp.Data;
using RlhfSharp.Tokenization;

namespace RlhfSharp.Training.Ppo;

/// <summary>Where PPO's models and data come from.</summary>
public sealed record PpoSources
{
    /// <summary>The SFT model folder: the policy starts from it and the frozen reference is a second copy of it.</summary>
    public required string PolicyFolder { get; init; }
    /// <summary>The reward-model folder (*ForSequenceClassification); the value model starts from it (from_reward).</summary>
    public required string RewardFolder { get; init; }
    /// <summary>RL prompts, rendered with the policy folder's chat format and its generation prompt.</summary>
    public required IReadOnlyList<Prompt> Prompts { get; init; }
    /// <summary>Pretraining documents for the ptx term; required when <see cref="PpoConfig.PtxCoef"/> &gt; 0.</summary>
    public IReadOnlyList<string>? PtxDocuments { get; init; }
    /// <summary>Device of the frozen reference and reward models; null = the run's device.</summary>
    public string? FrozenDevice { get; init; }
    /// <summary>The tokenizer, when the policy folder holds none (GPT-2's tiktoken); null = the policy folder's.</summary>
    public ITextTokenizer? Tokenizer { get; init; }
    /// <summary>Extra metrics per rollout, given the prompt indices (into <see cref="Prompts"/>) and the response ids — e.g. the
    /// demo's gold reward, watched and never optimised.</summary>
    public Func<long[], int[][], IReadOnlyDictionary<string, double>>? RolloutMetrics { get; init; }

    /// <summary>Reads the prompts (JSONL/JSON/Parquet "prompt" or "messages" records, or .txt lines) and the ptx text.</summary>
    public static PpoSources FromFiles(string policyFolder, string rewardFolder, string prompts, string? ptxData = null, string ptxTextField = "text")
    {
        var read = PromptReader.Read(prompts);
        if (read.Count == 0) throw new UserError($"{prompts}: no prompts");
        return new PpoSources
        {
            PolicyFolder = policyFolder, RewardFolder = rewardFolder, Prompts = read,
            PtxDocuments = ptxData is null ? null : PretrainingReader.ReadDocuments(ptxData, ptxTextField).ToList(),
        };
    }
}
