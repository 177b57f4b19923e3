using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace RlhfSharp.Training.Rl;

/// <summary>How a verifiable reward compares a response with its prompt's <c>answer</c> (RL with verifiable rewards).</summary>
public enum VerifiableRewardKind
{
    /// <summary>1 when the normalised response equals the normalised answer.</summary>
    Exact,
    /// <summary>1 when the normalised answer occurs in the normalised response.</summary>
    Contains,
    /// <summary>1 when the answer, a .NET regular expression, matches somewhere in the response (case-insensitive).</summary>
    Regex,
    /// <summary>1 when the last number in the response equals the answer's number.</summary>
    Number,
}

/// <summary>
/// Rewards that check a response against a known answer, 1.0 or 0.0 (DeepSeek-R1's accuracy rewards; TRL's
/// <c>accuracy_reward</c>). The rules, stated once:
/// <list type="bullet">
/// <item><b>Normalisation</b> (exact, contains): leading and trailing whitespace removed, every run of whitespace
/// (spaces, tabs, newlines) made one space, letters lower-cased (invariant culture). Punctuation is kept:
/// "Paris." does not equal "paris" (use contains, regex or number for lenient answers).</item>
/// <item><b>exact</b>: normalised response == normalised answer.</item>
/// <item><b>contains</b>: the normalised answer is a substring of the normalised response.</item>
/// <item><b>regex</b>: the answer is a .NET regular expression, searched in the response as it is (not normalised),
/// case-insensitively; anchor it (<c>^…$</c>) to match the whole response. One second per match at most.</item>
/// <item><b>number</b>: the answer must be one number (<c>42</c>, <c>-3.5</c>, <c>1,234</c>); the response's LAST number
/// is compared with it (so "7 apples and 3 pears: 10 in all" answers 10). Thousands separators (commas between groups
/// of three digits) are allowed; equal within a relative 1e-9. A number glued to letters ("3rd", "v2", "10kg") is not
/// read, the minus of "5-3" is subtraction, and fractions (1/2) and exponents are not read.</item>
/// </list>
/// </summary>
public static class VerifiableRewards
{
    /// <summary>The names <c>reward_fn</c> accepts, in <see cref="VerifiableRewardKind"/> order.</summary>
    public static readonly IReadOnlyList<string> Names = ["exact", "contains", "regex", "number"];

    /// <summary>Longest a regex answer may take on one response.</summary>
    public static readonly TimeSpan RegexTimeout = TimeSpan.FromSeconds(1);

    // A number: digits with optional comma thousands groups and an optional fraction, or a bare fraction (.5), with an
    // optional sign. Not glued to letters or to a neighbouring ".digit": "v2", "3rd" and the parts of "1.2.3" are not
    // numbers, and the minus of "5-3" is subtraction (3, not -3).
    static readonly Regex NumberPattern = new(@"(?<![\w.])[-+]?(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+)(?!\w|\.\d)",
        RegexOptions.CultureInvariant, RegexTimeout);

    /// <summary>The kind a <c>reward_fn</c> name stands for; null when the name is not one of <see cref="Names"/>.</summary>
    public static VerifiableRewardKind? Parse(string name) => Names.ToList().IndexOf(name.Trim()) is var i and >= 0 ? (VerifiableRewardKind)i : null;

    /// <summary>The <c>reward_fn</c> name of <paramref name="kind"/>.</summary>
    public static string Name(VerifiableRewardKind kind) => Names[(int)kind];

    /// <summary>Trimmed, whitespace runs collapsed to one space, lower-cased (invariant culture).</summary>
    public static string Normalize(string text)
    {
        var result = new StringBuilder(text.Length);
        bool space = false;
        foreach (var c in text.Trim())
        {
            if (char.IsWhiteSpace(c)) { space = true; continue; }
            if (space) { result.Append(' '); space = false; }
            result.Append(char.ToLowerInvariant(c));
        }
        return result.ToString();
    }

    /// <summary>The last number written in <paramref name="text"/>, or null when there is none.</summary>
    public static double? LastNumber(string text)
    {
        double? last = null;
        foreach (Match m in NumberPattern.Matches(text))
            if (double.TryParse(m.Value.Replace(",", ""), NumberStyles.Float, CultureInfo.InvariantCulture, out var value)) last = value;
        return last;
    }

    /// <summary>Null when <paramref name="answer"/> can be checked by <paramref name="kind"/>, else what is wrong with it
    /// (empty, not a regular expression, not one number).</summary>
    public static string? AnswerProblem(VerifiableRewardKind kind, string answer)
    {
        switch (kind)
        {
            case VerifiableRewardKind.Exact or VerifiableRewardKind.Contains:
                return Normalize(answer).Length == 0 ? "the answer is empty" : null;
            case VerifiableRewardKind.Regex:
                if (answer.Length == 0) return "the answer is empty";
                try { _ = new Regex(answer, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, RegexTimeout); return null; }
                catch (ArgumentException e) { return $"the answer is not a regular expression ({e.Message})"; }
            default:
                return AnswerNumber(answer) is null ? $"the answer '{answer}' is not one number" : null;
        }
    }

    /// <summary>The reward of <paramref name="response"/> against <paramref name="answer"/>: 1.0 or 0.0 by the rules
    /// above. A regex that times out scores 0.</summary>
    public static double Score(VerifiableRewardKind kind, string response, string answer) => kind switch
    {
        VerifiableRewardKind.Exact => Normalize(response) == Normalize(answer) ? 1 : 0,
        VerifiableRewardKind.Contains => Normalize(answer) is { Length: > 0 } a && Normalize(response).Contains(a, StringComparison.Ordinal) ? 1 : 0,
        VerifiableRewardKind.Regex => RegexMatches(new Regex(answer, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, RegexTimeout), response) ? 1 : 0,
        VerifiableRewardKind.Number => AnswerNumber(answer) is double expected && LastNumber(response) is double got && SameNumber(got, expected) ? 1 : 0,
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>Whether <paramref name="pattern"/> matches in <paramref name="response"/>; a timeout counts as no match.</summary>
    public static bool RegexMatches(Regex pattern, string response)
    {
        try { return pattern.IsMatch(response); }
        catch (RegexMatchTimeoutException) { return false; }
    }

    /// <summary>The answer as a number when, trimmed, it is exactly one number.</summary>
    static double? AnswerNumber(string answer)
    {
        var trimmed = answer.Trim();
        var match = NumberPattern.Match(trimmed);
        return match.Success && match.Length == trimmed.Length ? LastNumber(trimmed) : null;
    }

    static bool SameNumber(double a, double b) => Math.Abs(a - b) <= 1e-9 * Math.Max(1.0, Math.Max(Math.Abs(a), Math.Abs(b)));
}
