using System.Globalization;

namespace RlhfSharp.Training.Core;

/// <summary>What a phase produced: where its model folder is, how long it ran, and its last metrics.</summary>
public sealed record PhaseResult
{
    /// <summary>"pretrain", "sft", "reward", "ppo", "dpo".</summary>
    public required string Phase { get; init; }
    /// <summary>The HF model folder written (absolute path); loads with <c>rlhf generate</c> and transformers.</summary>
    public required string OutputDir { get; init; }
    /// <summary>Optimizer steps (PPO: iterations) reached.</summary>
    public required long Steps { get; init; }
    /// <summary>What <see cref="Steps"/> counts, as the summary names it ("steps"; PPO: "iterations").</summary>
    public string StepUnit { get; init; } = "steps";
    /// <summary>Wall-clock seconds of this run.</summary>
    public required double Seconds { get; init; }
    /// <summary>The step the run resumed from, or null for a fresh run.</summary>
    public long? ResumedFromStep { get; init; }
    /// <summary>Training metrics of the last logged step ("loss"; PPO: "reward/score_mean", "kl", ...).</summary>
    public IReadOnlyDictionary<string, double> Metrics { get; init; } = new Dictionary<string, double>();
    /// <summary>Held-out metrics of the final evaluation ("eval_loss", "eval_accuracy", ...), empty without eval data.</summary>
    public IReadOnlyDictionary<string, double> Eval { get; init; } = new Dictionary<string, double>();
    /// <summary>Notes the run made about choices it took for the caller (a shortened response length, skipped prompts).</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    /// <summary>A training metric, else an eval metric, of that name; NaN when neither has it.</summary>
    public double Metric(string name) => Metrics.TryGetValue(name, out var value) ? value : Eval.TryGetValue(name, out value) ? value : double.NaN;

    /// <summary>One line: steps, time, the main metrics, and where the model is.</summary>
    public string Summary
    {
        get
        {
            var ci = CultureInfo.InvariantCulture;
            var shown = Metrics.Take(3).Concat(Eval).Select(kv => $"{kv.Key} {kv.Value.ToString("G4", ci)}");
            return $"{Phase}: {Steps} {StepUnit} in {Seconds.ToString("F1", ci)} s, {string.Join(", ", shown)}; model written to {OutputDir}";
        }
    }
}
