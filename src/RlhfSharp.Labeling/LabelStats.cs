using System.Text;
using System.Text.Json;

namespace RlhfSharp.Labeling;

/// <summary>What `rlhf label stats` and GET /api/admin/stats report.</summary>
public sealed record LabelStats(
    long Tasks,
    long Labels,
    IReadOnlyDictionary<string, long> LabelsPerLabeler,
    AgreementReport Agreement,
    long RatedResponses,
    IReadOnlyDictionary<string, double> FlagRates)
{
    /// <summary>Computes the figures from a store. Flag rate = flagged responses / responses labelled.</summary>
    public static LabelStats From(LabelStore store)
    {
        var labels = store.Labels();
        var perLabeler = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var l in store.Labelers()) perLabeler[l.Name] = 0;
        foreach (var l in labels) perLabeler[l.Labeler] = perLabeler.GetValueOrDefault(l.Labeler) + 1;
        long responses = labels.Sum(l => (long)l.Responses.Count);
        var rates = LabelFlags.All.ToDictionary(f => f, f =>
            responses == 0 ? 0.0 : (double)labels.Sum(l => l.Flags.Values.Count(fs => fs.Contains(f))) / responses);
        var agreement = RlhfSharp.Labeling.Agreement.Compute(labels.Select(l => (l.TaskId, l.Labeler, l.Ranking)));
        return new LabelStats(store.CountTasks(), labels.Count, perLabeler, agreement, responses, rates);
    }

    public string ToJson()
    {
        var o = new Dictionary<string, object?>
        {
            ["tasks"] = Tasks,
            ["labels"] = Labels,
            ["labels_per_labeler"] = LabelsPerLabeler,
            ["agreement"] = new Dictionary<string, object?>
            {
                ["overall"] = Json(Agreement.Overall),
                ["per_labeler"] = Agreement.PerLabeler.ToDictionary(kv => kv.Key, kv => Json(kv.Value)),
                ["per_pair"] = Agreement.PerPair.ToDictionary(kv => kv.Key, kv => Json(kv.Value)),
            },
            ["rated_responses"] = RatedResponses,
            ["flag_rates"] = FlagRates,
        };
        return JsonSerializer.Serialize(o, new JsonSerializerOptions { WriteIndented = true });
    }

    static object Json(AgreementCount count) => new Dictionary<string, object?>
    { ["agreement"] = count.Fraction, ["agreed_pairs"] = count.Agreed, ["compared_pairs"] = count.Compared };

    public string ToText()
    {
        var sb = new StringBuilder();
        sb.AppendLine($"tasks: {Tasks}");
        sb.AppendLine($"labels: {Labels}");
        sb.AppendLine("labels per labeler:");
        foreach (var (name, n) in LabelsPerLabeler) sb.AppendLine($"  {name}: {n}");
        sb.AppendLine($"agreement overall: {Text(Agreement.Overall)}");
        sb.AppendLine("agreement per labeler:");
        foreach (var (name, c) in Agreement.PerLabeler) sb.AppendLine($"  {name}: {Text(c)}");
        if (Agreement.PerPair.Count > 0) sb.AppendLine("agreement per pair of labelers:");
        foreach (var (pair, c) in Agreement.PerPair) sb.AppendLine($"  {pair.Replace("|", " & ")}: {Text(c)}");
        sb.AppendLine($"flag rates (of {RatedResponses} labelled responses):");
        foreach (var (flag, r) in FlagRates) sb.AppendLine($"  {flag}: {r:P1}");
        return sb.ToString();
    }

    static string Text(AgreementCount count) =>
        count.Fraction is { } f ? $"{f:P1} ({count.Agreed}/{count.Compared} pairs)" : "n/a (no task labelled by two labelers)";
}
