using RlhfSharp.Evaluation;
using Xunit;

namespace RlhfSharp.Tests.Evaluation;

public class HedgingRewardTests
{
    [Theory]
    [InlineData("Bazor lives in Oslo.", AnswerKind.Unhedged)]
    [InlineData("I think Bazor lives in Oslo.", AnswerKind.Hedged)]
    [InlineData("Probably Oslo.", AnswerKind.Hedged)]
    [InlineData("I don't know.", AnswerKind.DontKnow)]
    [InlineData("I do not know where Bazor lives.", AnswerKind.DontKnow)]
    [InlineData("I think... I don't know.", AnswerKind.DontKnow)]
    public void ClassifiesByDocumentedPatterns(string text, AnswerKind expected) => Assert.Equal(expected, HedgingReward.Classify(text));

    [Fact]
    public void ScoresFollowSchulmansScheme()
    {
        Assert.Equal(1.0, HedgingReward.Score(AnswerKind.Unhedged, true));
        Assert.Equal(0.5, HedgingReward.Score(AnswerKind.Hedged, true));
        Assert.Equal(0.0, HedgingReward.Score(AnswerKind.DontKnow, true));
        Assert.Equal(0.0, HedgingReward.Score(AnswerKind.DontKnow, false));
        Assert.Equal(-2.0, HedgingReward.Score(AnswerKind.Hedged, false));
        Assert.Equal(-4.0, HedgingReward.Score(AnswerKind.Unhedged, false));
        Assert.True(HedgingReward.IsConfidentlyWrong(AnswerKind.Unhedged, false));
        Assert.False(HedgingReward.IsConfidentlyWrong(AnswerKind.Hedged, false));
    }
}

/// <summary>The documented phrase lists are the ones the classifier uses.</summary>
public class HedgingPhraseListTests
{
    [Fact]
    public void EveryDocumentedPhraseClassifiesAsDocumented()
    {
        foreach (var phrase in HedgingReward.DontKnowPhrases)
        {
            Assert.Equal(AnswerKind.DontKnow, HedgingReward.Classify(phrase + "."));
            Assert.Equal(AnswerKind.DontKnow, HedgingReward.Classify("Well, " + phrase.ToUpperInvariant() + ", sorry."));
        }
        foreach (var phrase in HedgingReward.HedgePhrases)
        {
            Assert.Equal(AnswerKind.Hedged, HedgingReward.Classify(phrase + " Oslo."));
            Assert.Equal(AnswerKind.Unhedged, HedgingReward.Classify("Oslo, " + phrase + "."));   // a hedge counts only at the start
        }
    }
}
