namespace RlhfSharp.Tokenization;

/// <summary>
/// ChatML as Qwen2's template writes it: <c>&lt;|im_start|&gt;{role}\n{content}&lt;|im_end|&gt;\n</c> per turn, the
/// generation prompt <c>&lt;|im_start|&gt;assistant\n</c>, and, when the first message is not a system one, a
/// default system turn (Qwen2's "You are a helpful assistant."; null for templates that add none).
/// </summary>
public sealed class ChatMlFormat(string? defaultSystemPrompt = ChatMlFormat.QwenSystemPrompt) : ChatFormat
{
    /// <summary>The system prompt Qwen2's template adds when the conversation has none.</summary>
    public const string QwenSystemPrompt = "You are a helpful assistant.";
    /// <summary>The system turn added before a conversation that does not start with one; null adds none.</summary>
    public string? DefaultSystemPrompt => defaultSystemPrompt;

    /// <inheritdoc/>
    public override string Name => "chatml";
    /// <inheritdoc/>
    public override string EndOfTurn => "<|im_end|>";

    /// <inheritdoc/>
    protected override IEnumerable<(string Text, bool IsAssistant)> Pieces(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt)
    {
        // Qwen2 adds the default inside its message loop, so an empty conversation gets none.
        if (messages.Count > 0 && messages[0].Role != "system" && defaultSystemPrompt is not null)
            yield return ($"<|im_start|>system\n{defaultSystemPrompt}<|im_end|>\n", false);
        foreach (var m in messages)
        {
            yield return ($"<|im_start|>{m.Role}\n", false);
            bool assistant = m.Role == "assistant";
            yield return (m.Content + "<|im_end|>", assistant);
            yield return ("\n", false);
        }
        if (addGenerationPrompt) yield return ("<|im_start|>assistant\n", false);
    }
}
