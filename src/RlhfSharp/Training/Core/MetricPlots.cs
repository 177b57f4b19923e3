using ScottPlot;

namespace RlhfSharp.Training.Core;

/// <summary>PNG line charts of logged series (ScottPlot, headless). Common groups for the trainers included.</summary>
public static class MetricPlots
{
    /// <summary>Loss, learning rate and gradient norm: every phase.</summary>
    public static readonly PlotGroup[] Training =
    [
        new("loss.png", "Loss", "loss", "loss", "eval_loss"),
        new("lr.png", "Learning rate", "lr", "lr"),
        new("grad_norm.png", "Gradient norm (before clipping)", "L2 norm", "grad_norm"),
    ];

    /// <summary>Reward model: held-out pair accuracy and score margin.</summary>
    public static readonly PlotGroup[] RewardModel =
    [
        new("accuracy.png", "Reward model accuracy", "accuracy", "accuracy", "eval_accuracy"),
        new("margin.png", "Reward margin (chosen - rejected)", "margin", "margin", "eval_margin"),
    ];

    /// <summary>Writes one PNG per group that has at least one logged series into <paramref name="folder"/> (non-finite points left out); returns the paths written.</summary>
    public static IReadOnlyList<string> Write(IReadOnlyDictionary<string, List<(long Step, double Value)>> series,
        IEnumerable<PlotGroup> groups, string folder, int width = 900, int height = 500)
    {
        Directory.CreateDirectory(folder);
        var written = new List<string>();
        foreach (var g in groups)
        {
            var present = g.Series.Where(series.ContainsKey).ToList();
            if (present.Count == 0) continue;   // a series the phase never logged: no empty chart
            var plot = new Plot();
            foreach (var name in present)
            {
                var points = series[name].Where(p => double.IsFinite(p.Value)).ToList();
                var scatter = plot.Add.Scatter(points.Select(p => (double)p.Step).ToArray(), points.Select(p => p.Value).ToArray());
                scatter.LegendText = name;
                scatter.MarkerSize = points.Count > 50 ? 0 : 4;
            }
            plot.Title(g.Title);
            plot.XLabel("step");
            plot.YLabel(g.YLabel);
            if (present.Count > 1) plot.ShowLegend();
            var path = Path.Combine(folder, g.FileName);
            plot.SavePng(path, width, height);
            written.Add(path);
        }
        return written;
    }
}
