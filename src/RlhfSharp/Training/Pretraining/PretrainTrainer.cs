using RlhfSharp.Data;
using RlhfSharp.Models;
using RlhfSharp.Tokenization;
using RlhfSharp.Training.Core;
using RlhfSharp.Training.Losses;
using RlhfSharp.Training.Supervised;
using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Pretraining;

/// <summary>
/// Phase 1: causal-LM pretraining on raw text. Documents are tokenized, joined with EOS and packed into blocks
/// (<see cref="PretrainingPacker"/>); the loss is <c>CE = -mean log p(x_i | x_&lt;i)</c> over every position.
/// Eval metrics: <c>eval_loss</c> and <c>eval_perplexity</c> = exp(eval_loss) on held-out blocks.
/// </summary>
public static class PretrainTrainer
{
    /// <summary>Trains <paramref name="model"/> in place and writes it (with the tokenizer) into <paramref name="outputDir"/>.</summary>
    /// <param name="config">the pretraining settings.</param>
    /// <param name="model">the causal LM; trained in place.</param>
    /// <param name="tokenizer">tokenizes the documents and is saved with the model.</param>
    /// <param name="documents">raw text documents, joined with EOS and packed into blocks.</param>
    /// <param name="evalDocuments">held-out documents for eval_loss and eval_perplexity (at most <see cref="PretrainConfig.MaxEvalBlocks"/> blocks), or null.</param>
    /// <param name="outputDir">where the HF model folder, checkpoints/, metrics.jsonl, tensorboard/ and plots go.</param>
    /// <param name="progress">progress reports; none when null.</param>
    /// <param name="tokenizerSourceDir">folder whose tokenizer files go into the output; null with a <see cref="ByteTokenizer"/> saves that.</param>
    /// <param name="resume">continue from the latest checkpoint in <c>outputDir/checkpoints</c> if one exists.</param>
    /// <param name="cancellation">stops the run between optimizer steps; the last checkpoint stays.</param>
    public static TrainResult Run(PretrainConfig config, CausalLM model, ITextTokenizer tokenizer,
        IReadOnlyList<string> documents, IReadOnlyList<string>? evalDocuments, string outputDir,
        ITrainingProgress? progress = null, string? tokenizerSourceDir = null, bool resume = false,
        CancellationToken cancellation = default)
    {
        int block = BlockSize(config, model);
        var train = Pack(documents, tokenizer, block, model, "pretraining data");
        if (train.Count == 0) throw new UserError($"pretraining data: too little text for one block of {block + 1} tokens");
        var eval = evalDocuments is null ? null : Pack(evalDocuments, tokenizer, block, model, "eval data").Take(config.MaxEvalBlocks).ToList();
        return Run(config, model, tokenizer, train, eval is { Count: > 0 } ? eval : null, outputDir, progress, tokenizerSourceDir, resume, cancellation);
    }

    /// <summary>The same on already packed blocks (each of the same length, at most the model's context).</summary>
    public static TrainResult Run(PretrainConfig config, CausalLM model, ITextTokenizer? tokenizer,
        IReadOnlyList<PackedBlock> blocks, IReadOnlyList<PackedBlock>? evalBlocks, string outputDir,
        ITrainingProgress? progress = null, string? tokenizerSourceDir = null, bool resume = false,
        CancellationToken cancellation = default)
    {
        var task = new PretrainTask(model, blocks, evalBlocks, config.BatchSize);
        return SupervisedLoop.Run(new SupervisedRun
        {
            Model = model, Training = config.Training, BatchSize = config.BatchSize, OutputDir = outputDir,
            Tokenizer = tokenizer, TokenizerSourceDir = tokenizerSourceDir, Progress = progress ?? NullProgress.Instance,
            Resume = resume, Cancellation = cancellation, Plots = MetricPlots.Training,
        }, task);
    }

    /// <summary>Tokens per block: <see cref="PretrainConfig.BlockSize"/>, or the model's context when 0; more than the context is a user error.</summary>
    public static int BlockSize(PretrainConfig config, HfModel model)
    {
        int ctx = model.Config.MaxPositions;
        int block = config.BlockSize > 0 ? config.BlockSize : ctx;
        if (block > ctx) throw new UserError($"pretrain: block size {block} exceeds the model's context ({ctx} positions)");
        return block;
    }

    static List<PackedBlock> Pack(IReadOnlyList<string> docs, ITextTokenizer tokenizer, int block, HfModel model, string what)
    {
        var blocks = PretrainingPacker.Pack(docs, tokenizer, block).ToList();
        if (blocks.Count > 0) ChatExampleEncoder.CheckVocab(blocks.SelectMany(b => b.Input.Append(b.Target[^1])).Distinct(), model.Config.VocabSize, what);
        return blocks;
    }

    /// <summary>Mean next-token NLL over blocks, no gradients; (loss, tokens).</summary>
    public static (double Loss, long Tokens) EvalLoss(CausalLM model, IReadOnlyList<PackedBlock> blocks, int batchSize)
    {
        using var noGrad = no_grad();
        model.eval();
        double nll = 0; long count = 0;
        for (int i = 0; i < blocks.Count; i += batchSize)
        {
            using var scope = NewDisposeScope();
            var (x, y) = Tensors(blocks.Skip(i).Take(batchSize).ToList(), model.Device);
            var (sum, n) = LanguageModelObjective.LanguageModelNllSum(model.Forward(x), y);
            nll += sum.to(ScalarType.Float64).item<double>();
            count += n.item<long>();
        }
        return (nll / Math.Max(1, count), count);
    }

    static (Tensor Input, Tensor Target) Tensors(IReadOnlyList<PackedBlock> rows, Device device)
    {
        int B = rows.Count, T = rows[0].Input.Length;
        var x = new long[B * T]; var y = new long[B * T];
        for (int b = 0; b < B; b++)
            for (int t = 0; t < T; t++) { x[b * T + t] = rows[b].Input[t]; y[b * T + t] = rows[b].Target[t]; }
        return (tensor(x, [B, T]).to(device), tensor(y, [B, T]).to(device));
    }

    sealed class PretrainTask(CausalLM model, IReadOnlyList<PackedBlock> blocks, IReadOnlyList<PackedBlock>? eval, int batchSize) : ISupervisedTask
    {
        public string Phase => "pretrain";
        public int ExampleCount => blocks.Count;

        /// <summary>Every target of a block is counted.</summary>
        public long LossItems(long[] indices) => indices.Sum(i => (long)blocks[(int)i].Target.Length);

        public MicroBatchOutput Forward(long[] indices)
        {
            var rows = indices.Select(i => blocks[(int)i]).ToList();
            var (x, y) = Tensors(rows, model.Device);                 // [B,T] each
            var (nllSum, _) = LanguageModelObjective.LanguageModelNllSum(model.Forward(x), y);
            return new MicroBatchOutput(nllSum, new Dictionary<string, Tensor>(), x.numel());
        }

        public IReadOnlyDictionary<string, double>? Evaluate()
        {
            if (eval is null) return null;
            var (loss, _) = EvalLoss(model, eval, batchSize);
            return new Dictionary<string, double> { ["eval_loss"] = loss, ["eval_perplexity"] = Math.Exp(loss) };
        }
    }
}
