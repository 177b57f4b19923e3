using System.Diagnostics;
using System.Text;

namespace RlhfSharp.Tests.Packaging;

/// <summary>
/// Runs `dotnet ...` (or an installed tool) as a child process the way a user's shell would, and keeps its output
/// for the failure message. MSBuild variables inherited from `dotnet test` are dropped (the child is a fresh build,
/// not part of this one), MSBuild's worker nodes exit with the build (no node reuse), and the output is read without
/// waiting for grandchildren that may still hold the pipes (a compiler server) once the process itself has exited.
/// </summary>
public static class DotnetCommand
{
    public sealed record Result(string Command, int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed)
    {
        /// <summary>The command, its exit code and the last lines of its output: what a failing assertion should show.</summary>
        public string Describe(int lastLines = 80)
        {
            var tail = (Stdout + "\n" + Stderr).Split('\n').Where(l => l.Trim().Length > 0).TakeLast(lastLines);
            return $"`{Command}` exited {ExitCode} after {Elapsed.TotalSeconds:F0} s; last output:\n{string.Join('\n', tail)}";
        }
    }

    public static string DotnetHost =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h && File.Exists(h) ? h : "dotnet";

    public static Result Dotnet(string workingDirectory, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment,
        params string[] args) => Run(DotnetHost, workingDirectory, timeout, environment, args);

    public static Result Run(string fileName, string workingDirectory, TimeSpan timeout,
        IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var psi = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var name in psi.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)
                                                          || k.StartsWith("_MSBuild", StringComparison.OrdinalIgnoreCase)).ToList())
            psi.Environment.Remove(name);
        psi.Environment.Remove("RLHF_LIBTORCH_DIR");
        psi.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        psi.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) psi.Environment[name] = value;

        var command = Path.GetFileName(fileName) + " " + string.Join(' ', args.Select(a => a.Contains(' ') ? $"\"{a}\"" : a));
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        var clock = Stopwatch.StartNew();
        using var p = new Process { StartInfo = psi };
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.Append(e.Data).Append('\n'); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.Append(e.Data).Append('\n'); };
        p.Start();
        p.StandardInput.Close();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        if (!p.WaitForExit(timeout))
        {
            try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            p.WaitForExit(TimeSpan.FromSeconds(10));
            var partial = new Result(command, -1, Snapshot(stdout), Snapshot(stderr), clock.Elapsed);
            throw new TimeoutException($"timed out after {timeout.TotalSeconds:F0} s: " + partial.Describe());
        }
        // The process has exited; give the readers a moment to reach the end of the pipes, without waiting on
        // grandchildren (a compiler server) that inherited them.
        try { p.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(5)).Token).GetAwaiter().GetResult(); }
        catch (OperationCanceledException) { }
        return new Result(command, p.ExitCode, Snapshot(stdout), Snapshot(stderr), clock.Elapsed);
    }

    static string Snapshot(StringBuilder sb) { lock (sb) return sb.ToString(); }
}
