using RlhfSharp.Tests.Generation;
using RlhfSharp.Tests.Infrastructure;
using RlhfSharp.Tokenization;
using Xunit;

namespace RlhfSharp.Tests.Cli;

public class GenerateCommandTests
{
    /// <summary>
    /// Only the decoded greedy continuation reaches stdout. The fixture's own prompts hold split UTF-8 characters and
    /// do not survive text -> ids, so the reference is an independent greedy loop without KV cache on the ids of a text
    /// prompt (GreedyParityTests ties that loop's path, the Sampler, to transformers' greedy_output).
    /// </summary>
    [Fact]
    public void GreedyPrintsTheDecodedContinuationOnly()
    {
        var dir = SharedPaths.Fixture("gpt2-tiny");
        var tokenizer = TokenizerLoader.FromFolder(dir);
        const string text = "the reward model ranks which response";
        var prompt = tokenizer.Encode(text, addSpecialTokens: true);
        var continuation = GenerationFixtures.GreedyNoCache(GenerationFixtures.Model("gpt2-tiny"), [prompt], 12, padId: 1)[0];
        var eos = Array.IndexOf(continuation, 0);                  // gpt2-tiny's EOS is id 0: the CLI stops there
        var expected = eos < 0 ? continuation : continuation[..eos];

        var r = RlhfProcess.Run("generate", "--model", dir, "--prompt", text, "--greedy", "--max-new-tokens", "12");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(tokenizer.Decode(expected, skipSpecialTokens: true) + Environment.NewLine, r.Stdout);
        Assert.NotEqual(Environment.NewLine, r.Stdout);
        Assert.DoesNotContain(text, r.Stdout);
    }

    [Fact]
    public void BestOfPrintsTheHighestRewardSampleAndLogsAllScores()
    {
        var r = RlhfProcess.Run("generate", "--model", SharedPaths.Fixture("llama-tiny"), "--prompt", "the model",
            "--best-of", "3", "--reward", SharedPaths.Fixture("llama-tiny-reward"), "--seed", "4", "--max-new-tokens", "6");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var scores = r.Stderr.Split('\n').Where(l => l.StartsWith("sample ")).Select(l => double.Parse(l.Split("reward ")[1])).ToArray();
        Assert.Equal(3, scores.Length);
        var best = int.Parse(r.Stderr.Split("best of 3: sample ")[1].Trim().Split('\n')[0]);
        Assert.Equal(scores.Max(), scores[best]);
        Assert.Single(r.Stdout.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public void MissingModelFolderExitsTwoNamingThePath()
    {
        var missing = Path.Combine(Path.GetTempPath(), "rlhf-no-such-model-" + Guid.NewGuid().ToString("N")[..8]);
        var r = RlhfProcess.Run("generate", "--model", missing, "--prompt", "hi", "--greedy");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(missing, r.Stderr);
        Assert.Equal("", r.Stdout);
        Assert.Single(r.Stderr.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public void BestOfWithoutRewardModelIsAUserError()
    {
        var r = RlhfProcess.Run("generate", "--model", SharedPaths.Fixture("gpt2-tiny"), "--prompt", "hi", "--best-of", "4");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--reward", r.Stderr);
    }
}
