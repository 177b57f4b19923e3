using RlhfSharp.Checkpoints;
using RlhfSharp.Models;
using RlhfSharp.Tests.Infrastructure;
using RlhfSharp.Tests.Models;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Generation;

/// <summary>Models and prompts shared by the generation tests (loaded once per process: the fixtures are read-only).</summary>
public static class GenerationFixtures
{
    static readonly Dictionary<string, CausalLM> Models = new();

    public static CausalLM Model(string fixture)
    {
        lock (Models)
        {
            if (!Models.TryGetValue(fixture, out var m)) Models[fixture] = m = HfModelLoader.LoadCausalLM(SharedPaths.Fixture(fixture));
            return m;
        }
    }

    /// <summary>Rows of a fixture's reference tensor as int lists.</summary>
    public static List<int[]> Rows(string fixture, string key)
    {
        var refs = FixtureHelpers.Reference(fixture);
        var t = refs[key];
        long b = t.shape[0], n = t.shape[1];
        var flat = t.to_type(ScalarType.Int64).data<long>().ToArray();
        var rows = Enumerable.Range(0, (int)b).Select(i => flat.Skip(i * (int)n).Take((int)n).Select(x => (int)x).ToArray()).ToList();
        foreach (var v in refs.Values) v.Dispose();
        return rows;
    }

    /// <summary>Greedy decoding without a KV cache: every step recomputes the whole left-padded batch. Returns [B][N].</summary>
    public static int[][] GreedyNoCache(ILanguageModel model, IReadOnlyList<IReadOnlyList<int>> prompts, int newTokens, int padId)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var (ids, mask) = RlhfSharp.Generation.TokenBatch.LeftPadded(prompts, padId, CPU);
        int B = prompts.Count;
        var output = new List<int>[B];
        for (int i = 0; i < B; i++) output[i] = new();
        for (int step = 0; step < newTokens; step++)
        {
            var next = model.Forward(ids, mask)[.., -1].argmax(-1);           // [B]
            var host = next.data<long>().ToArray();
            for (int i = 0; i < B; i++) output[i].Add((int)host[i]);
            ids = cat([ids, next.unsqueeze(1)], 1);
            mask = cat([mask, ones(B, 1, dtype: ScalarType.Int64)], 1);
        }
        return output.Select(o => o.ToArray()).ToArray();
    }

    public static int[][] ToRows(Tensor t)
    {
        long b = t.shape[0], n = t.shape[1];
        var flat = t.to_type(ScalarType.Int64).cpu().data<long>().ToArray();
        return Enumerable.Range(0, (int)b).Select(i => flat.Skip(i * (int)n).Take((int)n).Select(x => (int)x).ToArray()).ToArray();
    }
}
