using System.Text.Json.Nodes;
using RlhfSharp.Training.Core;
using TorchSharp.PyBridge;
using Xunit;

namespace RlhfSharp.Tests.Ppo;

/// <summary>Compares two checkpoint folders completely: every tensor of every safetensors file bitwise, every other file
/// byte for byte, and the manifest's state (step, samplers, trainer state) apart from its save time.</summary>
static class CheckpointComparison
{
    public static void AssertIdentical(string a, string b)
    {
        string[] Files(string root) => Directory.GetFiles(root, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(root, f)).Order(StringComparer.Ordinal).ToArray();
        var files = Files(a);
        Assert.Equal(files, Files(b));
        foreach (var rel in files)
        {
            string fa = Path.Combine(a, rel), fb = Path.Combine(b, rel);
            if (rel.EndsWith(".safetensors")) AssertSameTensors(fa, fb, rel);
            else if (rel == CheckpointStore.StateFile) Assert.Equal(State(fa), State(fb));
            else Assert.True(File.ReadAllBytes(fa).SequenceEqual(File.ReadAllBytes(fb)), $"{rel} differs");
        }
    }

    static string State(string path)
    {
        var state = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        state.Remove("saved_utc");
        return state.ToJsonString();
    }

    static void AssertSameTensors(string fa, string fb, string rel)
    {
        var ta = Safetensors.LoadStateDict(fa); var tb = Safetensors.LoadStateDict(fb);
        try
        {
            Assert.Equal(ta.Keys.Order(StringComparer.Ordinal), tb.Keys.Order(StringComparer.Ordinal));
            foreach (var (key, x) in ta)
            {
                var y = tb[key];
                Assert.True(x.dtype == y.dtype && x.shape.SequenceEqual(y.shape) && x.equal(y).all().item<bool>(), $"{rel}: '{key}' differs");
            }
        }
        finally
        {
            foreach (var t in ta.Values.Concat(tb.Values)) t.Dispose();
        }
    }
}
