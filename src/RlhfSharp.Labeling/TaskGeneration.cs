using System.Text.Json;

namespace RlhfSharp.Labeling;

/// <summary>
/// Samples K responses per prompt from a model and stores them as tasks. The sampler is passed in
/// (Labeling knows nothing of model loading): it gets a batch of prompts and K, and returns K texts per prompt.
/// </summary>
public static class TaskGeneration
{
    public delegate IReadOnlyList<IReadOnlyList<string>> Sampler(IReadOnlyList<string> prompts, int k);

    /// <summary>Reads prompts: JSONL whose lines are a JSON string or an object with "prompt" (or "text").</summary>
    public static IReadOnlyList<string> ReadPrompts(string path)
    {
        if (!File.Exists(path)) throw new UserError($"{path}: file not found");
        var prompts = new List<string>();
        int lineNo = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNo++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            JsonElement e;
            try { e = JsonDocument.Parse(line).RootElement; }
            catch (JsonException ex) { throw new UserError($"{path}:{lineNo}: not valid JSON ({ex.Message})", ex); }
            var text = e.ValueKind switch
            {
                JsonValueKind.String => e.GetString(),
                JsonValueKind.Object when e.TryGetProperty("prompt", out var p) && p.ValueKind == JsonValueKind.String => p.GetString(),
                JsonValueKind.Object when e.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String => t.GetString(),
                _ => null,
            };
            if (string.IsNullOrWhiteSpace(text)) throw new UserError($"{path}:{lineNo}: expected a JSON string or an object with a \"prompt\" string");
            prompts.Add(text);
        }
        return prompts;
    }

    /// <summary>Samples in batches and adds one task per prompt; returns the task ids.</summary>
    public static IReadOnlyList<string> Generate(LabelStore store, IReadOnlyList<string> prompts, int k, Sampler sample, int batchSize = 8)
    {
        if (k is < 2 or > TaskImport.MaxResponses) throw new UserError($"--k must be 2..{TaskImport.MaxResponses}; got {k}");
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize));
        var ids = new List<string>();
        for (int start = 0; start < prompts.Count; start += batchSize)
        {
            var batch = prompts.Skip(start).Take(batchSize).ToList();
            var outputs = sample(batch, k);
            if (outputs.Count != batch.Count || outputs.Any(o => o.Count != k))
                throw new InvalidOperationException($"the sampler returned {outputs.Count} lists for {batch.Count} prompts, or not {k} responses each");
            var tasks = batch.Select((p, i) => new NewTask(null, p, outputs[i], """{"source":"generate-tasks"}""")).ToList();
            ids.AddRange(store.AddTasks(tasks, i => $"prompt {start + i + 1}"));
        }
        return ids;
    }
}
