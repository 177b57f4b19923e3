using RlhfSharp.Data;
using RlhfSharp.Tokenization;

namespace RlhfSharp.Training.Supervised;

/// <summary>A tokenized chat example: <see cref="Trained"/>[t] says token t is one the loss counts (an assistant token).</summary>
public sealed record EncodedExample(int[] Ids, bool[] Trained)
{
    public int Length => Ids.Length;
}

/// <summary>
/// Turns conversations into token ids plus a per-token "trained" flag, through the model folder's chat format
/// (<see cref="IChatFormat.RenderSegments"/>: assistant replies including their end-of-turn text are trained).
///
/// Each segment is tokenized on its own and the ids concatenated, so the flag boundary is exact (tokenizing the whole
/// string could merge a BPE token across a prompt/response boundary). Template text such as BOS is part of the segments.
///
/// Truncation when an example is longer than <c>maxLength</c> (TRL DPOTrainer's rule, <c>truncation_mode="keep_end"</c>
/// for the prompt): first the prompt (everything before the last trained segment) is cut from the LEFT, keeping its
/// most recent tokens, but never below half the context (or its own length); then the response is cut at the RIGHT.
/// Why: the end of the prompt is what the response answers, and a response without its prompt teaches nothing; a
/// response cut at the right loses only its end (and its EOS).
/// </summary>
public static class ChatExampleEncoder
{
    /// <param name="onlyLastAssistant">true for DPO (only the compared response counts); false for SFT (every assistant turn).</param>
    public static EncodedExample Encode(IReadOnlyList<(string Text, bool IsAssistant)> segments, ITextTokenizer tokenizer,
        int maxLength, bool onlyLastAssistant = false)
    {
        if (maxLength < 2) throw new UserError($"max length must be >= 2, got {maxLength}");
        int last = -1;
        for (int i = segments.Count - 1; i >= 0; i--) if (segments[i].IsAssistant) { last = i; break; }
        var ids = new List<int>();
        var trained = new List<bool>();
        int responseStart = -1;
        for (int i = 0; i < segments.Count; i++)
        {
            if (i == last) responseStart = ids.Count;
            var piece = tokenizer.Encode(segments[i].Text);
            bool train = segments[i].IsAssistant && (!onlyLastAssistant || i == last);
            ids.AddRange(piece);
            trained.AddRange(Enumerable.Repeat(train, piece.Count));
        }
        if (responseStart < 0) responseStart = ids.Count;
        if (ids.Count <= maxLength) return new EncodedExample([.. ids], [.. trained]);

        int promptLen = responseStart, responseLen = ids.Count - responseStart;
        int keepPrompt = Math.Min(promptLen, Math.Max(maxLength - responseLen, maxLength / 2));
        int keepResponse = maxLength - keepPrompt;
        int from = promptLen - keepPrompt;
        var outIds = ids.GetRange(from, keepPrompt).Concat(ids.GetRange(responseStart, keepResponse)).ToArray();
        var outTrained = trained.GetRange(from, keepPrompt).Concat(trained.GetRange(responseStart, keepResponse)).ToArray();
        return new EncodedExample(outIds, outTrained);
    }

    /// <summary>A demonstration (all assistant turns trained).</summary>
    public static EncodedExample Encode(Demonstration d, IChatFormat format, ITextTokenizer tokenizer, int maxLength) =>
        Encode(format.RenderSegments(ToMessages(d.Messages), addGenerationPrompt: false), tokenizer, maxLength);

    /// <summary>The chosen and rejected conversations of a comparison (prompt + one assistant reply each).</summary>
    public static (EncodedExample Chosen, EncodedExample Rejected) Encode(Comparison c, IChatFormat format, ITextTokenizer tokenizer,
        int maxLength, bool onlyLastAssistant = true)
    {
        var prompt = PromptMessages(c);
        // HH-style responses start with the space that followed "Assistant:"; a chat template supplies its own separator.
        bool transcript = c.PromptMessages is not null;
        EncodedExample One(string response) => Encode(
            format.RenderSegments([.. prompt, new ChatMessage("assistant", transcript ? response.TrimStart() : response)], addGenerationPrompt: false),
            tokenizer, maxLength, onlyLastAssistant);
        return (One(c.Chosen), One(c.Rejected));
    }

    /// <summary>The prompt of a comparison as chat messages: its parsed turns, or one user turn with the prompt text.</summary>
    public static IReadOnlyList<ChatMessage> PromptMessages(Comparison c) =>
        c.PromptMessages is { Count: > 0 } turns ? ToMessages(turns) : [new ChatMessage("user", c.Prompt)];

    public static IReadOnlyList<ChatMessage> ToMessages(IEnumerable<ChatTurn> turns) =>
        turns.Select(t => new ChatMessage(t.RoleName, t.Content)).ToList();

    /// <summary>Checks every id fits the model's embedding (a tokenizer/model mismatch is a user error, not an index crash).</summary>
    public static void CheckVocab(IEnumerable<int> ids, int vocabSize, string what)
    {
        foreach (var id in ids)
            if (id < 0 || id >= vocabSize)
                throw new UserError($"{what}: token id {id} is outside the model's vocabulary ({vocabSize}); does the tokenizer match the model?");
    }
}
