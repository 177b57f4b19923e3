using RlhfSharp.Data;

namespace RlhfSharp.Tests.Sft;

/// <summary>SFT data a tiny model can learn in a few steps: "repeat w" answered with w, for a random five-letter w.</summary>
static class EchoDemonstrations
{
    public static List<Demonstration> Make(int n, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ =>
        {
            var word = new string(Enumerable.Range(0, 5).Select(_ => (char)('a' + rng.Next(26))).ToArray());
            return Demonstration.FromPair("repeat " + word, word);
        }).ToList();
    }
}
