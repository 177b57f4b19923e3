namespace RlhfSharp.Tokenization;

/// <summary>One turn of a conversation; Role is "system", "user" or "assistant" (other roles render like user turns).</summary>
public sealed record ChatMessage(string Role, string Content);
