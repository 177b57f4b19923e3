using System.Diagnostics;
using RlhfSharp.Checkpoints;
using RlhfSharp.Distributed;
using RlhfSharp.Models;
using RlhfSharp.Models.Lora;
using RlhfSharp.Tokenization;
using RlhfSharp.Training.Core;
using TorchSharp;
using static TorchSharp.torch;
using AdamW = RlhfSharp.Training.Core.AdamW;

namespace RlhfSharp.Training.Supervised;

/// <summary>Everything <see cref="SupervisedLoop.Run"/> needs besides the task.</summary>
public sealed record SupervisedRun
{
    /// <summary>The model to train in place (causal LM or scalar head).</summary>
    public required HfModel Model { get; init; }
    /// <summary>Optimizer, schedule, epochs/steps, intervals and seed.</summary>
    public required TrainingConfig Training { get; init; }
    /// <summary>Examples per optimizer step (split into <c>GradAccumulationSteps</c> micro-batches, which must divide it).</summary>
    public required int BatchSize { get; init; }
    /// <summary>Where the HF model folder, checkpoints/, metrics.jsonl, tensorboard/ and plots go.</summary>
    public required string OutputDir { get; init; }
    /// <summary>Tokenizer files are copied from here into the output folder; when null and the tokenizer is a
    /// <see cref="ByteTokenizer"/>, it is saved there instead.</summary>
    public string? TokenizerSourceDir { get; init; }
    /// <summary>The tokenizer saved with the model (see <see cref="TokenizerSourceDir"/>), or null.</summary>
    public ITextTokenizer? Tokenizer { get; init; }
    /// <summary>Progress reports (default: none).</summary>
    public ITrainingProgress Progress { get; init; } = NullProgress.Instance;
    /// <summary>Continue from the latest complete checkpoint in <c>output/checkpoints</c> when there is one.</summary>
    public bool Resume { get; init; }
    /// <summary>Stops the run between optimizer steps (the last checkpoint stays the latest, so resume is exact).</summary>
    public CancellationToken Cancellation { get; init; }
    /// <summary>The PNG charts written at the end (default: loss, learning rate, gradient norm).</summary>
    public IReadOnlyList<PlotGroup> Plots { get; init; } = MetricPlots.Training;
    /// <summary>Runs on the trained model just before the final save (e.g. reward normalisation).</summary>
    public Action? BeforeFinalSave { get; init; }
    /// <summary>LoRA adapters attached to <see cref="Model"/>, or null for full finetuning. With adapters only they (and a
    /// scalar head) are optimized, checkpoints hold the adapter instead of the model, and the output gets the PEFT adapter
    /// in <c>adapter/</c> beside the merged model (<see cref="SupervisedLoop.SaveModel"/>).</summary>
    public LoraAdapters? Adapters { get; init; }
    /// <summary>The data-parallel group this run trains in (default: the phase's, <see cref="ProcessGroup.Current"/>;
    /// one process outside a distributed phase). <see cref="BatchSize"/> is the global batch: each rank takes its share
    /// of every micro-batch, and rank 0 alone writes checkpoints, metrics, plots, the model and progress.</summary>
    public ProcessGroup Group { get; init; } = ProcessGroup.Current;
}

/// <summary>
/// The loop pretraining, SFT, reward modelling and DPO share (nanoGPT's train loop, TRL's Trainer in spirit):
/// AdamW without decay on norms/biases, warmup + cosine, gradient clipping, gradient accumulation, evaluation every N
/// steps, atomic checkpoints every N steps (model, optimizer, schedule step, torch RNG, data position) with exact
/// resume, metrics to JSONL + TensorBoard + PNG plots, and a NaN/Inf stop that names the step and the last good
/// checkpoint. Output: an HF model folder plus <c>checkpoints/</c>, <c>metrics.jsonl</c>, <c>tensorboard/</c>, plots.
/// Data-parallel (<see cref="SupervisedRun.Group"/>): every rank draws the same global micro-batches from the same
/// sampler (so the data position in a checkpoint is global and resumes under any number of ranks), runs its contiguous
/// share, divides its loss sum by the GLOBAL item count, and the gradients are summed over ranks before clipping: the
/// update equals one process's on the whole batch, up to the order of float additions.
/// </summary>
public static class SupervisedLoop
{
    /// <summary>Subfolder of the output that holds the checkpoints.</summary>
    public const string CheckpointsFolder = "checkpoints";

    /// <summary>Optimizer steps for a run: <c>MaxSteps</c> if set, else ceil(epochs * examples / batch size).</summary>
    public static long TotalSteps(TrainingConfig t, int examples, int batchSize) =>
        t.MaxSteps > 0 ? t.MaxSteps : Math.Max(1, ((long)t.MaxEpochs * examples + batchSize - 1) / batchSize);

    /// <summary>Trains <paramref name="task"/> as <paramref name="run"/> says, resuming from the latest checkpoint when asked; returns the final loss, last evaluation, steps and time.</summary>
    public static TrainResult Run(SupervisedRun run, ISupervisedTask task)
    {
        var t = run.Training;
        long total = TotalSteps(t, task.ExampleCount, run.BatchSize);
        t.Validate(total);
        if (run.BatchSize < 1) throw new UserError($"{task.Phase}: batch size must be >= 1, got {run.BatchSize}");
        var accumulation = t.Accumulation;
        int micro = accumulation.MicroBatchSize(run.BatchSize);
        var group = run.Group;
        if (micro % group.Size != 0)
            throw new UserError($"{task.Phase}: batch_size {run.BatchSize} / grad_accum {accumulation.Steps} = {micro} examples per micro-batch cannot be split evenly over {group.Size} processes");
        var progress = group.IsMain ? run.Progress : NullProgress.Instance;
        Directory.CreateDirectory(run.OutputDir);

        var model = run.Model;
        // bf16: the weights move to bf16 here (LoRA adapters, not part of the module tree, stay float32); the optimizer
        // keeps float32 master weights (TrainingConfig.Optimizer sets MasterWeights).
        model.Backbone.GradientCheckpointing = t.GradientCheckpointing;
        if (t.Dtype == Precision.Bf16 && model.Dtype != ScalarType.BFloat16) model.to(ScalarType.BFloat16);
        using var optimizer = run.Adapters is { } lora ? new AdamW(lora.NamedParameters(), t.Optimizer) : new AdamW(model, t.Optimizer);
        var schedule = t.LrScheduleFor(total);
        var sampler = new EpochSampler(task.ExampleCount, t.Seed);
        var store = new CheckpointStore(Path.Combine(run.OutputDir, CheckpointsFolder), t.KeepCheckpoints);

        long step = 0;
        long? resumedFrom = null;
        string? lastCheckpoint = null;
        if (run.Resume && store.LoadLatest() is { } ckpt)
        {
            if (run.Adapters is not null) AdapterFolder.LoadWeights(run.Adapters, ckpt.ModelFolder("model"));
            else HfModelLoader.LoadWeightsInto(model, ckpt.ModelFolder("model"));
            ckpt.LoadOptimizer("model", optimizer);
            if (ckpt.DataPosition is { } pos) sampler.Skip(pos);
            ckpt.RestoreTorchRng();
            step = ckpt.Step;
            resumedFrom = step;
            lastCheckpoint = ckpt.Folder;
            progress.Message($"{task.Phase}: resumed from {ckpt.Folder} (step {step} of {total})");
        }
        optimizer.BroadcastParameters(group);
        if (group.Size > 1) progress.Message($"{task.Phase}: data-parallel over {group.Size} processes, {micro / group.Size} examples each per micro-batch");

        using var metrics = group.IsMain ? new MetricsLogger(run.OutputDir, tensorboard: true, resumeFromStep: resumedFrom) : null;
        var meter = new ThroughputMeter();
        meter.Start(step);
        var clock = Stopwatch.StartNew();
        double lastLoss = double.NaN;
        IReadOnlyDictionary<string, double> lastEval = new Dictionary<string, double>();

        while (step < total)
        {
            run.Cancellation.ThrowIfCancellationRequested();
            model.train();
            using var scope = NewDisposeScope();
            // Draw the whole step's micro-batches and count their items first, so each summed micro-batch loss is
            // divided by the step's count: the gradient of one big batch (GradAccumulation; HF num_items_in_batch).
            var microBatches = Enumerable.Range(0, accumulation.Steps).Select(_ => sampler.NextBatch(micro)).ToList();
            long stepItems = microBatches.Sum(task.LossItems);   // global: every rank counts every rank's share
            var (shareStart, shareCount) = group.Share(micro);
            Tensor? lossSum = null;
            var metricSums = new Dictionary<string, Tensor>();
            long stepTokens = 0;
            foreach (var globalIndices in microBatches)
            {
                var indices = group.Size == 1 ? globalIndices : globalIndices[shareStart..(shareStart + shareCount)];
                var output = task.Forward(indices);
                GradAccumulation.Scale(output.LossSum, stepItems).backward();
                // Detached running sums: the step's mean loss and metrics, pulled to the host only when logging.
                var l = output.LossSum.detach();
                lossSum = lossSum is null ? l : lossSum + l;
                foreach (var (name, value) in output.Metrics)
                    metricSums[name] = metricSums.TryGetValue(name, out var s) ? s + value : value;
                stepTokens += output.Tokens;
            }
            if (group.Size > 1)
            {
                // One small all-reduce of host values per step: the global loss (for the NaN check and the log) and tokens.
                var totals = new[] { lossSum!.to(ScalarType.Float64).item<double>(), stepTokens };
                group.AllReduceSum(totals);
                lossSum = tensor(totals[0], ScalarType.Float64);
                stepTokens = (long)totals[1];
            }
            meter.AddTokens(stepTokens);
            var stepLoss = GradAccumulation.Scale(lossSum!, stepItems);
            bool log = t.ShouldLog(step + 1, total);
            double lr, gradNorm;
            try
            {
                (lr, gradNorm) = OptimizerStep.Apply(optimizer, schedule, step, t.GradClip, stepLoss, checkFinite: true, pullToHost: log, group: group);
            }
            catch (NonFiniteError e)
            {
                var keep = lastCheckpoint is null ? "no checkpoint was written yet" : $"the last good checkpoint is {lastCheckpoint} (resume from it)";
                // The guard names the 0-based schedule step; report the 1-based step the user sees in logs and checkpoints.
                var prefix = $"step {e.Step}: ";
                var detail = e.Message.StartsWith(prefix, StringComparison.Ordinal) ? e.Message[prefix.Length..] : e.Message;
                throw new NonFiniteError(e.Step + 1, e.Names, $"{task.Phase}: step {e.Step + 1}: {detail}; {keep}");
            }
            step++;

            if (log)
            {
                var values = new Dictionary<string, double> { ["loss"] = lastLoss = stepLoss.to(ScalarType.Float64).item<double>(), ["lr"] = lr, ["grad_norm"] = gradNorm };
                var names = metricSums.Keys.ToList();
                // Per-micro-batch metrics are averaged over micro-batches; over ranks, means (e.g. accuracy) are averaged
                // and counts (the task's CountMetrics) added, as one process would see them on the whole micro-batch.
                var perMicroBatch = names.Select(n => (metricSums[n] / accumulation.Steps).to(ScalarType.Float64).item<double>()).ToArray();
                group.AllReduceSum(perMicroBatch);
                var counts = task.CountMetrics;
                for (int i = 0; i < names.Count; i++) values[names[i]] = counts.Contains(names[i]) ? perMicroBatch[i] : perMicroBatch[i] / group.Size;
                values["tokens_per_sec"] = meter.TokensPerSecond;
                metrics?.Log(step, values);
                progress.Report(meter.Update(step, total, new Dictionary<string, double> { ["loss"] = values["loss"], ["lr"] = lr }));
            }
            // Every replica holds the same weights: rank 0 evaluates for all.
            if (t.ShouldEval(step, total) && group.IsMain && task.Evaluate() is { } eval)
            {
                model.train();
                lastEval = eval;
                metrics?.Log(step, eval);
                progress.Message($"{task.Phase}: step {step}: " + string.Join(", ", eval.Select(kv => $"{kv.Key} {kv.Value:G4}")));
            }
            if (t.ShouldSave(step, total) && group.IsMain)
            {
                lastCheckpoint = SaveCheckpoint(store, run, optimizer, sampler, step);
                progress.Message($"{task.Phase}: checkpoint {lastCheckpoint}");
            }
        }

        model.eval();
        if (group.IsMain)
        {
            metrics!.WritePlots(run.Plots);
            run.BeforeFinalSave?.Invoke();
            SaveModel(run);
        }
        return new TrainResult(step, lastLoss, lastEval, clock.Elapsed.TotalSeconds, resumedFrom, Path.GetFullPath(run.OutputDir));
    }

    static string SaveCheckpoint(CheckpointStore store, SupervisedRun run, AdamW optimizer, EpochSampler sampler, long step)
    {
        var data = new CheckpointData { Step = step, DataPosition = sampler.Position };
        data.Models["model"] = run.Adapters is { } lora ? dir => AdapterFolder.Save(lora, dir, null) : dir => HfModelSaver.Save(run.Model, dir);
        data.Optimizers["model"] = optimizer;
        return store.Save(data);
    }

    /// <summary>Subfolder of a LoRA run's output that holds the PEFT adapter.</summary>
    public const string AdapterFolderName = AdapterFolder.OutputSubfolder;

    /// <summary>
    /// Writes the model as an HF folder into the output (beside checkpoints and metrics), tokenizer included. With LoRA,
    /// the PEFT adapter (base_model_name_or_path = the tokenizer source folder, the model's folder when it started from
    /// one) goes to <c>adapter/</c> first, then the adapters are merged into the model, so the output folder is also a
    /// plain HF model that the next phase loads.
    /// </summary>
    public static void SaveModel(SupervisedRun run)
    {
        if (run.Adapters is { } lora) AdapterFolder.SaveIntoOutputAndMerge(lora, run.OutputDir, run.TokenizerSourceDir);
        var source = run.TokenizerSourceDir;
        if (source is not null && Path.GetFullPath(source) == Path.GetFullPath(run.OutputDir)) source = null;   // already there
        HfModelSaver.SaveInto(run.Model, run.OutputDir, source);
        if (run.TokenizerSourceDir is null && run.Tokenizer is ByteTokenizer bytes) bytes.Save(run.OutputDir);
    }
}
