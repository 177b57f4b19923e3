using System.Security.Cryptography;
using System.Text;

namespace RlhfSharp.Labeling;

/// <summary>Ids for tasks imported without one: derived from the content, so importing the same file twice is caught.</summary>
public static class TaskIds
{
    public static string FromContent(string prompt, IReadOnlyList<string> responses)
    {
        var text = prompt + "\u0000" + string.Join("\u0000", responses);
        return "t-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16];
    }
}
