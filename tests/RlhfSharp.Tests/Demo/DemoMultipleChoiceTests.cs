using RlhfSharp.Demo;
using Xunit;

namespace RlhfSharp.Tests.Demo;

/// <summary>The demo's multiple-choice version of its known facts, checked by hand on one question.</summary>
public class DemoMultipleChoiceTests
{
    [Fact]
    public void EachKnownFactBecomesEightAnswersPhrasedAsTheDemoAnswersWithTheTrueValueBest()
    {
        var city = FactWorld.Attributes.Single(a => a.Name == "city");
        var known = new WorldQuestion(new Fact("Bakot", city, "Rome", Known: true), QuestionSplit.Eval);
        var unknown = new WorldQuestion(new Fact("Dimul", city, "Oslo", Known: false), QuestionSplit.Eval);

        var q = Assert.Single(DemoEvaluator.MultipleChoiceQuestions([known, unknown]));
        Assert.Equal("Where does Bakot live?", q.Question);
        Assert.Equal("They live in Rome.", q.Mc1Best);
        Assert.Equal(["They live in Rome."], q.Mc2True);
        Assert.Equal(7, q.Mc1Incorrect.Count);
        Assert.Equal(q.Mc1Incorrect, q.Mc2False);
        Assert.Contains("They live in Oslo.", q.Mc1Incorrect);
        Assert.DoesNotContain("They live in Rome.", q.Mc1Incorrect);
        Assert.Equal(8, q.AllAnswers().Count);
    }
}
