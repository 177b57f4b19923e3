using System.Globalization;
using RlhfSharp.Training.Core;
using Spectre.Console;

namespace RlhfSharp.Cli;

/// <summary>
/// Training progress on stderr: live Spectre.Console bars (one per phase) when stderr is a terminal, plain lines when it
/// is redirected (CI logs, pipes), so a log file never fills with cursor movements.
/// </summary>
public static class ConsoleProgress
{
    public static T Run<T>(Func<ITrainingProgress, T> body)
    {
        if (Console.IsErrorRedirected || Environment.GetEnvironmentVariable("TERM") is null or "dumb")
            return body(new PlainTextProgress(Console.Error));
        return RunWithBars(AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) }), body);
    }

    public static T RunWithBars<T>(IAnsiConsole console, Func<ITrainingProgress, T> body)
    {
        T result = default!;
        console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                     new RemainingTimeColumn(), new SpinnerColumn())
            .Start(ctx => result = body(new Bars(ctx, console)));
        return result;
    }

    /// <summary>A new bar starts at each phase, and whenever the step count starts over or its total changes.</summary>
    sealed class Bars(ProgressContext ctx, IAnsiConsole console) : ITrainingProgress
    {
        ProgressTask? _bar;
        string _phase = "training";
        long _lastStep = -1;

        public void BeginPhase(string name)
        {
            Close();
            _phase = name;
        }

        public void Message(string text) => console.MarkupLine(Markup.Escape(text));

        public void Report(ProgressUpdate u)
        {
            if (_bar is null || u.TotalSteps != (long)_bar.MaxValue || u.Step < _lastStep)
            {
                Close();
                _bar = ctx.AddTask(Markup.Escape(_phase), maxValue: Math.Max(1, u.TotalSteps));
            }
            _lastStep = u.Step;
            _bar.Value = u.Step;
            var ci = CultureInfo.InvariantCulture;
            var shown = u.Metrics.Take(3).Select(kv => $"{kv.Key} {kv.Value.ToString("G4", ci)}").ToList();
            if (u.TokensPerSecond > 0) shown.Add($"{u.TokensPerSecond.ToString("F0", ci)} tok/s");
            _bar.Description = Markup.Escape($"{_phase}  {string.Join("  ", shown)}");
        }

        // A bar that stops early (early stopping, an error) keeps showing where it stopped.
        void Close()
        {
            _bar?.StopTask();
            _bar = null;
            _lastStep = -1;
        }
    }
}
