using RlhfSharp.Data;
using RlhfSharp.Generation;
using RlhfSharp.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Demo;

/// <summary>One prompt's candidate responses and the two simulated labelers' rankings of them (best first).</summary>
/// <param name="Question">the question asked.</param>
/// <param name="Responses">the distinct non-empty responses sampled from the SFT model (at least 2).</param>
/// <param name="Gold">the gold reward of each response.</param>
/// <param name="Ranking">the first labeler's ranking, response indices best first; the pairs come from it.</param>
/// <param name="SecondRanking">the second labeler's ranking, only to measure agreement.</param>
public sealed record LabelTask(WorldQuestion Question, IReadOnlyList<string> Responses, IReadOnlyList<double> Gold, int[] Ranking, int[] SecondRanking);

/// <summary>What a labeling round produced: the ranked tasks, their comparison pairs and the labelers' calibration.</summary>
/// <param name="Tasks">the prompts with at least 2 distinct responses, and both labelers' rankings.</param>
/// <param name="Pairs">the C(K,2) pairs of each first-labeler ranking; a task's pairs share one group id, so the reward model can batch them whole.</param>
/// <param name="NoiseStd">the labelers' noise std, in gold-reward units, calibrated to <see cref="SimulatedLabelers.InstructGptAgreement"/>.</param>
/// <param name="MeasuredAgreement">fraction of pairs the two labelers order the same way (NaN when there are none).</param>
/// <param name="AgreementPairs">the pairs that fraction is over.</param>
public sealed record LabelingResult(IReadOnlyList<LabelTask> Tasks, IReadOnlyList<Comparison> Pairs, double NoiseStd, double MeasuredAgreement, long AgreementPairs);

/// <summary>
/// The demo's stand-in for phase 5 (human feedback): sample K responses per prompt from the SFT model (K drawn from
/// 4..9 as in InstructGPT), keep the distinct ones, have a labeler rank them, and expand each ranking to its C(K,2)
/// pairs. A second labeler ranks every task too, only to measure agreement.
/// </summary>
public static class LabelingRound
{
    /// <summary>Spread of the preference all labelers share beyond correctness (below the 0.5 gap between gold levels).</summary>
    public const double SharedTasteStd = 0.25;

    /// <summary>Spacing of the sampling seeds of one labeling round's draws (round r samples with seed * this + r), so
    /// rounds of different seeds never share a seed.</summary>
    const long SamplingRoundsPerSeed = 1000;

    /// <summary>Sampling rounds before a question is given up on with the distinct responses it has (at least 2 are kept).</summary>
    public const int MaxSamplingRounds = 18;

    /// <summary>
    /// Samples up to K distinct responses per question (K drawn from 4..9; at most <see cref="MaxSamplingRounds"/> sampling rounds), drops questions
    /// left with fewer than 2, has two labelers calibrated to InstructGPT's agreement rank the rest, and expands the
    /// first labeler's rankings into pairs.
    /// </summary>
    /// <param name="sft">the model the candidates are sampled from.</param>
    /// <param name="eval">renders the prompts and decodes the responses.</param>
    /// <param name="questions">one task each; a question listed again is ranked again on fresh samples.</param>
    /// <param name="device">where sampling runs.</param>
    /// <param name="eosId">end-of-sequence token id.</param>
    /// <param name="padId">padding token id.</param>
    /// <param name="maxNewTokens">longest response in tokens.</param>
    /// <param name="seed">seed of K, the sampling, the shared taste and both labelers; also names the pairs' source.</param>
    /// <param name="temperature">sampling temperature.</param>
    public static LabelingResult Run(CausalLM sft, DemoEvaluator eval, IReadOnlyList<WorldQuestion> questions, Device device,
                                     int eosId, int padId, int maxNewTokens, int seed, double temperature)
    {
        var rng = new Random(seed);
        var kTarget = questions.Select(_ => rng.Next(4, 10)).ToList();
        var prompts = questions.Select(eval.PromptIds).ToList();
        var distinct = CollectDistinct(kTarget, (pending, round) =>
        {
            using var gen = Sampler.Generate(sft, pending.Select(i => prompts[i]).ToList(), new SamplingOptions { Temperature = temperature, MaxNewTokens = maxNewTokens, EosId = eosId, PadId = padId, Seed = seed * SamplingRoundsPerSeed + round }, device);
            return gen.Responses().Select(eval.Decode).ToList();
        });
        var kept = Enumerable.Range(0, questions.Count).Where(i => distinct[i].Count >= 2).ToList();
        var goldSets = kept.Select(i => (IReadOnlyList<double>)distinct[i].Select(r => FactWorld.Gold(questions[i], r)).ToList()).ToList();
        // What labelers judge: the gold reward plus a taste they share about each text (std SharedTasteStd). Without it,
        // two different wrong guesses tie on gold and every labeler would flip a coin on them, which caps agreement
        // well below the 73% InstructGPT measured; with it, their own noise is what calibration sets.
        var utilities = goldSets.Select(g => (IReadOnlyList<double>)g.Select(x => x + SharedTasteStd * SimulatedLabelers.Gaussian(rng)).ToList()).ToList();
        double sigma = SimulatedLabelers.CalibrateNoise(utilities);
        var first = new SimulatedLabelers(sigma, seed + 1);
        var second = new SimulatedLabelers(sigma, seed + 2);

        var tasks = new List<LabelTask>(); var pairs = new List<Comparison>();
        long agree = 0, shared = 0;
        for (int t = 0; t < kept.Count; t++)
        {
            var q = questions[kept[t]]; var responses = distinct[kept[t]];
            var a = first.Rank(utilities[t]); var b = second.Rank(utilities[t]);
            var (ag, n) = SimulatedLabelers.PairAgreement(a, b);
            agree += ag; shared += n;
            tasks.Add(new LabelTask(q, responses, goldSets[t], a, b));
            // The reward trainer renders prompt and reply with the chat format, as PPO's sampled sequences are.
            // The task id groups the ranking's pairs, so the reward model can batch them whole (InstructGPT 3.5).
            var ranking = new Ranking(q.Prompt, responses, a) { Source = $"labeling task {seed}/{t}" };
            pairs.AddRange(ranking.ToPairs());
        }
        return new LabelingResult(tasks, pairs, sigma, shared == 0 ? double.NaN : (double)agree / shared, shared);
    }

    /// <summary>
    /// Up to <paramref name="kTarget"/>[i] distinct non-empty responses to each question i. Each round samples one
    /// response to every question still short of its K, and only those (a confident model repeats itself on most
    /// questions, and resampling finished ones spent most of the labeling time); after <see cref="MaxSamplingRounds"/>
    /// rounds a question keeps what it has.
    /// </summary>
    /// <param name="kTarget">K of each question.</param>
    /// <param name="sampleRound">given the pending question indices and the round number, one response to each, in that order.</param>
    public static List<List<string>> CollectDistinct(IReadOnlyList<int> kTarget, Func<IReadOnlyList<int>, int, IReadOnlyList<string>> sampleRound)
    {
        var distinct = kTarget.Select(_ => new List<string>()).ToList();
        for (int round = 0; round < MaxSamplingRounds; round++)
        {
            var pending = Enumerable.Range(0, kTarget.Count).Where(i => distinct[i].Count < kTarget[i]).ToList();
            if (pending.Count == 0) break;
            var responses = sampleRound(pending, round);
            if (responses.Count != pending.Count) throw new InvalidOperationException($"the sampler answered {responses.Count} of {pending.Count} pending questions");
            for (int row = 0; row < pending.Count; row++)
            {
                var text = responses[row];
                if (text.Length > 0 && !distinct[pending[row]].Contains(text)) distinct[pending[row]].Add(text);
            }
        }
        return distinct;
    }
}
