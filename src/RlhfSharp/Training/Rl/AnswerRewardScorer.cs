using System.Text.RegularExpressions;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Rl;

/// <summary>
/// A verifiable reward (<see cref="VerifiableRewards"/>) as a scorer: each response is decoded and checked against
/// the answer of its prompt, giving 1.0 or 0.0.
/// </summary>
public sealed class AnswerRewardScorer : IRewardScorer
{
    readonly VerifiableRewardKind kind;
    readonly IReadOnlyList<string> answers;
    readonly Func<int[], string> decode;
    readonly Dictionary<long, Regex> patterns = [];

    /// <param name="kind">how responses are compared with answers.</param>
    /// <param name="answers">the answer of each prompt, indexed like the trainer's prompt list (checked with
    /// <see cref="VerifiableRewards.AnswerProblem"/> beforehand).</param>
    /// <param name="decode">response ids (stop token included) to text, without the stop token and special tokens.</param>
    public AnswerRewardScorer(VerifiableRewardKind kind, IReadOnlyList<string> answers, Func<int[], string> decode) =>
        (this.kind, this.answers, this.decode) = (kind, answers, decode);

    /// <inheritdoc/>
    public Tensor Score(Tensor sequences, Tensor attentionMask, int[][] responses, long[] promptIndices)
    {
        var scores = new float[responses.Length];
        for (int i = 0; i < responses.Length; i++)
        {
            var text = decode(responses[i]);
            long prompt = promptIndices[i];
            scores[i] = (float)(kind == VerifiableRewardKind.Regex
                ? VerifiableRewards.RegexMatches(Pattern(prompt), text) ? 1 : 0
                : VerifiableRewards.Score(kind, text, answers[(int)prompt]));
        }
        return tensor(scores, device: sequences.device);                     // [B]
    }

    /// <summary>Each regex answer is compiled once.</summary>
    Regex Pattern(long prompt)
    {
        if (!patterns.TryGetValue(prompt, out var pattern))
            patterns[prompt] = pattern = new Regex(answers[(int)prompt], RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, VerifiableRewards.RegexTimeout);
        return pattern;
    }
}

/// <summary>One reward of a weighted sum: the trainers maximise Σ weight · score over their terms, and log each term's mean
/// as <c>reward/&lt;name&gt;_mean</c>.</summary>
/// <param name="Name">the term's name in metrics ("reward_model", "exact", "number", ...).</param>
/// <param name="Scorer">what scores the responses.</param>
/// <param name="Weight">its weight in the sum.</param>
public sealed record RewardTerm(string Name, IRewardScorer Scorer, double Weight);
