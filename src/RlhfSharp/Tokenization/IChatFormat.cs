namespace RlhfSharp.Tokenization;

/// <summary>Turns a conversation into the text a chat model was trained on.</summary>
public interface IChatFormat
{
    /// <summary>Short name of the family ("default", "chatml", "llama3").</summary>
    string Name { get; }

    /// <summary>The text that closes an assistant turn; generation stops on it.</summary>
    string EndOfTurn { get; }

    /// <summary>The conversation as the model's chat template writes it; <paramref name="addGenerationPrompt"/> appends the assistant header so a reply follows (as transformers' apply_chat_template).</summary>
    string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt);

    /// <summary>The same text cut into pieces whose concatenation equals <see cref="Render"/>. IsAssistant marks
    /// each assistant reply with the end-of-turn text that closes it: the tokens SFT trains on.</summary>
    IReadOnlyList<(string Text, bool IsAssistant)> RenderSegments(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt);
}

/// <summary>Base for formats: subclasses emit pieces, this class merges neighbours and derives Render.</summary>
public abstract class ChatFormat : IChatFormat
{
    /// <inheritdoc/>
    public abstract string Name { get; }
    /// <inheritdoc/>
    public abstract string EndOfTurn { get; }

    /// <inheritdoc/>
    public string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt) =>
        string.Concat(RenderSegments(messages, addGenerationPrompt).Select(s => s.Text));

    /// <inheritdoc/>
    /// <remarks>Empty pieces are dropped and neighbouring non-assistant pieces merged.</remarks>
    public IReadOnlyList<(string Text, bool IsAssistant)> RenderSegments(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt)
    {
        var segments = new List<(string Text, bool IsAssistant)>();
        foreach (var (text, isAssistant) in Pieces(messages, addGenerationPrompt))
        {
            if (text.Length == 0) continue;
            if (segments.Count > 0 && segments[^1].IsAssistant == isAssistant && !isAssistant)
                segments[^1] = (segments[^1].Text + text, false);
            else segments.Add((text, isAssistant));
        }
        return segments;
    }

    /// <summary>The rendered pieces in order; assistant pieces are kept apart, one per reply.</summary>
    protected abstract IEnumerable<(string Text, bool IsAssistant)> Pieces(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt);
}
