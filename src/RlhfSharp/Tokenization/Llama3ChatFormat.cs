namespace RlhfSharp.Tokenization;

/// <summary>
/// Llama-3 headers: BOS before the first turn, then
/// <c>&lt;|start_header_id|&gt;{role}&lt;|end_header_id|&gt;\n\n{content, trimmed}&lt;|eot_id|&gt;</c> per turn and the
/// generation prompt <c>&lt;|start_header_id|&gt;assistant&lt;|end_header_id|&gt;\n\n</c>. The template trims each
/// message's whitespace (Jinja's trim), so " Polly " renders as "Polly".
/// </summary>
public sealed class Llama3ChatFormat(string bosToken = "<|begin_of_text|>") : ChatFormat
{
    /// <inheritdoc/>
    public override string Name => "llama3";
    /// <inheritdoc/>
    public override string EndOfTurn => "<|eot_id|>";

    /// <inheritdoc/>
    protected override IEnumerable<(string Text, bool IsAssistant)> Pieces(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt)
    {
        for (int i = 0; i < messages.Count; i++)
        {
            var m = messages[i];
            yield return ((i == 0 ? bosToken : "") + $"<|start_header_id|>{m.Role}<|end_header_id|>\n\n", false);
            yield return (m.Content.Trim() + "<|eot_id|>", m.Role == "assistant");
        }
        if (addGenerationPrompt) yield return ("<|start_header_id|>assistant<|end_header_id|>\n\n", false);
    }
}
