using System.Text.RegularExpressions;

namespace RlhfSharp.Data;

/// <summary>
/// The speaker prefix of a dialogue paragraph, as in Gopher's dialogue data ("Gopher: ", "Dr Smith - ", "Q. ";
/// Rae et al. 2021, "Scaling Language Models: Methods, Analysis &amp; Insights from Training Gopher").
///
/// Definition used here: at the very start of the paragraph, a name of 1–4 words separated by single spaces and at most
/// 30 characters, each word starting with a letter or digit and made of letters, digits and _ ' ’ - (and . except
/// before the "." separator); then a separator — ":", " -", " –", " —" or "." — then at least one space or tab, then
/// non-blank text. ":" and the dashes are tried first, "." only when they do not match, so "Dr. Smith: hi" is
/// "Dr. Smith" and "Q. hi" is "Q". Two prefixes are the same speaker when name and separator are equal (ordinal).
/// </summary>
public sealed record SpeakerPrefix(string Name, string Separator)
{
    /// <summary>Longest speaker name accepted, in characters.</summary>
    public const int MaxNameLength = 30;

    const string Word = @"[\p{L}\p{N}][\p{L}\p{N}_'’.\-]*";
    const string WordNoDot = @"[\p{L}\p{N}][\p{L}\p{N}_'’\-]*";
    static readonly Regex ColonOrDash = new($@"^(?<name>{Word}(?: {Word}){{0,3}})(?<sep>:| -| –| —)[ \t]+(?=\S)", RegexOptions.CultureInvariant);
    static readonly Regex Period = new($@"^(?<name>{WordNoDot}(?: {WordNoDot}){{0,3}})(?<sep>\.)[ \t]+(?=\S)", RegexOptions.CultureInvariant);

    /// <summary>The prefix of <paramref name="paragraph"/> and the text after it, or null when it has none.</summary>
    public static (SpeakerPrefix Prefix, string Content)? Parse(string paragraph)
    {
        foreach (var re in new[] { ColonOrDash, Period })
        {
            var m = re.Match(paragraph);
            if (m.Success && m.Groups["name"].Length <= MaxNameLength)
                return (new SpeakerPrefix(m.Groups["name"].Value, m.Groups["sep"].Value), paragraph[m.Length..].Trim());
        }
        return null;
    }

    /// <summary>The prefix as written: name, separator and one space.</summary>
    public override string ToString() => Name + Separator + " ";
}
