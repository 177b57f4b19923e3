using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Bench;

/// <summary>Wall-clock timing that waits for the device: CUDA kernels are asynchronous, so synchronise before reading the clock.</summary>
public static class Timing
{
    public static void Sync(Device device)
    {
        if (device.type == DeviceType.CUDA) cuda.synchronize();
    }

    /// <summary>Seconds for <paramref name="body"/>, device work included.</summary>
    public static double Seconds(Device device, Action body)
    {
        Sync(device);
        var sw = Stopwatch.StartNew();
        body();
        Sync(device);
        return sw.Elapsed.TotalSeconds;
    }
}
