using RlhfSharp.Checkpoints;
using RlhfSharp.Data;
using RlhfSharp.Generation;
using RlhfSharp.Models;
using RlhfSharp.Tokenization;
using static TorchSharp.torch;

namespace RlhfSharp.Evaluation;

/// <summary>One prompt's sampled response: the prompt ids the policy saw, the response ids (with the stop token when it
/// ended on one), and the response text without the stop token.</summary>
public sealed record SampledResponse(Prompt Prompt, IReadOnlyList<int> PromptIds, int[] ResponseIds, string Response, bool EndedWithStop);

/// <summary>
/// Samples one response per prompt for evaluation. Prompt i is sampled on its own with the sampler seeded by
/// <c>seed + i</c>, so a response does not depend on which other prompts share its batch, and two models sampled with
/// the same seed draw the same random numbers for the same prompt (a model against itself gives identical responses).
/// A prompt is the record's text (with the tokenizer's own special tokens), or with <c>chat</c> its conversation rendered
/// by the folder's chat format with the generation prompt. The response budget is fitted to the context
/// (<see cref="ContextFit.ForGeneration"/>).
/// </summary>
public static class PolicySampling
{
    /// <summary>The conversation of a prompt: its messages, or its text as one user turn.</summary>
    public static IReadOnlyList<ChatMessage> Messages(Prompt prompt) =>
        prompt.Messages?.Select(t => new ChatMessage(t.RoleName, t.Content)).ToList() ?? [new ChatMessage("user", prompt.Text)];

    /// <summary>
    /// The ids a prompt is sampled from: with <paramref name="chat"/>, its conversation rendered by the folder's chat
    /// format with the generation prompt; otherwise its text encoded with the tokenizer's special tokens.
    /// </summary>
    public static IReadOnlyList<int> PromptIds(Prompt prompt, ModelFolder folder, bool chat) =>
        chat ? folder.Tokenizer.Encode(folder.ChatFormat.Render(Messages(prompt), addGenerationPrompt: true))
             : folder.Tokenizer.Encode(prompt.Text, addSpecialTokens: true);

    /// <summary>
    /// One response per prompt, in prompt order (see the class). A prompt that encodes to no tokens is a
    /// <see cref="UserError"/>.
    /// </summary>
    /// <param name="model">the policy to sample.</param>
    /// <param name="folder">the policy's folder: tokenizer, chat format, stop ids (the first is the EOS) and pad id.</param>
    /// <param name="prompts">the prompts to answer.</param>
    /// <param name="options">sampling settings; its seed, stop ids, pad id and length are set here per prompt.</param>
    /// <param name="seed">prompt i is sampled with seed <c>seed + i</c>.</param>
    /// <param name="chat">render each prompt's conversation with the chat format instead of encoding its text.</param>
    /// <param name="device">where the model runs.</param>
    public static List<SampledResponse> Sample(ILanguageModel model, ModelFolder folder, IReadOnlyList<Prompt> prompts, SamplingOptions options,
        long seed, bool chat, Device device)
    {
        var samples = new List<SampledResponse>();
        for (int i = 0; i < prompts.Count; i++)
        {
            var ids = PromptIds(prompts[i], folder, chat);
            if (ids.Count == 0) throw new UserError($"{prompts[i].Source ?? $"prompt {i + 1}"}: the prompt encodes to no tokens");
            var (fitted, newTokens) = ContextFit.ForGeneration([ids], options.MaxNewTokens, model.Config.MaxPositions);
            var perPrompt = options with
            {
                Seed = seed + i, MaxNewTokens = newTokens, EosId = folder.StopIds[0], StopIds = folder.StopIds.Skip(1).ToList(), PadId = folder.PadId,
            };
            int[] response;
            using (var result = Sampler.Generate(model, fitted, perPrompt, device)) response = result.Responses()[0];
            bool ended = response.Length > 0 && folder.StopIds.Contains(response[^1]);
            var text = folder.Tokenizer.Decode(response.Where(id => !folder.StopIds.Contains(id)), skipSpecialTokens: true);
            samples.Add(new SampledResponse(prompts[i], fitted[0], response, text, ended));
        }
        return samples;
    }
}
