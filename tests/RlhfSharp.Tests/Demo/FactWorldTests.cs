using RlhfSharp.Demo;
using Xunit;

namespace RlhfSharp.Tests.Demo;

public class FactWorldTests
{
    readonly FactWorld world = FactWorld.Create(knownEntities: 20, unknownEntities: 20, seed: 3);

    [Fact]
    public void CorpusStatesKnownFactsAndNeverNamesUnknownPeople()
    {
        var corpus = string.Join("\n", world.PretrainingCorpus(repeats: 2, seed: 1));
        foreach (var u in world.UnknownEntities) Assert.DoesNotContain(u, corpus);
        foreach (var q in world.Questions.Where(q => q.Fact.Known)) Assert.Contains(q.CorrectAnswer, corpus);
    }

    [Fact]
    public void HeldOutUnknownPeopleAppearInNoTrainingSplit()
    {
        var evalUnknown = world.Questions.Where(q => !q.Fact.Known && q.Split == QuestionSplit.Eval).Select(q => q.Fact.Entity).ToHashSet();
        var trainUnknown = world.Questions.Where(q => !q.Fact.Known && q.Split != QuestionSplit.Eval).Select(q => q.Fact.Entity).ToHashSet();
        Assert.NotEmpty(evalUnknown);
        Assert.Empty(evalUnknown.Intersect(trainUnknown));
        Assert.Equal(3 * 40, world.Questions.Count);
        foreach (var split in Enum.GetValues<QuestionSplit>())
            Assert.Contains(world.Questions, q => q.Split == split && q.Fact.Known);
    }

    [Fact]
    public void GoldLabelerScoresEachKindOfAnswer()
    {
        var q = world.Questions.First(q => q.Fact.Attribute.Name == "city");
        var wrong = q.Fact.Attribute.Values.First(v => v != q.Fact.Value);
        Assert.Equal(1.0, FactWorld.Gold(q, q.CorrectAnswer));
        Assert.Equal(0.5, FactWorld.Gold(q, FactWorld.Hedge(q.CorrectAnswer)));
        Assert.Equal(0.0, FactWorld.Gold(q, FactWorld.DontKnowAnswer));
        Assert.Equal(-2.0, FactWorld.Gold(q, FactWorld.Hedge(q.CorrectAnswer.Replace(q.Fact.Value, wrong))));
        Assert.Equal(-4.0, FactWorld.Gold(q, q.CorrectAnswer.Replace(q.Fact.Value, wrong)));
        Assert.Equal(-4.0, FactWorld.Gold(q, $"{q.Fact.Entity} lives in {q.Fact.Value} or {wrong}."));
        Assert.Equal(-4.0, FactWorld.Gold(q, "zzz"));
    }

    [Fact]
    public void DemonstrationsAreCorrectWhateverTheirStyle()
    {
        var rng = new Random(5);
        foreach (var q in world.Questions.Take(60))
            Assert.True(FactWorld.Gold(q, FactWorld.Demonstration(q, rng)) >= 0);
    }
}
