using System.Text.Json;
using System.Text.Json.Nodes;

namespace RlhfSharp.Labeling;

/// <summary>
/// People's verdicts on the A/B tasks that <c>rlhf eval winrate --export-tasks</c> writes, counted for model A
/// (InstructGPT's human evaluation, Ouyang et al. 2022, section 4.1). A win-rate task is one whose metadata holds
/// <c>a_position</c> (0 or 1: the index of A's response among its two); other tasks in the store are left out.
/// <list type="bullet">
/// <item>Each label is one verdict (a task labelled by two people counts twice): A wins when the label ranks A's
/// response first, loses otherwise.</item>
/// <item>A tie is a label on a task whose two responses are the same text (both models answered alike): the ranking
/// between identical texts is arbitrary, so it counts as a tie (half a win in the rate), whatever the labeler chose.</item>
/// <item>Skips (a labeler passing on a task) are no verdict: they are counted apart and left out of the rate.</item>
/// </list>
/// </summary>
/// <param name="Wins">labels that rank A's response first (responses differ).</param>
/// <param name="Ties">labels on tasks whose two responses are identical.</param>
/// <param name="Losses">labels that rank B's response first (responses differ).</param>
/// <param name="Skips">skips of win-rate tasks (not counted in the rate).</param>
/// <param name="Tasks">win-rate tasks in the store.</param>
/// <param name="UnlabelledTasks">win-rate tasks with no label yet.</param>
public sealed record WinRateVerdicts(int Wins, int Ties, int Losses, int Skips, int Tasks, int UnlabelledTasks)
{
    /// <summary>The metadata key that marks a win-rate task and names the side of A.</summary>
    public const string APositionKey = "a_position";

    /// <summary>Labels counted in the rate: wins + ties + losses.</summary>
    public int Verdicts => Wins + Ties + Losses;

    /// <summary>
    /// Counts the verdicts in <paramref name="store"/>. A task whose <c>a_position</c> is not 0 or 1, or that does not
    /// hold exactly two responses, is a <see cref="UserError"/> naming the task.
    /// </summary>
    public static WinRateVerdicts From(LabelStore store)
    {
        var positions = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (id, json) in store.TaskMetadata())
            if (APosition(id, json) is int p) positions[id] = p;

        int wins = 0, ties = 0, losses = 0;
        var labelled = new HashSet<string>(StringComparer.Ordinal);
        foreach (var label in store.Labels())
        {
            if (!positions.TryGetValue(label.TaskId, out int a)) continue;
            if (label.Responses.Count != 2)
                throw new UserError($"task {label.TaskId}: a win-rate task ({APositionKey} in its metadata) needs exactly 2 responses; it has {label.Responses.Count}");
            labelled.Add(label.TaskId);
            if (label.Responses[0] == label.Responses[1]) ties++;
            else if (label.Ranking[0] == a) wins++;
            else losses++;
        }
        int skips = store.SkippedTaskIds().Count(positions.ContainsKey);
        return new WinRateVerdicts(wins, ties, losses, skips, positions.Count, positions.Count - labelled.Count);
    }

    /// <summary>The task's <c>a_position</c>: null when its metadata has none (not a win-rate task).</summary>
    static int? APosition(string taskId, string? metadataJson)
    {
        if (metadataJson is null) return null;
        if (JsonNode.Parse(metadataJson) is not JsonObject meta || !meta.TryGetPropertyValue(APositionKey, out var node)) return null;
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue(out int p) && p is 0 or 1) return p;
        throw new UserError($"task {taskId}: {APositionKey} must be 0 or 1, found {node?.ToJsonString() ?? "null"}");
    }
}
