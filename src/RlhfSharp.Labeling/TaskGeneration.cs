using RlhfSharp.Data;

namespace RlhfSharp.Labeling;

/// <summary>
/// Samples K responses per prompt from a model and stores them as tasks. The sampler is passed in
/// (Labeling knows nothing of model loading): it gets a batch of prompts and K, and returns K texts per prompt.
/// </summary>
public static class TaskGeneration
{
    public delegate IReadOnlyList<IReadOnlyList<string>> Sampler(IReadOnlyList<string> prompts, int responsesPerPrompt);

    /// <summary>Reads prompts with Data's <see cref="PromptReader"/> (records that are a JSON string, or an object with
    /// "prompt", "text" or "messages"; or a text file, one prompt per line). A task needs a prompt to show, so an empty
    /// one is a user error naming its line.</summary>
    public static IReadOnlyList<string> ReadPrompts(string path)
    {
        var prompts = PromptReader.Read(path);
        if (prompts.FirstOrDefault(prompt => string.IsNullOrWhiteSpace(prompt.Text)) is { } empty)
            throw new UserError($"{empty.Source ?? path}: the prompt is empty");
        return prompts.Select(prompt => prompt.Text).ToList();
    }

    /// <summary>Samples in batches and adds one task per prompt; returns the task ids.</summary>
    public static IReadOnlyList<string> Generate(LabelStore store, IReadOnlyList<string> prompts, int responsesPerPrompt, Sampler sample, int batchSize = 8)
    {
        if (responsesPerPrompt is < 2 or > TaskImport.MaxResponses)
            throw new UserError($"--k must be 2..{TaskImport.MaxResponses}; got {responsesPerPrompt}");
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize));
        var ids = new List<string>();
        for (int start = 0; start < prompts.Count; start += batchSize)
        {
            var batch = prompts.Skip(start).Take(batchSize).ToList();
            var outputs = sample(batch, responsesPerPrompt);
            if (outputs.Count != batch.Count || outputs.Any(responses => responses.Count != responsesPerPrompt))
                throw new InvalidOperationException(
                    $"the sampler returned {outputs.Count} lists for {batch.Count} prompts, or not {responsesPerPrompt} responses each");
            var tasks = batch.Select((prompt, i) => new NewTask(null, prompt, outputs[i], """{"source":"generate-tasks"}""")).ToList();
            ids.AddRange(store.AddTasks(tasks, i => $"prompt {start + i + 1}"));
        }
        return ids;
    }
}
