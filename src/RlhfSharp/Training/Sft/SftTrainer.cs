using RlhfSharp.Data;
using RlhfSharp.Models;
using RlhfSharp.Tokenization;
using RlhfSharp.Training.Core;
using RlhfSharp.Training.Losses;
using RlhfSharp.Training.Supervised;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Sft;

/// <summary>
/// Phase 2: supervised finetuning on demonstrations (InstructGPT §3.5). Each demonstration is rendered with the model
/// folder's chat format; the loss is the same CE as pretraining, counted on assistant tokens only (every assistant turn,
/// including the end-of-turn token that teaches the model to stop). Prompt tokens are masked, so their positions get
/// exactly zero gradient. Truncation: <see cref="ChatExampleEncoder"/>. Eval: <c>eval_loss</c> = mean NLL of held-out
/// response tokens.
/// </summary>
public static class SftTrainer
{
    /// <summary>Trains <paramref name="model"/> in place on the demonstrations and writes it as an HF folder into <paramref name="outputDir"/>.</summary>
    /// <param name="config">the SFT settings.</param>
    /// <param name="model">the model to finetune; trained in place.</param>
    /// <param name="tokenizer">the model folder's tokenizer.</param>
    /// <param name="chatFormat">the model folder's chat format, which renders every conversation.</param>
    /// <param name="demonstrations">the training demonstrations.</param>
    /// <param name="evalDemonstrations">held-out demonstrations for eval_loss, or null.</param>
    /// <param name="outputDir">where the HF model folder, checkpoints/, metrics.jsonl, tensorboard/ and plots go.</param>
    /// <param name="progress">progress reports; none when null.</param>
    /// <param name="tokenizerSourceDir">folder whose tokenizer files go into the output; null with a <see cref="ByteTokenizer"/> saves that.</param>
    /// <param name="resume">continue from the latest checkpoint in <c>outputDir/checkpoints</c> if one exists.</param>
    /// <param name="cancellation">stops the run between optimizer steps; the last checkpoint stays.</param>
    public static TrainResult Run(SftConfig config, CausalLM model, ITextTokenizer tokenizer, IChatFormat chatFormat,
        IReadOnlyList<Demonstration> demonstrations, IReadOnlyList<Demonstration>? evalDemonstrations, string outputDir,
        ITrainingProgress? progress = null, string? tokenizerSourceDir = null, bool resume = false,
        CancellationToken cancellation = default)
    {
        int maxLength = MaxLength(config, model);
        var train = Encode(demonstrations, chatFormat, tokenizer, maxLength, model, "sft data");
        var eval = evalDemonstrations is { Count: > 0 } ? Encode(evalDemonstrations, chatFormat, tokenizer, maxLength, model, "sft eval data") : null;
        var task = new SftTask(model, train, eval, PadId(tokenizer), config.BatchSize);
        using var adapters = config.Lora.Attach(model, "sft", config.Training.Seed);
        return SupervisedLoop.Run(new SupervisedRun
        {
            Adapters = adapters,
            Model = model, Training = config.Training, BatchSize = config.BatchSize, OutputDir = outputDir,
            Tokenizer = tokenizer, TokenizerSourceDir = tokenizerSourceDir, Progress = progress ?? NullProgress.Instance,
            Resume = resume, Cancellation = cancellation, Plots = MetricPlots.Training,
        }, task);
    }

    /// <summary>Longest example in tokens: <see cref="SftConfig.MaxLength"/> capped at the model's context, or the context when 0.</summary>
    public static int MaxLength(SftConfig config, HfModel model) =>
        config.MaxLength > 0 ? Math.Min(config.MaxLength, model.Config.MaxPositions) : model.Config.MaxPositions;

    /// <summary>Pads are never counted, so any id works; prefer the tokenizer's pad, then EOS.</summary>
    public static int PadId(ITextTokenizer tokenizer) => tokenizer.PadId ?? tokenizer.EosId ?? 0;

    /// <summary>Encodes demonstrations; those with no trained token after truncation are a user error naming the source.</summary>
    public static List<EncodedExample> Encode(IReadOnlyList<Demonstration> demos, IChatFormat format, ITextTokenizer tokenizer,
        int maxLength, HfModel model, string what)
    {
        if (demos.Count == 0) throw new UserError($"{what}: no demonstrations");
        var list = new List<EncodedExample>(demos.Count);
        foreach (var d in demos)
        {
            var e = ChatExampleEncoder.Encode(d, format, tokenizer, maxLength);
            if (!e.Trained.Skip(1).Any(x => x))
                throw new UserError($"{d.Source ?? what}: no response token left to train on after truncation to {maxLength} tokens");
            ChatExampleEncoder.CheckVocab(e.Ids, model.Config.VocabSize, d.Source ?? what);
            list.Add(e);
        }
        return list;
    }

    /// <summary>Mean NLL over the response tokens of <paramref name="examples"/>, no gradients.</summary>
    public static double ResponseLoss(CausalLM model, IReadOnlyList<EncodedExample> examples, int padId, int batchSize = 16)
    {
        using var noGrad = no_grad();
        model.eval();
        double nll = 0; long count = 0;
        for (int i = 0; i < examples.Count; i += batchSize)
        {
            using var scope = NewDisposeScope();
            var b = LmBatch.Build(examples.Skip(i).Take(batchSize).ToList(), padId, model.Device);
            var (sum, n) = LanguageModelObjective.LanguageModelNllSum(model.Forward(b.InputIds, b.AttentionMask), b.Targets, b.LossMask);
            nll += sum.to(ScalarType.Float64).item<double>();
            count += n.item<long>();
        }
        return nll / Math.Max(1, count);
    }

    sealed class SftTask(CausalLM model, List<EncodedExample> train, List<EncodedExample>? eval, int padId, int batchSize) : ISupervisedTask
    {
        public string Phase => "sft";
        public IReadOnlySet<string> CountMetrics { get; } = new HashSet<string> { "response_tokens" };
        public int ExampleCount => train.Count;

        /// <summary>Counted (response) tokens: those whose position is trained, after the first (see <see cref="LmBatch"/>).</summary>
        public long LossItems(long[] indices) => indices.Sum(i => (long)train[(int)i].Trained.Skip(1).Count(x => x));

        public MicroBatchOutput Forward(long[] indices)
        {
            var b = LmBatch.Build(indices.Select(i => train[(int)i]).ToList(), padId, model.Device);
            var logits = model.Forward(b.InputIds, b.AttentionMask);                                  // [B,T,V]
            var (nllSum, responseTokens) = LanguageModelObjective.LanguageModelNllSum(logits, b.Targets, b.LossMask);
            return new MicroBatchOutput(nllSum, new Dictionary<string, Tensor> { ["response_tokens"] = responseTokens }, b.Tokens);
        }

        public IReadOnlyDictionary<string, double>? Evaluate() =>
            eval is null ? null : new Dictionary<string, double> { ["eval_loss"] = ResponseLoss(model, eval, padId, batchSize) };
    }
}
