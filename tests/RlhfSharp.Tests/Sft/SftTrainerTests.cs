using RlhfSharp.Data;
using RlhfSharp.Tests.Infrastructure;
using RlhfSharp.Tests.Pretraining;
using RlhfSharp.Tests.Training.Core;
using RlhfSharp.Tokenization;
using RlhfSharp.Training.Losses;
using RlhfSharp.Training.Sft;
using RlhfSharp.Training.Supervised;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Sft;

[Collection(GlobalRngCollection.Name)]
public sealed class SftTrainerTests(ITestOutputHelper output)
{
    static readonly ByteTokenizer Tok = new();
    static readonly DefaultChatFormat Format = new();

    static List<Demonstration> Echo(int n, int seed) => EchoDemonstrations.Make(n, seed);

    [Fact]
    public void GradientWrtLogitsAtPromptPositionsIsExactlyZero()
    {
        var multi = new Demonstration([
            new ChatTurn(ChatRole.System, "be brief"), new ChatTurn(ChatRole.User, "hi"), new ChatTurn(ChatRole.Assistant, "hello"),
            new ChatTurn(ChatRole.User, "name?"), new ChatTurn(ChatRole.Assistant, "bot")]);
        var demos = new[] { multi, Demonstration.FromPair("repeat abc", "abc") };
        var encoded = demos.Select(d => ChatExampleEncoder.Encode(d, Format, Tok, 64)).ToList();
        var model = TinyModels.Lm(5);
        var b = LmBatch.Build(encoded, Tok.PadId!.Value, model.Device);

        var logits = model.Forward(b.InputIds, b.AttentionMask).detach().requires_grad_(true);   // [B,T,V] leaf
        LanguageModelObjective.LanguageModelLoss(logits, b.Targets, b.LossMask).backward();
        var gradNorm = logits.grad!.abs().sum(-1);                                               // [B,T]
        var mask = b.LossMask.to(ScalarType.Bool);
        Assert.Equal(0.0, gradNorm.masked_select(mask.logical_not()).sum().item<float>());       // exactly zero
        Assert.True(gradNorm.masked_select(mask).min().item<float>() > 0);

        // The counted targets are exactly the assistant replies with their end-of-turn token.
        var trainedText = Tok.Decode(b.Targets[0].masked_select(mask[0]).data<long>().Select(x => (int)x));
        Assert.Equal("hello<|endoftext|>bot<|endoftext|>", trainedText);
    }

    [Fact]
    public void Truncation_CutsThePromptFromTheLeftFirstThenTheResponse()
    {
        var segs = new List<(string, bool)> { ("0123456789", false), ("abcd", true) };
        var e = ChatExampleEncoder.Encode(segs, Tok, 10);                 // prompt keeps its last 6 tokens, response whole
        Assert.Equal("456789abcd", Tok.Decode(e.Ids));
        Assert.Equal(new[] { false, false, false, false, false, false, true, true, true, true }, e.Trained);

        var longResponse = new List<(string, bool)> { ("0123456789", false), ("abcdefghijkl", true) };
        var f = ChatExampleEncoder.Encode(longResponse, Tok, 10);         // prompt keeps half the context, response cut at the right
        Assert.Equal("56789abcde", Tok.Decode(f.Ids));
    }

    [Fact]
    public void Sft_ChangesEveryParameterAndLowersHeldOutResponseLoss()
    {
        var train = Echo(96, 1);
        var eval = Echo(24, 2);
        var model = TinyModels.Lm(11);
        var before = TinyModels.Snapshot(model);
        var evalEncoded = SftTrainer.Encode(eval, Format, Tok, 64, model, "eval");
        double lossBefore = SftTrainer.ResponseLoss(model, evalEncoded, Tok.PadId!.Value);

        using var dir = new TempDir();
        var config = new SftConfig { Training = TinyModels.Fast(60, lr: 3e-3), BatchSize = 8 };
        var r = SftTrainer.Run(config, model, Tok, Format, train, eval, dir.Path);
        double lossAfter = SftTrainer.ResponseLoss(model, evalEncoded, Tok.PadId!.Value);
        output.WriteLine($"SFT held-out response loss {lossBefore:F3} -> {lossAfter:F3} ({r.Steps} steps, {r.Seconds:F1} s)");

        Assert.Equal(lossAfter, r.EvalMetric("eval_loss"), 5);
        Assert.True(lossAfter < lossBefore - 1.0, $"held-out response loss {lossBefore} -> {lossAfter}");
        var after = TinyModels.Snapshot(model);
        foreach (var (name, values) in before)
            Assert.False(values.SequenceEqual(after[name]), $"parameter {name} did not change");
    }

    [Fact]
    public void TokenizerModelMismatch_IsAUserErrorNamingTheSource()
    {
        var d = Demonstration.FromPair("hi", "ho") with { Source = "demos.jsonl:3" };
        TorchSharp.torch.manual_seed(1);
        var small = RlhfSharp.Models.ModelFactory.Create(TinyModels.Config() with { VocabSize = 200 });   // byte ids reach 256
        var e = Assert.Throws<UserError>(() => SftTrainer.Encode([d], Format, Tok, 16, small, "sft data"));
        Assert.StartsWith("demos.jsonl:3:", e.Message);
        Assert.Contains("vocabulary", e.Message);
    }
}
