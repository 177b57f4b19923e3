using System.Text.Json.Nodes;

namespace RlhfSharp.Data;

/// <summary>
/// A human preference: for <see cref="Prompt"/>, <see cref="Chosen"/> was preferred to <see cref="Rejected"/>.
/// <c>Prompt + Chosen</c> is the full text the reward model scores. When the prompt is a conversation (HH, OpenAssistant),
/// <see cref="Prompt"/> is its HH transcript ending in "\n\nAssistant:", the responses start with a space
/// (see <see cref="Transcript"/>), and <see cref="PromptMessages"/> holds the same conversation as turns for trainers
/// that apply a chat template instead (trim the responses' leading space then).
/// </summary>
public sealed record Comparison(string Prompt, string Chosen, string Rejected)
{
    /// <summary>The prompt as turns when it came from a conversation (HH, OpenAssistant, <c>messages</c>); null for a plain-text prompt.</summary>
    public IReadOnlyList<ChatTurn>? PromptMessages { get; init; }

    /// <summary>The record's other fields (labeler, task_id, ratings, flags, ...), kept as they were.</summary>
    public IReadOnlyDictionary<string, JsonNode?> Metadata { get; init; } = Demonstration.Empty;

    /// <summary>Pairs from one ranking or one OpenAssistant sibling set share a group ("path:line" or the parent message id).
    /// InstructGPT (Ouyang et al. 2022, sec. 3.5) puts all C(K,2) pairs of one prompt into the same batch to avoid overfitting.</summary>
    public string? GroupId { get; init; }

    /// <summary>"path:line" of the record this pair came from.</summary>
    public string? Source { get; init; }
}
