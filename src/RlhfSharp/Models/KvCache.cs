using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Models;

/// <summary>
/// Per-layer key/value cache for incremental decoding. Keys and values are [B,Hkv,S,D] (before GQA expansion).
/// The tensors live outside any dispose scope: a forward's scope frees its temporaries, never the cache.
/// Replacing a layer's entry disposes the old one; <see cref="Dispose"/> frees everything.
/// </summary>
public sealed class KvCache : IDisposable
{
    readonly Tensor?[] _keys, _values;

    /// <summary>An empty cache with one key/value slot per layer.</summary>
    public KvCache(int numLayers)
    {
        _keys = new Tensor?[numLayers];
        _values = new Tensor?[numLayers];
    }

    /// <summary>Number of layer slots.</summary>
    public int NumLayers => _keys.Length;

    /// <summary>Cached sequence length S (0 when empty). Read from shape metadata: no device sync.</summary>
    public int Length => _keys[0] is { } k ? (int)k.shape[2] : 0;

    /// <summary>Cached keys of one layer [B,Hkv,S,D], or null before the first forward.</summary>
    public Tensor? Keys(int layer) => _keys[layer];
    /// <summary>Cached values of one layer [B,Hkv,S,D], or null before the first forward.</summary>
    public Tensor? Values(int layer) => _values[layer];

    /// <summary>
    /// Appends this step's k, v [B,Hkv,T,D] to the layer and returns the full k, v [B,Hkv,S+T,D].
    /// The returned tensors belong to the cache: callers must not dispose them.
    /// </summary>
    public (Tensor k, Tensor v) Append(int layer, Tensor k, Tensor v)
    {
        var (oldK, oldV) = (_keys[layer], _values[layer]);
        var newK = oldK is null ? k.alias() : torch.cat([oldK, k], 2);
        var newV = oldV is null ? v.alias() : torch.cat([oldV, v], 2);
        _keys[layer] = newK.DetachFromDisposeScope();
        _values[layer] = newV.DetachFromDisposeScope();
        oldK?.Dispose();
        oldV?.Dispose();
        return (newK, newV);
    }

    /// <summary>
    /// Keeps only the given batch rows (e.g. drop finished sequences): index [B'] int64.
    /// </summary>
    public void SelectRows(Tensor rowIndex)
    {
        for (int i = 0; i < _keys.Length; i++)
        {
            if (_keys[i] is not { } k) continue;
            var v = _values[i]!;
            _keys[i] = k.index_select(0, rowIndex).DetachFromDisposeScope();
            _values[i] = v.index_select(0, rowIndex).DetachFromDisposeScope();
            k.Dispose();
            v.Dispose();
        }
    }

    /// <summary>Disposes every cached tensor and empties the slots.</summary>
    public void Dispose()
    {
        for (int i = 0; i < _keys.Length; i++)
        {
            _keys[i]?.Dispose(); _keys[i] = null;
            _values[i]?.Dispose(); _values[i] = null;
        }
    }
}
