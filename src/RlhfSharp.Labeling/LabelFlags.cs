namespace RlhfSharp.Labeling;

/// <summary>The eight per-output flags of the InstructGPT labeling interface; the API accepts no others.</summary>
public static class LabelFlags
{
    public static readonly IReadOnlyList<string> All =
    [
        "fails_instruction",
        "inappropriate_for_customer_assistant",
        "sexual_content",
        "violent_content",
        "encourages_violence_abuse_terrorism_self_harm",
        "denigrates_protected_class",
        "harmful_advice",
        "expresses_moral_judgment",
    ];

    static readonly HashSet<string> Known = new(All, StringComparer.Ordinal);

    public static bool IsKnown(string flag) => Known.Contains(flag);
}
