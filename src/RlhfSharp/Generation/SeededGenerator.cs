using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Generation;

/// <summary>
/// The random generator a seeded draw on a device uses. On the CPU it is a private generator, so sampling leaves the
/// global RNG alone. TorchSharp 0.107 cannot make a CUDA generator (its native <c>THSGenerator_new</c> always
/// creates a CPU one, which a CUDA kernel refuses), so on a GPU the device's default generator is reseeded instead
/// and the draw uses it: the same seed still gives the same tokens on the same card, and a resumed run, which
/// reseeds from the same seed, redraws the same.
/// </summary>
public static class SeededGenerator
{
    /// <summary>
    /// A generator for draws on <paramref name="device"/> seeded with <paramref name="seed"/>; null when
    /// <paramref name="seed"/> is null (the global generator) or when <paramref name="device"/> is a GPU, whose
    /// default generator this call reseeds. The caller disposes a returned generator.
    /// </summary>
    public static Generator? Create(long? seed, Device device)
    {
        if (seed is not long s) return null;
        if (device.type == DeviceType.CPU) return new Generator((ulong)s, device);
        // Reseeds the default generator of every visible GPU (TorchSharp exposes no per-device call); nothing else in
        // the library draws from them after initialisation, so this disturbs no other stream.
        cuda.manual_seed_all(s);
        return null;
    }
}
