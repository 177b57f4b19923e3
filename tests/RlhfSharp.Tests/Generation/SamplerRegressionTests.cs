using RlhfSharp.Generation;
using Xunit;
using static TorchSharp.torch;
using static RlhfSharp.Tests.Generation.GenerationFixtures;

namespace RlhfSharp.Tests.Generation;

/// <summary>
/// The sampler's outputs pinned before the fast paths (is_causal for unpadded batches, no mask in an unpadded
/// generation loop, fused GELU, addmm Conv1D) went in, recorded with the code at commit 83fba54: the same tokens come
/// out, greedy and seeded sampling, unpadded and left-padded prompts, with top-k/top-p, on two fixture models.
/// Log-probs agree to float32 rounding (the kernels sum in another order).
/// </summary>
[Collection(RlhfSharp.Tests.Training.Core.GlobalRngCollection.Name)]
public class SamplerRegressionTests
{
    static readonly Dictionary<string, SamplingOptions> Options = new()
    {
        ["greedy"] = new() { Greedy = true, MaxNewTokens = 20, PadId = 1 },
        ["t1"] = new() { Temperature = 1.0, MaxNewTokens = 20, Seed = 7, PadId = 1 },
        ["t08k20p09"] = new() { Temperature = 0.8, TopK = 20, TopP = 0.9, MaxNewTokens = 20, Seed = 3, PadId = 1 },
    };

    static IReadOnlyList<int>[] Prompts(string fixture, string set)
    {
        var ids = Rows(fixture, "input_ids");
        return set == "unpadded" ? [ids[0][..6], ids[1][..6], ids[0][10..16]] : [ids[0][..6], ids[1][..3], ids[1][7..15]];
    }

    // fixture, prompts, options, then the three response rows and the rows' summed log-probs as recorded.
    public static IEnumerable<object[]> Recorded() =>
    [
        ["gpt2-tiny", "unpadded", "greedy", "278x20", "444x20", "43x20", "-110.187584,-107.70934,-108.84166"],
        ["gpt2-tiny", "unpadded", "t1", "200,445,501,307,117,319,62,155,487,384,398,343,405,232,170,210,335,20,140,39", "343,374,42,437,113,340,148,167,32,374,59,89,511,421,164,145,41,95,111,408", "118,170,487,223,143,11,477,374,349,232,343,61,403,71,19,50,340,141,189,82", "-124.09506,-123.97832,-125.84038"],
        ["gpt2-tiny", "unpadded", "t08k20p09", "78,278,363,381,194,221,415,118,270,270,442,2,199,400,199,333,129,82,452,191", "189,412,494,212,211,380,360,376,8,376,380,168,426,193,36,328,230,283,246,491", "35,412,449,208,375,156,338,346,510,436,510,357,120,473,108,224,251,51,272,193", "-116.267006,-116.310196,-117.08088"],
        ["gpt2-tiny", "padded", "greedy", "278x20", "508x20", "229x20", "-110.187584,-111.46047,-108.49079"],
        ["gpt2-tiny", "padded", "t1", "200,445,501,307,117,319,62,155,487,384,398,343,405,232,170,210,335,20,140,39", "343,374,42,244,113,340,148,167,32,374,59,89,511,421,164,145,41,444,111,408", "118,170,487,223,143,11,477,374,349,232,343,61,403,71,19,50,340,141,189,82", "-124.09506,-124.186516,-124.85907"],
        ["gpt2-tiny", "padded", "t08k20p09", "78,278,363,381,194,221,415,118,270,270,442,2,199,400,199,333,129,82,452,191", "122,90,494,49,292,49,96,494,83,415,77,77,446,108,358,177,36,116,135,115", "120,113,401,348,297,297,297,297,497,257,179,179,64,328,279,224,224,64,395,36", "-116.267006,-115.62212,-112.79478"],
        ["llama-tiny", "unpadded", "greedy", "114,348,473,348,473,348,473,348,473,348,473,348,473,348,473,92,63,371,80,189", "80,498,373,371,80,498,395,492,338,214,493,457,493,190,33,214,493,457,493,457", "463,63,386,312,397,495,186,397,495,186,397,214,122,288,426,379,104,220,313,438", "-114.96563,-115.49259,-115.23507"],
        ["llama-tiny", "unpadded", "t1", "200,445,501,307,117,319,62,155,487,384,398,343,166,371,170,361,335,20,140,39", "343,374,42,437,113,340,148,167,32,374,59,89,511,421,164,145,41,444,60,408", "118,170,487,129,143,11,477,374,349,232,343,61,403,71,19,50,340,141,189,82", "-124.98349,-123.376816,-124.93519"],
        ["llama-tiny", "unpadded", "t08k20p09", "277,470,266,114,337,500,80,479,158,440,28,358,446,102,236,387,174,134,281,342", "473,439,492,44,483,337,151,101,493,106,194,309,391,501,198,81,381,168,309,242", "463,221,26,495,186,327,329,276,276,142,379,312,79,79,405,207,506,503,122,436", "-116.86012,-116.41339,-115.6248"],
        ["llama-tiny", "padded", "greedy", "114,348,473,348,473,348,473,348,473,348,473,348,473,348,473,92,63,371,80,189", "338,470,498,373,371,80,498,395,492,348,473,92,311,342,80,498,373,371,214,280", "31,17,279,177,33,74,17,137,150,155,8,36,8,36,8,36,8,36,8,36", "-114.96563,-115.02225,-115.85698"],
        ["llama-tiny", "padded", "t1", "200,445,501,307,117,319,62,155,487,384,398,343,166,371,170,361,335,20,140,39", "343,374,42,437,113,340,148,167,32,374,59,89,511,421,164,145,41,444,60,408", "118,170,487,223,143,11,477,374,349,232,343,61,403,71,19,50,340,141,189,82", "-124.98349,-123.40892,-124.39857"],
        ["llama-tiny", "padded", "t08k20p09", "277,470,266,114,337,500,80,479,158,440,28,358,446,102,236,387,174,134,281,342", "348,470,473,239,139,338,61,114,348,490,106,485,186,246,437,377,43,418,458,81", "508,221,402,441,384,351,499,478,51,441,398,340,267,309,261,11,148,476,297,108", "-116.86012,-115.92717,-116.64764"],
    ];

    // "278x20" is 278 twenty times; otherwise a comma-separated row.
    static int[] ParseRow(string s) => s.Contains('x')
        ? Enumerable.Repeat(int.Parse(s.Split('x')[0]), int.Parse(s.Split('x')[1])).ToArray()
        : s.Split(',').Select(int.Parse).ToArray();

    [Theory]
    [MemberData(nameof(Recorded))]
    public void SameTokensAsBeforeTheFastPaths(string fixture, string set, string options, string row0, string row1, string row2, string logProbSums)
    {
        using var r = Sampler.Generate(Model(fixture), Prompts(fixture, set), Options[options], CPU);
        Assert.Equal(new[] { ParseRow(row0), ParseRow(row1), ParseRow(row2) }, ToRows(r.ResponseIds));
        var sums = r.LogProbs.sum(1).data<float>().ToArray();
        var expected = logProbSums.Split(',').Select(double.Parse).ToArray();
        for (int i = 0; i < 3; i++) Assert.InRange(sums[i], expected[i] - 1e-3, expected[i] + 1e-3);
        // The result's mask marks every prompt token and response token (no stop id here).
        var mask = ToRows(r.AttentionMask);
        var prompts = Prompts(fixture, set);
        for (int i = 0; i < 3; i++) Assert.Equal(prompts[i].Count + 20, mask[i].Sum());
    }

    [Fact]
    public void SeededGeneratorOnCpuIsPrivateAndSeeded()
    {
        Assert.Null(SeededGenerator.Create(null, CPU));
        using var a = SeededGenerator.Create(5, CPU)!;
        using var b = new TorchSharp.torch.Generator(5);
        manual_seed(1);
        var expected = rand(3).data<float>().ToArray();
        manual_seed(1);
        Assert.Equal(rand(4, generator: b).data<float>().ToArray(), rand(4, generator: a).data<float>().ToArray());
        Assert.Equal(expected, rand(3).data<float>().ToArray());   // the global stream was not touched
    }
}
