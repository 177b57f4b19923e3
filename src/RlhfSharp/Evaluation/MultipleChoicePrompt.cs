using RlhfSharp.Tokenization;

namespace RlhfSharp.Evaluation;

/// <summary>
/// The texts a multiple-choice question is scored with. By default TruthfulQA's QA format (Lin et al. 2022, appendix;
/// <c>format_prompt_with_answer_strings</c> of its reference code): the prompt is <c>"Q: " + question + "\nA:"</c> and
/// each answer is <c>" " + answer</c>; a primer (TruthfulQA's QA few-shot prompt) goes before it, followed by a blank
/// line. With a chat format, the question (after the primer and a blank line, if any) is a user turn rendered with the
/// generation prompt, and each answer is the assistant's text as is.
/// </summary>
public sealed record MultipleChoicePrompt(IChatFormat? Chat = null, string? Primer = null)
{
    /// <summary>The prompt text for <paramref name="question"/>: the primer, if any, then the QA format's
    /// <c>"Q: ...\nA:"</c>, or with a chat format the user turn rendered with the generation prompt.</summary>
    public string Prompt(string question)
    {
        var primer = string.IsNullOrWhiteSpace(Primer) ? "" : Primer.TrimEnd() + "\n\n";
        return Chat is null
            ? primer + "Q: " + question + "\nA:"
            : Chat.Render([new ChatMessage("user", primer + question)], addGenerationPrompt: true);
    }

    /// <summary>The text <paramref name="answer"/> is scored as: <c>" " + answer</c> in the QA format, the answer as is
    /// with a chat format.</summary>
    public string Answer(string answer) => Chat is null ? " " + answer : answer;
}
