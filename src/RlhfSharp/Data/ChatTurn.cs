namespace RlhfSharp.Data;

/// <summary>Who speaks a turn. A prompt/response pair is [User, Assistant].</summary>
public enum ChatRole
{
    /// <summary>Instructions that frame the conversation (rendered as a Human turn in HH transcripts).</summary>
    System,
    /// <summary>The human side (OpenAssistant "prompter", HH "Human").</summary>
    User,
    /// <summary>The model's side; SFT trains on these turns.</summary>
    Assistant,
}

/// <summary>One turn of a conversation.</summary>
public sealed record ChatTurn(ChatRole Role, string Content)
{
    /// <summary>The lower-case name used in <c>messages</c> records: system, user, assistant.</summary>
    public string RoleName => Role switch { ChatRole.System => "system", ChatRole.User => "user", _ => "assistant" };

    /// <summary>Parses a role name. Besides system/user/assistant it accepts the synonyms other
    /// data sets use: OpenAssistant's "prompter", and "human" (Anthropic HH).</summary>
    public static ChatRole? ParseRole(string name) => name.Trim().ToLowerInvariant() switch
    {
        "system" => ChatRole.System,
        "user" or "prompter" or "human" => ChatRole.User,
        "assistant" => ChatRole.Assistant,
        _ => null,
    };
}
