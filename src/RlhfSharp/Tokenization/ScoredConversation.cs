namespace RlhfSharp.Tokenization;

/// <summary>A conversation as a reward model scores it: <see cref="Prompt"/> ids, then <see cref="Reply"/> ids whose last
/// one is the end-of-reply id, where the score is read.</summary>
public sealed record ScoredIds(int[] Prompt, int[] Reply)
{
    /// <summary>Total ids, prompt and reply.</summary>
    public int Length => Prompt.Length + Reply.Length;
    /// <summary>Prompt ids followed by reply ids (a new array).</summary>
    public int[] All => [.. Prompt, .. Reply];
}

/// <summary>
/// Where a conversation's score is read: the one rule reward-model training, PPO's rollouts, reward evaluation and
/// best-of-n share, so the reward model learns at the position where it is later asked.
/// <code>
///   ids = Encode(format.Render(prompt, addGenerationPrompt: true))    the prompt, ending with the assistant header
///       + Encode(reply, as the template writes it)                     (Llama-3 trims it)
///       + [EndOfReplyId]                                               the token that closes the reply
/// </code>
/// A scored conversation ends with the token that closes the assistant's reply; whatever the template writes after it
/// (ChatML's "\n" after <c>&lt;|im_end|&gt;</c>) is not part of the scored row. The score head reads the last real token,
/// so it reads the end-of-reply id: exactly where PPO reads it, since PPO continues the same prompt ids, stops when it
/// samples that id and scores the row ending there.
///
/// The end-of-reply id is the format's end-of-turn text when the tokenizer makes it one token (<c>&lt;|im_end|&gt;</c>,
/// <c>&lt;|eot_id|&gt;</c>, <c>&lt;|endoftext|&gt;</c>), else the tokenizer's EOS (else the model config's): the id PPO
/// stops sampling on. The prompt and the reply are tokenized apart, as PPO's prompt ids and sampled ids are.
/// </summary>
public static class ScoredConversation
{
    /// <summary>Prompt and reply ids of <paramref name="prompt"/> answered by <paramref name="reply"/> (see the class rule).</summary>
    /// <param name="prompt">the conversation so far, ending before the assistant's reply.</param>
    /// <param name="reply">the assistant's reply text.</param>
    /// <param name="format">the chat format that renders the prompt and the reply.</param>
    /// <param name="tokenizer">the tokenizer of the scoring model.</param>
    /// <param name="endOfReplyId">From <see cref="EndOfReplyId"/>; computed here when null.</param>
    public static ScoredIds Encode(IReadOnlyList<ChatMessage> prompt, string reply, IChatFormat format, ITextTokenizer tokenizer,
        int? endOfReplyId = null)
    {
        int end = endOfReplyId ?? EndOfReplyId(format, tokenizer);
        var promptIds = tokenizer.Encode(format.Render(prompt, addGenerationPrompt: true));
        var replyIds = tokenizer.Encode(ReplyText(prompt, reply, format));
        return new ScoredIds([.. promptIds], [.. replyIds, end]);
    }

    /// <summary>The reply as the template writes it inside the assistant turn, without the end-of-turn text (Llama-3's
    /// template trims it; ChatML and the default format write it as it is).</summary>
    public static string ReplyText(IReadOnlyList<ChatMessage> prompt, string reply, IChatFormat format)
    {
        var segments = format.RenderSegments([.. prompt, new ChatMessage("assistant", reply)], addGenerationPrompt: false);
        int index = segments.Count - 1;
        while (index >= 0 && !segments[index].IsAssistant) index--;
        if (index < 0) throw new InvalidOperationException($"chat format '{format.Name}' rendered no assistant segment");
        var last = segments[index].Text;
        return last.EndsWith(format.EndOfTurn, StringComparison.Ordinal) ? last[..^format.EndOfTurn.Length] : last;
    }

    /// <summary>The id that ends a reply: the format's end-of-turn if the tokenizer makes it one token, else the
    /// tokenizer's EOS, else <paramref name="fallbackEosId"/> (a model config's <c>eos_token_id</c>).</summary>
    public static int EndOfReplyId(IChatFormat format, ITextTokenizer tokenizer, int? fallbackEosId = null)
    {
        var endOfTurn = tokenizer.Encode(format.EndOfTurn.Trim());
        if (endOfTurn.Count == 1) return endOfTurn[0];
        return tokenizer.EosId ?? fallbackEosId
            ?? throw new UserError($"the chat format's end of turn '{format.EndOfTurn.Trim()}' is not one token and neither the tokenizer nor the model names an EOS; a reply needs one to end");
    }
}
