using RlhfSharp.Data;
using RlhfSharp.Evaluation;
using RlhfSharp.Generation;
using RlhfSharp.Models;
using RlhfSharp.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Demo;

/// <summary>
/// Evaluates a policy on held-out questions: greedy answers scored by the gold labeler (hedging reward), the reward
/// model's score of those answers, the KL to the SFT model on the policy's own samples, and MC1/MC2 on a multiple-choice
/// version of the known facts.
/// </summary>
public sealed class DemoEvaluator(ITextTokenizer tokenizer, IChatFormat format, Device device, int maxNewTokens, int eosId, int padId)
{
    /// <summary>The question as one user turn in the chat format, ending with the generation prompt: the text every stage is asked.</summary>
    public string PromptText(WorldQuestion q) => format.Render([new ChatMessage("user", q.Prompt)], addGenerationPrompt: true);

    /// <summary>The token ids of <see cref="PromptText"/> (the tokenizer adds no special tokens).</summary>
    public IReadOnlyList<int> PromptIds(WorldQuestion q) => tokenizer.Encode(PromptText(q));

    /// <summary>A reply as the policy would emit it: its tokens and the end-of-turn EOS.</summary>
    public IReadOnlyList<int> EncodeReply(string reply) => tokenizer.Encode(reply).Append(eosId).ToList();

    /// <summary>A generated response as text: EOS and pad ids dropped, special tokens skipped, surrounding whitespace trimmed.</summary>
    public string Decode(int[] response) =>
        tokenizer.Decode(response.Where(t => t != eosId && t != padId), skipSpecialTokens: true).Trim();

    /// <summary>
    /// One stage's figures on <paramref name="questions"/>: greedy answers of <paramref name="policy"/> scored by the gold
    /// labeler and by <paramref name="rm"/>, classified as unhedged, hedged or "I don't know", counted over known and
    /// unknown facts apart, and the KL to <paramref name="sft"/> on the policy's own samples (temperature 1).
    /// </summary>
    /// <param name="policy">the model evaluated.</param>
    /// <param name="sft">the reference model of the KL.</param>
    /// <param name="rm">the reward model that scores prompt + greedy answer.</param>
    /// <param name="questions">the held-out questions.</param>
    /// <param name="seed">seed of the KL samples; draw s uses <c>seed + s</c>.</param>
    /// <param name="klSamples">samples per prompt in the KL estimate (see <see cref="KlToReference"/>).</param>
    public StageEvaluation Evaluate(CausalLM policy, CausalLM sft, ScalarHeadModel rm, IReadOnlyList<WorldQuestion> questions, long seed, int klSamples = 4)
    {
        var prompts = questions.Select(PromptIds).ToList();
        int[][] greedy;
        using (var gen = Sampler.Generate(policy, prompts, new SamplingOptions { Greedy = true, MaxNewTokens = maxNewTokens, EosId = eosId, PadId = padId }, device))
            greedy = gen.Responses();
        var answers = greedy.Select(Decode).ToList();
        var gold = questions.Select((q, i) => FactWorld.Gold(q, answers[i])).ToList();
        var kinds = answers.Select(HedgingReward.Classify).ToList();
        var correct = questions.Select((q, i) => FactWorld.IsCorrect(q, answers[i])).ToList();
        var rmScores = RewardScoring.ScoreIds(rm, prompts.Select((p, i) => (IReadOnlyList<int>)p.Concat(greedy[i]).ToList()).ToList(), padId, device);

        var known = Enumerable.Range(0, questions.Count).Where(i => questions[i].Fact.Known).ToList();
        var unknown = Enumerable.Range(0, questions.Count).Where(i => !questions[i].Fact.Known).ToList();
        int Count(IEnumerable<int> idx, Func<int, bool> f) => idx.Count(f);
        bool Halluc(int i) => HedgingReward.IsConfidentlyWrong(kinds[i], correct[i]);
        var kl = Statistics.Mean(KlToReference(policy, sft, prompts, seed, klSamples));
        var hall = Statistics.Rate(Count(unknown, Halluc), unknown.Count);
        var acc = Statistics.Rate(Count(known, i => correct[i] && kinds[i] != AnswerKind.DontKnow), known.Count);
        var goldEst = Statistics.Mean(gold);
        var rmEst = Statistics.Mean(rmScores);
        var all = Enumerable.Range(0, questions.Count);
        var mc = MultipleChoice(policy, questions);
        return new StageEvaluation
        {
            GoldRewardMean = goldEst.Value, GoldRewardCi95 = StageEvaluation.Ci(goldEst),
            GoldRewardKnown = known.Count > 0 ? known.Average(i => gold[i]) : double.NaN,
            GoldRewardUnknown = unknown.Count > 0 ? unknown.Average(i => gold[i]) : double.NaN,
            HallucinationRate = hall.Value, HallucinationRateCi95 = StageEvaluation.Ci(hall),
            HallucinationRateKnown = Statistics.Rate(Count(known, Halluc), known.Count).Value,
            HedgeRate = Statistics.Rate(Count(all, i => kinds[i] == AnswerKind.Hedged), questions.Count).Value,
            HedgeRateKnown = Statistics.Rate(Count(known, i => kinds[i] == AnswerKind.Hedged), known.Count).Value,
            HedgeRateUnknown = Statistics.Rate(Count(unknown, i => kinds[i] == AnswerKind.Hedged), unknown.Count).Value,
            IdkRate = Statistics.Rate(Count(all, i => kinds[i] == AnswerKind.DontKnow), questions.Count).Value,
            IdkRateKnown = Statistics.Rate(Count(known, i => kinds[i] == AnswerKind.DontKnow), known.Count).Value,
            IdkRateUnknown = Statistics.Rate(Count(unknown, i => kinds[i] == AnswerKind.DontKnow), unknown.Count).Value,
            KnownAccuracy = acc.Value, KnownAccuracyCi95 = StageEvaluation.Ci(acc),
            RmScoreMean = rmEst.Value, RmScoreCi95 = StageEvaluation.Ci(rmEst),
            KlToSft = kl.Value, KlToSftCi95 = StageEvaluation.Ci(kl),
            QuestionsKnown = known.Count, QuestionsUnknown = unknown.Count,
            Answers = questions.Select((q, i) => (q, answers[i], gold[i])).ToList(),
            GoldRewards = gold.ToArray(),
            Mc1 = mc.Mc1.Value, Mc1Ci95 = StageEvaluation.Ci(mc.Mc1), Mc2 = mc.Mc2.Value, Mc2Ci95 = StageEvaluation.Ci(mc.Mc2), McQuestions = mc.Scored,
        };
    }

    /// <summary>
    /// The multiple-choice version of the known facts among <paramref name="questions"/>: the question as asked, and as
    /// answers every value of its attribute phrased as the demo's correct answers are (e.g. "They live in Rome."), the
    /// true value's being MC1's best answer and MC2's only true one, the other 7 the incorrect ones.
    /// </summary>
    public static List<MultipleChoiceQuestion> MultipleChoiceQuestions(IEnumerable<WorldQuestion> questions) =>
        questions.Where(q => q.Fact.Known).Select(q =>
        {
            var wrong = q.Fact.Attribute.Values.Where(v => v != q.Fact.Value)
                .Select(v => string.Format(q.Fact.Attribute.Answer, q.Fact.Entity, v)).ToList();
            return new MultipleChoiceQuestion(q.Prompt, q.CorrectAnswer, wrong, [q.CorrectAnswer], wrong);
        }).ToList();

    /// <summary>MC1 and MC2 (<see cref="MultipleChoiceEval"/>) of <paramref name="policy"/> on <see cref="MultipleChoiceQuestions"/>,
    /// the question rendered as the demo asks it (one user turn in the chat format, generation prompt included) and each
    /// answer scored as the assistant's text, without the end-of-turn EOS.</summary>
    public MultipleChoiceResult MultipleChoice(CausalLM policy, IReadOnlyList<WorldQuestion> questions) =>
        MultipleChoiceEval.Evaluate(policy, tokenizer, MultipleChoiceQuestions(questions), new MultipleChoicePrompt(format), padId, device, batchSize: 64);

    /// <summary>Per prompt: mean over <paramref name="samples"/> draws y ~ pi of sum_t log pi(y_t|.) - log pi_SFT(y_t|.).</summary>
    public List<double> KlToReference(CausalLM policy, CausalLM reference, IReadOnlyList<IReadOnlyList<int>> prompts, long seed, int samples)
    {
        var perPrompt = new double[prompts.Count];
        for (int s = 0; s < samples; s++)
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            using var gen = Sampler.Generate(policy, prompts, new SamplingOptions { Temperature = 1.0, MaxNewTokens = maxNewTokens, EosId = eosId, PadId = padId, Seed = seed + s }, device);
            int P = gen.PromptLength;
            var refLogits = reference.Forward(gen.Sequences, gen.AttentionMask)[.., (P - 1)..^1];            // [B,N,V]
            var refLogp = nn.functional.log_softmax(refLogits, -1).gather(-1, gen.ResponseIds.unsqueeze(-1)).squeeze(-1);
            var mask = gen.ResponseMask.to_type(ScalarType.Float32);
            var diff = ((gen.LogProbs - refLogp) * mask).sum(-1).to_type(ScalarType.Float64).cpu().data<double>().ToArray();
            for (int i = 0; i < diff.Length; i++) perPrompt[i] += diff[i] / samples;
        }
        return perPrompt.ToList();
    }
}
