namespace RlhfSharp.Models;

/// <summary>Per-layer key/value cache for incremental decoding (placeholder contract; the Models work implements it).</summary>
public sealed class KvCache : IDisposable
{
    public void Dispose() { }
}
