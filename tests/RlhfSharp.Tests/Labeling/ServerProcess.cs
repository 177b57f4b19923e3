using System.Diagnostics;

namespace RlhfSharp.Tests.Labeling;

/// <summary>`rlhf label serve` as a separate process (the rlhf.dll built beside the test assembly), so it can be SIGKILLed.</summary>
public sealed class ServerProcess : IDisposable
{
    readonly Process _p;
    public string Url { get; }

    ServerProcess(Process p, string url) { _p = p; Url = url; }

    public static async Task<ServerProcess> StartAsync(string dbPath, int redundancy)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "rlhf.dll");
        if (!File.Exists(dll)) throw new FileNotFoundException("rlhf.dll is not beside the test assembly", dll);
        var psi = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h ? h : "dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var a in new[] { dll, "label", "serve", "--db", dbPath, "--port", "0", "--redundancy", redundancy.ToString() })
            psi.ArgumentList.Add(a);
        var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (await p.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            if (line.StartsWith("listening on ")) return new ServerProcess(p, line["listening on ".Length..].Trim());
        throw new InvalidOperationException("rlhf label serve exited without listening: " + await stderr);
    }

    /// <summary>SIGKILL: no shutdown code runs, nothing is flushed that was not already on disk.</summary>
    public void Kill()
    {
        _p.Kill(entireProcessTree: false); // Process.Kill sends SIGKILL on Unix
        _p.WaitForExit(10_000);
    }

    public bool HasExited => _p.HasExited;

    public void Dispose()
    {
        if (!_p.HasExited) Kill();
        _p.Dispose();
    }
}
