using RlhfSharp.Checkpoints;
using RlhfSharp.Generation;
using RlhfSharp.Tokenization;
using static TorchSharp.torch;

namespace RlhfSharp.Labeling;

/// <summary>
/// The sampler behind <see cref="TaskGeneration.Generate"/> for a model folder: each prompt rendered as a user turn in
/// the folder's chat format with its generation prompt, repeated K times in one sampling batch, stopping at the
/// folder's stop ids (the response end first), decoded without them.
/// </summary>
public sealed class TaskSampler(ModelFolder folder, Models.CausalLM model, SamplingOptions sampling, Device device, Action<string>? log = null)
{
    int batchNumber, sampledPrompts;

    /// <summary>Sampling options for the folder: its stop ids and pad id, the given length, temperature, top-p and seed.</summary>
    public static SamplingOptions OptionsFor(ModelFolder folder, int maxNewTokens, double temperature, double topP, long? seed)
    {
        var options = new SamplingOptions
        {
            MaxNewTokens = maxNewTokens, Temperature = temperature, TopP = topP, Seed = seed,
            EosId = folder.StopIds[0], StopIds = folder.StopIds.Skip(1).ToList(), PadId = folder.PadId,
        };
        options.Validate();
        return options;
    }

    public IReadOnlyList<IReadOnlyList<string>> Sample(IReadOnlyList<string> prompts, int k)
    {
        int room = folder.ContextLength - sampling.MaxNewTokens;
        var ids = prompts.Select(prompt =>
        {
            var encoded = folder.Tokenizer.Encode(folder.ChatFormat.Render([new ChatMessage("user", prompt)], addGenerationPrompt: true));
            if (encoded.Count > room)
                throw new UserError($"prompt {sampledPrompts + 1} is {encoded.Count} tokens; with max_new_tokens {sampling.MaxNewTokens} it does not fit the model's context ({folder.ContextLength})");
            sampledPrompts++;
            return encoded;
        }).ToList();
        var repeated = ids.SelectMany(encoded => Enumerable.Repeat(encoded, k)).ToList();   // prompt i's samples are rows i*k .. i*k+k-1
        // Each batch draws from its own seed, so a rerun with the same seed gives the same tasks.
        var options = sampling with { Seed = sampling.Seed is long seed ? seed + batchNumber++ : null };
        int[][] responses;
        using (var generated = Sampler.Generate(model, repeated, options, device)) responses = generated.Responses();
        var texts = responses.Select(r => folder.Tokenizer.Decode(r.Where(t => !folder.StopIds.Contains(t)), skipSpecialTokens: true).Trim()).ToList();
        log?.Invoke($"label generate-tasks: {sampledPrompts} prompts sampled");
        return Enumerable.Range(0, prompts.Count).Select(i => (IReadOnlyList<string>)texts.Skip(i * k).Take(k).ToList()).ToList();
    }
}
