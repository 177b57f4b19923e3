using RlhfSharp.Data;
using RlhfSharp.Tokenization;

namespace RlhfSharp.Training.Supervised;

/// <summary>A tokenized chat example: <see cref="Trained"/>[t] says token t is one the loss counts (an assistant token).</summary>
public sealed record EncodedExample(int[] Ids, bool[] Trained)
{
    /// <summary>Number of tokens.</summary>
    public int Length => Ids.Length;
}

/// <summary>
/// Turns conversations into token ids plus a per-token "trained" flag, through the model folder's chat format
/// (<see cref="IChatFormat.RenderSegments"/>: assistant replies including their end-of-turn text are trained).
///
/// Each segment is tokenized on its own and the ids concatenated, so the flag boundary is exact (tokenizing the whole
/// string could merge a BPE token across a prompt/response boundary). Template text such as BOS is part of the segments.
/// Comparisons are encoded by <see cref="ScoredConversation"/> instead (prompt ids, reply ids, end-of-reply id), so
/// reward-model and DPO rows end where PPO's responses end.
///
/// Truncation when an example is longer than <c>maxLength</c> (TRL DPOTrainer's rule, <c>truncation_mode="keep_end"</c>
/// for the prompt): first the prompt (everything before the last trained segment) is cut from the LEFT, keeping its
/// most recent tokens, but never below half the context (or its own length); then the response is cut at the RIGHT.
/// Why: the end of the prompt is what the response answers, and a response without its prompt teaches nothing; a
/// response cut at the right loses only its end (and its EOS).
/// </summary>
public static class ChatExampleEncoder
{
    /// <summary>Rendered segments as ids with per-token trained flags, truncated to <paramref name="maxLength"/> (see the class rule).</summary>
    /// <param name="segments">the chat format's segments (<see cref="IChatFormat.RenderSegments"/>), each tokenized on its own.</param>
    /// <param name="tokenizer">the model's tokenizer.</param>
    /// <param name="maxLength">longest example in tokens, at least 2.</param>
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
        return Truncate(ids.GetRange(0, responseStart), trained.GetRange(0, responseStart),
            ids.GetRange(responseStart, ids.Count - responseStart), trained.GetRange(responseStart, ids.Count - responseStart),
            ids.Count - responseStart, maxLength);
    }

    /// <summary>How many prompt tokens to keep (its most recent ones) when the longest response it goes with is
    /// <paramref name="longestResponse"/> tokens: all if they fit, else what leaves room for the response, but never
    /// below half the context.</summary>
    static int KeptPrompt(int promptLength, int longestResponse, int maxLength) =>
        promptLength + longestResponse <= maxLength ? promptLength
            : Math.Min(promptLength, Math.Max(maxLength - longestResponse, maxLength / 2));

    /// <summary>Prompt cut from the LEFT to <see cref="KeptPrompt"/> (sized by <paramref name="longestResponse"/>), then
    /// the response cut at the RIGHT to what is left of <paramref name="maxLength"/>.</summary>
    static EncodedExample Truncate(IReadOnlyList<int> promptIds, IReadOnlyList<bool> promptTrained,
        IReadOnlyList<int> responseIds, IReadOnlyList<bool> responseTrained, int longestResponse, int maxLength)
    {
        int keepPrompt = KeptPrompt(promptIds.Count, longestResponse, maxLength);
        int keepResponse = Math.Min(responseIds.Count, maxLength - keepPrompt);
        int from = promptIds.Count - keepPrompt;
        return new EncodedExample(
            [.. promptIds.Skip(from), .. responseIds.Take(keepResponse)],
            [.. promptTrained.Skip(from), .. responseTrained.Take(keepResponse)]);
    }

    /// <summary>A demonstration (all assistant turns trained).</summary>
    public static EncodedExample Encode(Demonstration d, IChatFormat format, ITextTokenizer tokenizer, int maxLength) =>
        Encode(format.RenderSegments(ToMessages(d.Messages), addGenerationPrompt: false), tokenizer, maxLength);

    /// <summary>
    /// The chosen and rejected conversations of a comparison, each encoded by <see cref="ScoredConversation"/>: the
    /// prompt, the reply, and the end-of-reply id where a reward model reads its score (the template's text after it,
    /// such as ChatML's "\n", is left out). Only the reply tokens are trained (DPO); the reward model ignores the flags.
    /// Truncation (TRL DPOTrainer's rule): the prompt both sides share is cut ONCE, from the left, sized by the LONGER
    /// response, so both responses answer the same prompt tokens; then each response is cut at the right (a reply cut
    /// there loses its end-of-reply id, as a PPO response that hits the length limit has none).
    /// </summary>
    /// <param name="c">the comparison.</param>
    /// <param name="format">the chat format that renders the prompt and replies.</param>
    /// <param name="tokenizer">the model's tokenizer.</param>
    /// <param name="maxLength">longest row in tokens, at least 2.</param>
    /// <param name="endOfReplyId">From <see cref="ScoredConversation.EndOfReplyId"/>; computed from the format and the
    /// tokenizer when null.</param>
    public static (EncodedExample Chosen, EncodedExample Rejected) Encode(Comparison c, IChatFormat format, ITextTokenizer tokenizer,
        int maxLength, int? endOfReplyId = null)
    {
        if (maxLength < 2) throw new UserError($"max length must be >= 2, got {maxLength}");
        var prompt = PromptMessages(c);
        int end = endOfReplyId ?? ScoredConversation.EndOfReplyId(format, tokenizer);
        // HH-style responses start with the space that followed "Assistant:"; a chat template supplies its own separator.
        bool transcript = c.PromptMessages is not null;
        ScoredIds One(string response) => ScoredConversation.Encode(prompt, transcript ? response.TrimStart() : response, format, tokenizer, end);
        var (chosen, rejected) = (One(c.Chosen), One(c.Rejected));   // the same prompt ids on both sides
        int longest = Math.Max(chosen.Reply.Length, rejected.Reply.Length);
        var promptTrained = new bool[chosen.Prompt.Length];
        EncodedExample Cut(ScoredIds s) => Truncate(s.Prompt, promptTrained, s.Reply, Enumerable.Repeat(true, s.Reply.Length).ToArray(), longest, maxLength);
        return (Cut(chosen), Cut(rejected));
    }

    /// <summary>The prompt of a comparison as chat messages: its parsed turns, or one user turn with the prompt text.</summary>
    public static IReadOnlyList<ChatMessage> PromptMessages(Comparison c) =>
        c.PromptMessages is { Count: > 0 } turns ? ToMessages(turns) : [new ChatMessage("user", c.Prompt)];

    /// <summary>Turns as chat-template messages (role names system, user, assistant).</summary>
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
