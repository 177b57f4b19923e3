using RlhfSharp.Data;
using RlhfSharp.Generation;
using RlhfSharp.Models;
using RlhfSharp.Tokenization;
using RlhfSharp.Training.Core;
using RlhfSharp.Training.Losses;
using RlhfSharp.Training.Supervised;
using static TorchSharp.torch;

namespace RlhfSharp.Training.RewardModeling;

/// <summary>Scores of the chosen and rejected rows of a pair set, and what they say (<see cref="PairStatistics"/>).</summary>
public sealed record PairScores(double[] Chosen, double[] Rejected)
{
    PairStatistics Statistics => PairStatistics.FromScores(Chosen, Rejected);
    /// <summary>Number of pairs.</summary>
    public int Pairs => Chosen.Length;
    /// <summary>Fraction of pairs with score(chosen) &gt; score(rejected); a tie counts as wrong.</summary>
    public double Accuracy => Statistics.Accuracy;
    /// <summary>Mean of score(chosen) - score(rejected).</summary>
    public double MeanMargin => Statistics.MeanMargin;
    /// <summary>Mean score over all chosen and rejected rows.</summary>
    public double RewardMean => Statistics.RewardMean;
    /// <summary>Sample standard deviation of those scores.</summary>
    public double RewardStd => Statistics.RewardStd;
}

/// <summary>
/// Phase 3.1: the reward model (InstructGPT §3.5). A <see cref="ScalarHeadModel"/> (HF *ForSequenceClassification,
/// usually <c>HfModelLoader.LoadScalarHeadFromCausalLM(sftDir)</c>) scores prompt + response at its last real token;
/// a batch element is one pair, or with <see cref="RewardConfig.GroupRankings"/> one whole ranking whose distinct responses
/// are scored once; loss <c>-mean log sigmoid(s_w - s_l)</c>, averaged per ranking and then over rankings.
/// Conversations are encoded by <see cref="ScoredConversation"/> exactly as PPO's rollouts are (prompt ids, reply ids,
/// end-of-reply id, nothing after it), so the RM learns its score at the token where PPO reads it.
/// Metrics: accuracy, margin, reward mean/std (train and eval).
/// </summary>
public static class RewardTrainer
{
    /// <summary>The PNG charts the reward phase writes: the training charts plus accuracy and margin.</summary>
    public static readonly PlotGroup[] Plots = [.. MetricPlots.Training, .. MetricPlots.RewardModel];

    /// <summary>Trains <paramref name="model"/> in place on the comparisons (normalising it at the end when <see cref="RewardConfig.NormalizeRewards"/>) and writes it as an HF folder into <paramref name="outputDir"/>.</summary>
    /// <param name="config">the reward settings.</param>
    /// <param name="model">the reward model, usually the SFT trunk with a fresh score head; trained in place.</param>
    /// <param name="tokenizer">the model folder's tokenizer.</param>
    /// <param name="chatFormat">the model folder's chat format, which renders every conversation.</param>
    /// <param name="pairs">the training comparisons.</param>
    /// <param name="evalPairs">held-out comparisons for eval accuracy and margin, or null.</param>
    /// <param name="outputDir">where the HF model folder, checkpoints/, metrics.jsonl, tensorboard/ and plots go.</param>
    /// <param name="progress">progress reports; none when null.</param>
    /// <param name="tokenizerSourceDir">folder whose tokenizer files go into the output; null with a <see cref="ByteTokenizer"/> saves that.</param>
    /// <param name="resume">continue from the latest checkpoint in <c>outputDir/checkpoints</c> if one exists.</param>
    /// <param name="cancellation">stops the run between optimizer steps; the last checkpoint stays.</param>
    public static TrainResult Run(RewardConfig config, ScalarHeadModel model, ITextTokenizer tokenizer, IChatFormat chatFormat,
        IReadOnlyList<Comparison> pairs, IReadOnlyList<Comparison>? evalPairs, string outputDir,
        ITrainingProgress? progress = null, string? tokenizerSourceDir = null, bool resume = false,
        CancellationToken cancellation = default)
    {
        int maxLength = config.MaxLength > 0 ? Math.Min(config.MaxLength, model.Config.MaxPositions) : model.Config.MaxPositions;
        var train = Encode(pairs, chatFormat, tokenizer, maxLength, model, "reward data");
        var eval = evalPairs is { Count: > 0 } ? Encode(evalPairs, chatFormat, tokenizer, maxLength, model, "reward eval data") : null;
        int padId = tokenizer.PadId ?? tokenizer.EosId ?? 0;
        // Without GroupRankings every pair is a group of its own: the same task, batch counting pairs.
        var groups = RankingGroups.From(train, pairs.Select(p => config.GroupRankings ? p.GroupId : null).ToList());
        var task = new RewardTask(model, groups, eval, padId, config.BatchSize);
        using var adapters = config.Lora.Attach(model, "reward", config.Training.Seed);
        return SupervisedLoop.Run(new SupervisedRun
        {
            Adapters = adapters,
            Model = model, Training = config.Training, BatchSize = config.BatchSize, OutputDir = outputDir,
            Tokenizer = tokenizer, TokenizerSourceDir = tokenizerSourceDir, Progress = progress ?? NullProgress.Instance,
            Resume = resume, Cancellation = cancellation, Plots = Plots,
            BeforeFinalSave = config.NormalizeRewards
                ? () => RewardNormalization.Apply(model, train.Take(Math.Max(1, config.NormalizeSamples / 2)).SelectMany(p => new[] { p.Chosen, p.Rejected }).ToList(), padId, outputDir, progress)
                : null,
        }, task);
    }

    /// <summary>Token ids of each pair's chosen and rejected conversation, ending at the end-of-reply id where the score
    /// is read, as PPO reads it (<see cref="ScoredConversation"/>; truncation: <see cref="ChatExampleEncoder"/>).</summary>
    public static List<(int[] Chosen, int[] Rejected)> Encode(IReadOnlyList<Comparison> pairs, IChatFormat format,
        ITextTokenizer tokenizer, int maxLength, HfModel model, string what)
    {
        if (pairs.Count == 0) throw new UserError($"{what}: no comparison pairs");
        int end = ScoredConversation.EndOfReplyId(format, tokenizer, model.Config.EosTokenId);
        var list = new List<(int[], int[])>(pairs.Count);
        foreach (var p in pairs)
        {
            var (c, r) = ChatExampleEncoder.Encode(p, format, tokenizer, maxLength, end);
            ChatExampleEncoder.CheckVocab(c.Ids.Concat(r.Ids), model.Config.VocabSize, p.Source ?? what);
            list.Add((c.Ids, r.Ids));
        }
        return list;
    }

    /// <summary>Scores rows with the reward model in batches of right-padded rows, no gradients (<see cref="ScalarHeadScoring"/>).</summary>
    public static double[] Score(ScalarHeadModel model, IReadOnlyList<int[]> rows, int padId, int batchSize = 16)
    {
        model.eval();
        return ScalarHeadScoring.Score(model, rows.Select(row => (IReadOnlyList<int>)row).ToList(), padId, model.Device, batchSize);
    }

    /// <summary>Scores both sides of every pair (see <see cref="Score"/>).</summary>
    public static PairScores ScorePairs(ScalarHeadModel model, IReadOnlyList<(int[] Chosen, int[] Rejected)> pairs, int padId, int batchSize = 16) =>
        new(Score(model, pairs.Select(p => p.Chosen).ToList(), padId, batchSize), Score(model, pairs.Select(p => p.Rejected).ToList(), padId, batchSize));

    /// <summary>Batches whole ranking groups: each distinct response is scored once and the group's pairs are weighted
    /// 1 / C(K,2) (see <see cref="RewardModelObjective.PairwiseLoss(Tensor, Tensor, Tensor?)"/>), so the micro-batch's
    /// loss is the SUM over rankings of each ranking's mean pair loss, and the loop divides by the step's ranking count:
    /// InstructGPT's mean per ranking, then over rankings. With single-pair groups that is the plain mean over pairs.</summary>
    sealed class RewardTask(ScalarHeadModel model, List<RankingGroup> groups, List<(int[] Chosen, int[] Rejected)>? eval,
        int padId, int batchSize) : ISupervisedTask
    {
        public string Phase => "reward";
        public int ExampleCount => groups.Count;

        /// <summary>A ranking (a single pair is a ranking of two) is the item.</summary>
        public long LossItems(long[] indices) => indices.Length;

        public MicroBatchOutput Forward(long[] indices)
        {
            var rows = new List<IReadOnlyList<int>>();
            var chosenRow = new List<long>(); var rejectedRow = new List<long>(); var weight = new List<double>();
            foreach (var g in indices.Select(i => groups[(int)i]))
            {
                int offset = rows.Count;
                rows.AddRange(g.Rows);
                for (int p = 0; p < g.Chosen.Length; p++)
                {
                    chosenRow.Add(offset + g.Chosen[p]); rejectedRow.Add(offset + g.Rejected[p]);
                    weight.Add(1.0 / g.Chosen.Length);
                }
            }
            var dev = model.Device;
            var (ids, mask) = TokenBatch.RightPadded(rows, padId, dev);                    // [R,T]
            var scores = model.Score(ids, mask);                                            // [R]
            var pl = RewardModelObjective.PairwiseLoss(scores.index_select(0, tensor(chosenRow.ToArray(), device: dev)),
                                                       scores.index_select(0, tensor(rejectedRow.ToArray(), device: dev)),
                                                       tensor(weight.ToArray(), device: dev));   // pairs [P]
            var s = scores.detach();
            return new MicroBatchOutput(pl.Loss, new Dictionary<string, Tensor>
            {
                ["accuracy"] = pl.Accuracy, ["margin"] = pl.Margin, ["reward_mean"] = s.mean(), ["reward_std"] = s.std(),
            }, rows.Sum(r => (long)r.Count));
        }

        public IReadOnlyDictionary<string, double>? Evaluate()
        {
            if (eval is null) return null;
            var ps = ScorePairs(model, eval, padId, batchSize);
            return new Dictionary<string, double>
            {
                ["eval_accuracy"] = ps.Accuracy, ["eval_margin"] = ps.MeanMargin,
                ["eval_reward_mean"] = ps.RewardMean, ["eval_reward_std"] = ps.RewardStd,
            };
        }
    }
}
