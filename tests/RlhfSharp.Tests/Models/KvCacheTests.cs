using RlhfSharp.Checkpoints;
using RlhfSharp.Tests.Infrastructure;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Models;

public class KvCacheTests
{
    [Fact]
    public void CacheSurvivesForwardScopeAndSelectRowsKeepsChosenRows()
    {
        using var scope = torch.NewDisposeScope();
        var model = HfModelLoader.LoadCausalLM(SharedPaths.Fixture("llama-tiny"));
        using var _ = torch.no_grad();
        var ids = FixtureHelpers.Reference("llama-tiny")["input_ids"];           // [2,24]
        using var cache = model.NewCache();
        Assert.Equal(0, cache.Length);
        model.Forward(ids.narrow(1, 0, 10), null, cache);
        Assert.Equal(10, cache.Length);
        Assert.Equal(new long[] { 2, 2, 10, 16 }, cache.Keys(0)!.shape);          // [B,Hkv,S,D]: GQA keeps 2 kv heads

        cache.SelectRows(torch.tensor(new long[] { 1 }));                         // keep row 1 only
        var next = model.Forward(ids[1].narrow(0, 10, 3).unsqueeze(0), null, cache);
        var full = model.Forward(ids[1].narrow(0, 0, 13).unsqueeze(0));
        Assert.True(FixtureHelpers.RelErr(next, full.narrow(1, 10, 3)) < 1e-5);

        cache.Dispose();
        Assert.Equal(0, cache.Length);
        Assert.Null(cache.Keys(0));
    }
}
