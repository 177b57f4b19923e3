namespace RlhfSharp.Tokenization;

/// <summary>
/// The format for models trained here:
/// <code>
/// &lt;|system|&gt;\n{content}\n          (any non-assistant role: &lt;|{role}|&gt;\n{content}\n)
/// &lt;|user|&gt;\n{content}\n
/// &lt;|assistant|&gt;\n{content}&lt;|endoftext|&gt;
/// </code>
/// and the generation prompt <c>&lt;|assistant|&gt;\n</c>. Why: the role tags are plain text, so it needs no
/// token beyond EOS and works with any vocabulary, the byte tokenizer included; only assistant turns end with
/// EOS, so a model stops exactly where SFT taught it and PPO's missing-EOS penalty watches the same token.
/// <see cref="JinjaTemplate"/> is the same format for transformers' apply_chat_template.
/// </summary>
public sealed class DefaultChatFormat(string eosToken = ByteTokenizer.EndOfTextToken) : ChatFormat
{
    /// <summary>Written as chat_template by <see cref="ByteTokenizer.Save"/>; renders identically in transformers.</summary>
    public const string JinjaTemplate =
        "{% for message in messages %}{% if message['role'] == 'assistant' %}" +
        "{{ '<|assistant|>\\n' + message['content'] + eos_token }}" +
        "{% else %}{{ '<|' + message['role'] + '|>\\n' + message['content'] + '\\n' }}{% endif %}{% endfor %}" +
        "{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}";

    /// <inheritdoc/>
    public override string Name => "default";
    /// <inheritdoc/>
    public override string EndOfTurn => eosToken;

    /// <inheritdoc/>
    protected override IEnumerable<(string Text, bool IsAssistant)> Pieces(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt)
    {
        foreach (var m in messages)
        {
            if (m.Role == "assistant")
            {
                yield return ("<|assistant|>\n", false);
                yield return (m.Content + eosToken, true);
            }
            else yield return ($"<|{m.Role}|>\n{m.Content}\n", false);
        }
        if (addGenerationPrompt) yield return ("<|assistant|>\n", false);
    }
}
