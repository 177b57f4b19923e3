using System.Text.Json.Serialization;

namespace RlhfSharp.Training.Core;

/// <summary>Where a sampler stands: the next index to hand out is <c>order(epoch)[Index]</c>.</summary>
public sealed record SamplerPosition(
    [property: JsonPropertyName("epoch")] long Epoch,
    [property: JsonPropertyName("index")] long Index);

/// <summary>
/// Deterministic, resumable data order: each epoch is a permutation of <c>0..Count-1</c> that depends only
/// on (seed, epoch), so a saved <see cref="SamplerPosition"/> restores the exact sequence that follows.
/// The shuffle is our own (SplitMix64 + Fisher–Yates) rather than <see cref="Random"/>, so the order never
/// changes with the .NET version. Batches run across epoch boundaries (no partial or dropped batch).
/// </summary>
public sealed class EpochSampler
{
    long[] _order;

    /// <summary>Number of examples.</summary>
    public long Count { get; }
    /// <summary>Seed of the permutations.</summary>
    public ulong Seed { get; }
    /// <summary>False: every epoch is 0..Count-1 in order.</summary>
    public bool Shuffle { get; }
    /// <summary>Where the next index comes from; save it to resume.</summary>
    public SamplerPosition Position { get; private set; } = new(0, 0);

    /// <summary>A sampler over <paramref name="count"/> (&gt;= 1) examples starting at epoch 0, index 0.</summary>
    public EpochSampler(long count, ulong seed, bool shuffle = true)
    {
        if (count < 1) throw new UserError($"data sampler: the data set is empty");
        (Count, Seed, Shuffle) = (count, seed, shuffle);
        _order = Order(0);
    }

    /// <summary>The order of one epoch: a pure function of (count, seed, epoch).</summary>
    public static long[] Permutation(long count, ulong seed, long epoch)
    {
        var order = new long[count];
        for (long i = 0; i < count; i++) order[i] = i;
        ulong state = seed ^ (GoldenGamma * (ulong)(epoch + 1));
        for (long i = count - 1; i > 0; i--)
        {
            long j = (long)(NextUInt64(ref state) % (ulong)(i + 1));   // modulo bias < 2^-40 for any real data set
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    long[] Order(long epoch)
    {
        if (Shuffle) return Permutation(Count, Seed, epoch);
        var order = new long[Count];
        for (long i = 0; i < Count; i++) order[i] = i;
        return order;
    }

    /// <summary>The next example index; advances the position.</summary>
    public long Next()
    {
        var (epoch, index) = Position;
        long value = _order[index];
        if (index + 1 < Count) Position = new(epoch, index + 1);
        else { Position = new(epoch + 1, 0); _order = Order(epoch + 1); }
        return value;
    }

    /// <summary>The next <paramref name="batchSize"/> indices (may span two epochs).</summary>
    public long[] NextBatch(int batchSize)
    {
        var batch = new long[batchSize];
        for (int i = 0; i < batchSize; i++) batch[i] = Next();
        return batch;
    }

    /// <summary>Moves to a saved position (forward or backward) without replaying the indices before it.</summary>
    public void Skip(SamplerPosition position)
    {
        if (position.Epoch < 0 || position.Index < 0 || position.Index >= Count)
            throw new UserError($"data sampler: position (epoch {position.Epoch}, index {position.Index}) is outside a data set of {Count} examples; was the checkpoint made with other data?");
        if (position.Epoch != Position.Epoch) _order = Order(position.Epoch);
        Position = position;
    }

    /// <summary>SplitMix64's increment, 2^64/φ: consecutive epochs (and states) land far apart.</summary>
    const ulong GoldenGamma = 0x9E3779B97F4A7C15UL;

    static ulong NextUInt64(ref ulong state)
    {
        // SplitMix64 (Steele, Lea & Flood 2014); the two multipliers are its published finaliser constants.
        ulong z = state += GoldenGamma;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
