using RlhfSharp.Data;
using RlhfSharp.Models;
using RlhfSharp.Models.Lora;
using RlhfSharp.Tokenization;
using RlhfSharp.Training.Core;
using RlhfSharp.Training.Losses;
using RlhfSharp.Training.Supervised;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Dpo;

/// <summary>
/// Direct preference optimisation (Rafailov et al. 2023): the SFT policy is trained on comparisons directly, against a
/// frozen reference that is a deep copy of the policy at the start (no gradients, no optimizer state), or, with LoRA,
/// the same weights with the adapters switched off. Sequence
/// log-probabilities are summed over the response tokens only (the prompt is masked as in SFT); IPO uses their
/// per-token average. Logged: implicit chosen/rejected rewards β·(log π − log π_ref), accuracy and margin, on training
/// batches and on held-out pairs (<c>eval_accuracy</c> = held-out implicit-reward accuracy).
/// </summary>
public static class DpoTrainer
{
    /// <summary>The PNG charts DPO writes: the training charts, implicit-reward accuracy, and implicit rewards and margin.</summary>
    public static readonly PlotGroup[] Plots =
    [
        .. MetricPlots.Training,
        new("accuracy.png", "DPO implicit-reward accuracy", "accuracy", "accuracy", "eval_accuracy"),
        new("rewards.png", "DPO implicit rewards", "beta * log ratio", "rewards_chosen", "rewards_rejected", "margin", "eval_margin"),
    ];

    /// <summary>Trains <paramref name="policy"/> in place against a frozen copy of itself (the reference) and writes it as an HF folder into <paramref name="outputDir"/>.</summary>
    /// <param name="config">the DPO settings.</param>
    /// <param name="policy">the SFT model; trained in place (its reference is copied from it before any resume).</param>
    /// <param name="tokenizer">the model folder's tokenizer.</param>
    /// <param name="chatFormat">the model folder's chat format, which renders every conversation.</param>
    /// <param name="pairs">the training comparisons.</param>
    /// <param name="evalPairs">held-out comparisons for eval_accuracy and eval_margin, or null.</param>
    /// <param name="outputDir">where the HF model folder, checkpoints/, metrics.jsonl, tensorboard/ and plots go.</param>
    /// <param name="progress">progress reports; none when null.</param>
    /// <param name="tokenizerSourceDir">folder whose tokenizer files go into the output; null with a <see cref="ByteTokenizer"/> saves that.</param>
    /// <param name="resume">continue from the latest checkpoint in <c>outputDir/checkpoints</c> if one exists.</param>
    /// <param name="cancellation">stops the run between optimizer steps; the last checkpoint stays.</param>
    public static TrainResult Run(DpoConfig config, CausalLM policy, ITextTokenizer tokenizer, IChatFormat chatFormat,
        IReadOnlyList<Comparison> pairs, IReadOnlyList<Comparison>? evalPairs, string outputDir,
        ITrainingProgress? progress = null, string? tokenizerSourceDir = null, bool resume = false,
        CancellationToken cancellation = default)
    {
        if (!(config.Beta > 0)) throw new UserError($"dpo: beta must be > 0, got {config.Beta}");
        int maxLength = config.MaxLength > 0 ? Math.Min(config.MaxLength, policy.Config.MaxPositions) : policy.Config.MaxPositions;
        var train = Encode(pairs, chatFormat, tokenizer, maxLength, policy, "dpo data");
        var eval = evalPairs is { Count: > 0 } ? Encode(evalPairs, chatFormat, tokenizer, maxLength, policy, "dpo eval data") : null;
        // With LoRA the reference is the policy with its adapters switched off (the frozen base: no second copy of the
        // weights). Without, it is copied before any resume loads checkpoint weights into the policy: it stays the SFT model.
        using var adapters = config.Lora.Attach(policy, "dpo", config.Training.Seed);
        using var copy = adapters is null ? ModelFactory.DeepCopy(policy) : null;
        if (copy is not null)
        {
            copy.eval();
            foreach (var p in copy.parameters()) p.requires_grad = false;
        }
        var task = new DpoTask(config, policy, copy ?? policy, adapters, train, eval, tokenizer.PadId ?? tokenizer.EosId ?? 0);
        return SupervisedLoop.Run(new SupervisedRun
        {
            Adapters = adapters,
            Model = policy, Training = config.Training, BatchSize = config.BatchSize, OutputDir = outputDir,
            Tokenizer = tokenizer, TokenizerSourceDir = tokenizerSourceDir, Progress = progress ?? NullProgress.Instance,
            Resume = resume, Cancellation = cancellation, Plots = Plots,
        }, task);
    }

    /// <summary>Chosen and rejected conversations with only the compared response (and its end-of-reply id) marked as
    /// trained; both sides keep the same prompt tokens when truncated (<see cref="ChatExampleEncoder"/>).</summary>
    public static List<(EncodedExample Chosen, EncodedExample Rejected)> Encode(IReadOnlyList<Comparison> pairs, IChatFormat format,
        ITextTokenizer tokenizer, int maxLength, HfModel model, string what)
    {
        if (pairs.Count == 0) throw new UserError($"{what}: no comparison pairs");
        int end = ScoredConversation.EndOfReplyId(format, tokenizer, model.Config.EosTokenId);
        var list = new List<(EncodedExample, EncodedExample)>(pairs.Count);
        foreach (var p in pairs)
        {
            var (c, r) = ChatExampleEncoder.Encode(p, format, tokenizer, maxLength, end);
            if (!c.Trained.Skip(1).Any(x => x) || !r.Trained.Skip(1).Any(x => x))
                throw new UserError($"{p.Source ?? what}: no response token left after truncation to {maxLength} tokens");
            ChatExampleEncoder.CheckVocab(c.Ids.Concat(r.Ids), model.Config.VocabSize, p.Source ?? what);
            list.Add((c, r));
        }
        return list;
    }

    /// <summary>Sequence log-probs [2B] of chosen rows then rejected rows (sum over response tokens, or mean for IPO).</summary>
    static Tensor SequenceLogps(CausalLM model, LmBatch b, bool average) =>
        LogProbs.SequenceLogProbs(model.Forward(b.InputIds, b.AttentionMask), b.Targets, b.LossMask, average);

    sealed class DpoTask(DpoConfig cfg, CausalLM policy, CausalLM reference, LoraAdapters? adapters, List<(EncodedExample Chosen, EncodedExample Rejected)> train,
        List<(EncodedExample Chosen, EncodedExample Rejected)>? eval, int padId) : ISupervisedTask
    {
        public string Phase => "dpo";
        public int ExampleCount => train.Count;
        bool Average => cfg.Loss == DpoLossType.Ipo;

        (DpoLossOutput Out, long Tokens) Loss(IReadOnlyList<(EncodedExample Chosen, EncodedExample Rejected)> rows)
        {
            int B = rows.Count;
            var b = LmBatch.Build(rows.Select(r => r.Chosen).Concat(rows.Select(r => r.Rejected)).ToList(), padId, policy.Device);
            var logp = SequenceLogps(policy, b, Average);                        // [2B]
            Tensor refLogp;
            using (no_grad())
            using (adapters?.Disable())                                          // LoRA: the reference is the base
                refLogp = SequenceLogps(reference, b, Average);                  // [2B]
            var o = DpoObjective.DpoLoss(logp[..B], logp[B..], refLogp[..B], refLogp[B..], cfg.Beta, cfg.Loss);
            return (o, b.Tokens);
        }

        /// <summary>The DPO loss is a mean over pairs (TRL), so a pair is the item.</summary>
        public long LossItems(long[] indices) => indices.Length;

        public MicroBatchOutput Forward(long[] indices)
        {
            var (o, tokens) = Loss(indices.Select(i => train[(int)i]).ToList());
            return new MicroBatchOutput(o.Loss * indices.Length, new Dictionary<string, Tensor>
            {
                ["accuracy"] = o.Accuracy, ["margin"] = o.Margin,
                ["rewards_chosen"] = o.ChosenRewards.mean(), ["rewards_rejected"] = o.RejectedRewards.mean(),
            }, tokens);
        }

        public IReadOnlyDictionary<string, double>? Evaluate()
        {
            if (eval is null) return null;
            policy.eval();
            using var noGrad = no_grad();
            double loss = 0, correct = 0, margin = 0, chosen = 0, rejected = 0;
            const int batch = 16;
            for (int i = 0; i < eval.Count; i += batch)
            {
                using var scope = NewDisposeScope();
                var rows = eval.Skip(i).Take(batch).ToList();
                var (o, _) = Loss(rows);
                int n = rows.Count;
                var v = stack([o.Loss, o.Accuracy, o.Margin, o.ChosenRewards.mean(), o.RejectedRewards.mean()])
                    .to(ScalarType.Float64).cpu().data<double>().ToArray();
                loss += v[0] * n; correct += v[1] * n; margin += v[2] * n; chosen += v[3] * n; rejected += v[4] * n;
            }
            int N = eval.Count;
            return new Dictionary<string, double>
            {
                ["eval_loss"] = loss / N, ["eval_accuracy"] = correct / N, ["eval_margin"] = margin / N,
                ["eval_rewards_chosen"] = chosen / N, ["eval_rewards_rejected"] = rejected / N,
            };
        }
    }
}
