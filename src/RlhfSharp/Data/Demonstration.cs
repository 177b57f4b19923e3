using System.Text.Json.Nodes;

namespace RlhfSharp.Data;

/// <summary>A supervised example: a conversation whose assistant turns are the targets (SFT counts loss on them only).
/// A prompt/response pair is [User, Assistant]. <see cref="Metadata"/> keeps the record's other fields
/// (e.g. self-instruct's <c>id</c>, the speakers of a mined dialogue); <see cref="Source"/> is "path:line".</summary>
public sealed record Demonstration(IReadOnlyList<ChatTurn> Messages)
{
    /// <summary>The record's other fields, kept as they were.</summary>
    public IReadOnlyDictionary<string, JsonNode?> Metadata { get; init; } = Empty;
    /// <summary>"path:line" of the record this came from.</summary>
    public string? Source { get; init; }

    /// <summary>Everything before the last assistant turn (the prompt of a single-response view).</summary>
    public IReadOnlyList<ChatTurn> PromptTurns => Messages.Take(LastAssistantIndex).ToList();

    /// <summary>The last assistant turn's text.</summary>
    public string Response => Messages[LastAssistantIndex].Content;

    int LastAssistantIndex
    {
        get
        {
            for (int i = Messages.Count - 1; i >= 0; i--) if (Messages[i].Role == ChatRole.Assistant) return i;
            throw new InvalidOperationException("demonstration has no assistant turn");
        }
    }

    /// <summary>A single-turn demonstration: [User <paramref name="prompt"/>, Assistant <paramref name="response"/>].</summary>
    public static Demonstration FromPair(string prompt, string response) =>
        new([new ChatTurn(ChatRole.User, prompt), new ChatTurn(ChatRole.Assistant, response)]);

    internal static readonly IReadOnlyDictionary<string, JsonNode?> Empty = new Dictionary<string, JsonNode?>();
}
