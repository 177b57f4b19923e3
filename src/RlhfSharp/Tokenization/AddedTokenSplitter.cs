using System.Text.RegularExpressions;

namespace RlhfSharp.Tokenization;

/// <summary>
/// Cuts text at added tokens, as HF tokenizers' AddedVocabulary does before normalisation and pre-tokenisation:
/// leftmost-longest match (alternatives sorted longest first, so .NET's leftmost-first alternation picks the
/// longest), lstrip/rstrip swallow neighbouring whitespace, single_word needs word boundaries.
/// </summary>
internal sealed class AddedTokenSplitter
{
    readonly Regex? _regex;
    readonly Dictionary<string, AddedToken> _byContent;

    public AddedTokenSplitter(IEnumerable<AddedToken> tokens)
    {
        var list = tokens.Where(t => t.Content.Length > 0).ToList();
        _byContent = list.GroupBy(t => t.Content).ToDictionary(g => g.Key, g => g.First());
        if (list.Count == 0) return;
        var alternatives = list.OrderByDescending(t => t.Content.Length).Select(t =>
            (t.LStrip ? @"\s*" : "") + (t.SingleWord ? @"(?<!\w)" : "") + "(?<tok>" + Regex.Escape(t.Content) + ")" +
            (t.SingleWord ? @"(?!\w)" : "") + (t.RStrip ? @"\s*" : ""));
        _regex = new Regex(string.Join("|", alternatives), RegexOptions.Compiled | RegexOptions.CultureInvariant);
    }

    /// <summary>Pieces in order: either plain text (Token null) or an added token.</summary>
    public IEnumerable<(string Text, AddedToken? Token)> Split(string text)
    {
        if (_regex is null) { if (text.Length > 0) yield return (text, null); yield break; }
        int pos = 0;
        foreach (Match m in _regex.Matches(text))
        {
            if (m.Index > pos) yield return (text[pos..m.Index], null);
            var content = m.Groups["tok"].Value;
            yield return (content, _byContent[content]);
            pos = m.Index + m.Length;
        }
        if (pos < text.Length) yield return (text[pos..], null);
    }
}
