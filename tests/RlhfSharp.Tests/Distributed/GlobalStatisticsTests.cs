using RlhfSharp.Distributed;
using RlhfSharp.Training.Losses;
using RlhfSharp.Training.Rl;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Distributed;

/// <summary>
/// The statistics of a rollout spread over ranks (<see cref="GlobalStatistics"/>), without mpirun: two in-process
/// "ranks" on two threads (<see cref="ThreadGroup"/>) each hold part of a batch, and what they compute must be what one
/// process computes on the whole batch with the single-process functions.
/// </summary>
public sealed class GlobalStatisticsTests
{
    /// <summary>A process group of threads: an all-reduce adds every rank's buffer through shared memory.</summary>
    sealed class ThreadGroup(int rank, ThreadGroup.Shared shared) : ProcessGroup
    {
        public sealed class Shared(int size)
        {
            public readonly Barrier Barrier = new(size);
            public readonly double[][] Slots = new double[size][];
        }

        public override int Rank => rank;
        public override int Size => shared.Slots.Length;

        public override void AllReduceSum(double[] values)
        {
            shared.Slots[rank] = (double[])values.Clone();
            shared.Barrier.SignalAndWait();
            for (int i = 0; i < values.Length; i++) values[i] = shared.Slots.Sum(slot => slot[i]);
            shared.Barrier.SignalAndWait();   // nobody overwrites a slot before everyone has read it
        }

        public override void AllReduceSum(Tensor tensor)
        {
            var values = tensor.cpu().to_type(ScalarType.Float64).data<double>().ToArray();
            AllReduceSum(values);
            tensor.copy_(torch.tensor(values, tensor.shape).to_type(tensor.dtype));
        }

        public override void Broadcast(double[] values) => throw new NotSupportedException();
        public override void Broadcast(Tensor tensor) => throw new NotSupportedException();
        public override void Barrier() => shared.Barrier.SignalAndWait();
    }

    /// <summary>Runs <paramref name="work"/> as ranks 0 and 1 on two threads; returns each rank's result.</summary>
    static T[] OnTwoRanks<T>(Func<ProcessGroup, T> work)
    {
        var shared = new ThreadGroup.Shared(2);
        var tasks = Enumerable.Range(0, 2).Select(rank => Task.Factory.StartNew(() => work(new ThreadGroup(rank, shared)), TaskCreationOptions.LongRunning)).ToArray();
        Assert.True(Task.WaitAll(tasks, TimeSpan.FromSeconds(60)), "the two ranks did not finish");
        return tasks.Select(t => t.Result).ToArray();
    }

    // A batch of 5 rows with responses of different lengths; rank 0 holds rows 0-1, rank 1 rows 2-4.
    static readonly double[,] Values = { { 1.5, -2, 0.25, 9 }, { 3, 4, -1, 7 }, { 0.5, 0, 0, 0 }, { -3, 2.5, 6, 1 }, { 2, -0.75, 5, 0 } };
    static readonly double[,] Mask = { { 1, 1, 1, 0 }, { 1, 1, 1, 1 }, { 1, 0, 0, 0 }, { 1, 1, 1, 1 }, { 1, 1, 0, 0 } };
    static Tensor Rows(double[,] data, int from, int to, ScalarType dtype) =>
        torch.tensor(data, ScalarType.Float64)[from..to].to_type(dtype);

    [Theory]
    [InlineData(ScalarType.Float64, 1e-14)]
    [InlineData(ScalarType.Float32, 1e-6)]
    public void Whitening_split_over_two_ranks_equals_masked_whiten_of_the_whole_batch(ScalarType dtype, double tolerance)
    {
        var expected = Masked.Whiten(Rows(Values, 0, 5, dtype), Rows(Mask, 0, 5, ScalarType.Float32)).to_type(ScalarType.Float64);
        var parts = OnTwoRanks(group =>
        {
            var (from, to) = group.Rank == 0 ? (0, 2) : (2, 5);
            var whitened = GlobalStatistics.Whiten(group, Rows(Values, from, to, dtype), Rows(Mask, from, to, ScalarType.Float32));
            Assert.Equal(dtype, whitened.dtype);
            return whitened.to_type(ScalarType.Float64);
        });
        var actual = torch.cat(parts, 0);
        double worst = (actual - expected).abs().max().item<double>();
        Assert.True(worst <= tolerance, $"whitened values differ by {worst:G3}");
        Assert.Equal(0, actual[2, 1].item<double>());   // pads stay 0
    }

    [Fact]
    public void Score_normalisation_and_mean_std_split_over_two_ranks_equal_the_whole_batch()
    {
        var scores = torch.tensor(new[] { 0.5, -1.25, 3.0, 2.0, 0.0, 7.5 });
        var expected = (scores - scores.mean()) / (scores.std() + 1e-8);
        var results = OnTwoRanks(group =>
        {
            var mine = group.Rank == 0 ? scores[..4] : scores[4..];   // unequal shares: the statistics must not assume equal ones
            var (mean, std) = GlobalStatistics.MeanStd(group, mine);
            return (Normalized: GlobalStatistics.NormalizeScores(group, mine), Mean: mean.item<double>(), Std: std.item<double>(),
                    Share: GlobalStatistics.TokenShare(group, torch.ones(mine.shape[0])));
        });
        var actual = torch.cat(results.Select(r => r.Normalized).ToArray(), 0);
        Assert.True((actual - expected).abs().max().item<double>() <= 1e-14);
        foreach (var r in results)
        {
            Assert.Equal(scores.mean().item<double>(), r.Mean, 1e-14);
            Assert.Equal(scores.std().item<double>(), r.Std, 1e-14);
        }
        Assert.Equal([4.0 / 6, 2.0 / 6], results.Select(r => r.Share));
    }

    [Fact]
    public void Extra_metrics_are_averaged_over_the_ranks_and_ranks_that_disagree_on_their_names_fail()
    {
        var means = OnTwoRanks(group => GlobalStatistics.MeanOverRanks(group, new Dictionary<string, double> { ["gold"] = group.Rank == 0 ? 1.0 : 3.0, ["a"] = 5 }));
        Assert.All(means, m => { Assert.Equal(2.0, m["gold"]); Assert.Equal(5.0, m["a"]); });

        var errors = OnTwoRanks(group =>
        {
            var metrics = new Dictionary<string, double> { ["gold"] = 1 };
            if (group.Rank == 1) metrics["extra"] = 2;
            try { GlobalStatistics.MeanOverRanks(group, metrics); return null; }
            catch (InvalidOperationException e) { return e.Message; }
        });
        Assert.All(errors, e => Assert.Contains("different rollout metrics", e));
    }
}
