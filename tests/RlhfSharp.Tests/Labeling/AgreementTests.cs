using RlhfSharp.Labeling;
using Xunit;

namespace RlhfSharp.Tests.Labeling;

public class AgreementTests
{
    // Hand-made case, worked out on paper.
    // t1 (3 responses, 3 pairs): alice 0>1>2, bob 0>2>1            -> alice&bob agree on (0,1),(0,2): 2/3
    // t2 (4 responses, 6 pairs): alice 0>1>2>3, bob 0>1>3>2, carol 3>2>1>0
    //   alice&bob 5/6 (only (2,3) differs), alice&carol 0/6, bob&carol 1/6 (only 3>2 shared)
    // overall (2+5+0+1)/(3+6+6+6) = 8/21; alice 7/15; bob 8/15; carol 1/12
    static readonly (string, string, IReadOnlyList<int>)[] Case =
    [
        ("t1", "alice", [0, 1, 2]), ("t1", "bob", [0, 2, 1]),
        ("t2", "alice", [0, 1, 2, 3]), ("t2", "bob", [0, 1, 3, 2]), ("t2", "carol", [3, 2, 1, 0]),
        ("t3", "carol", [1, 0]), // labelled by one person only: compared with nobody
    ];

    [Fact]
    public void HandMadeCaseHasTheKnownAnswer()
    {
        var r = Agreement.Compute(Case);
        Assert.Equal(new AgreementCount(8, 21), r.Overall);
        Assert.Equal(8.0 / 21, r.Overall.Fraction!.Value, 12);
        Assert.Equal(new AgreementCount(7, 15), r.PerLabeler["alice"]);
        Assert.Equal(new AgreementCount(8, 15), r.PerLabeler["bob"]);
        Assert.Equal(new AgreementCount(1, 12), r.PerLabeler["carol"]);
        Assert.Equal(new AgreementCount(7, 9), r.PerPair["alice|bob"]);
        Assert.Equal(new AgreementCount(0, 6), r.PerPair["alice|carol"]);
        Assert.Equal(new AgreementCount(1, 6), r.PerPair["bob|carol"]);
    }

    [Fact]
    public void NoSharedTaskMeansNoFigure()
    {
        var r = Agreement.Compute([("t1", "alice", [0, 1]), ("t2", "bob", [1, 0])]);
        Assert.Null(r.Overall.Fraction);
        Assert.Null(r.PerLabeler["alice"].Fraction);
    }

    [Fact]
    public async Task StatsFromTheStoreMatchTheHandMadeCase()
    {
        using var f = new LabelingFixture();
        f.Store.AddTasks([
            new NewTask("t1", "p1", ["a", "b", "c"]),
            new NewTask("t2", "p2", ["a", "b", "c", "d"]),
            new NewTask("t3", "p3", ["a", "b"]),
        ]);
        var ids = new Dictionary<string, long>();
        foreach (var name in new[] { "alice", "bob", "carol" })
        {
            f.Store.AddLabeler(name, false);
            ids[name] = f.Store.Labelers().Single(l => l.Name == name).Id;
        }
        foreach (var (task, who, ranking) in Case)
        {
            var flags = ranking.ToDictionary(i => i, i => (IReadOnlyList<string>)(i == 0 ? ["harmful_advice"] : []));
            var label = new LabelInput(ranking, ranking.ToDictionary(i => i, _ => 4), flags, "\"\"");
            var (outcome, _) = await f.Store.SubmitAsync(ids[who], task, label, redundancy: 3);
            Assert.Equal(SubmitOutcome.Created, outcome);
        }
        var stats = LabelStats.From(f.Store);
        Assert.Equal(6, stats.Labels);
        Assert.Equal(2, stats.LabelsPerLabeler["alice"]);
        Assert.Equal(0, stats.LabelsPerLabeler["admin"]);
        Assert.Equal(new AgreementCount(8, 21), stats.Agreement.Overall);
        Assert.Equal(new AgreementCount(1, 12), stats.Agreement.PerLabeler["carol"]);
        // Response 0 flagged once per label: 6 of 3+3+4+4+4+2 = 20 responses.
        Assert.Equal(6.0 / 20, stats.FlagRates["harmful_advice"], 12);
        Assert.Equal(0.0, stats.FlagRates["sexual_content"]);
        Assert.Contains("\"agreed_pairs\": 8", stats.ToJson());
    }
}
