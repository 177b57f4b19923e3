using System.Diagnostics;

namespace RlhfSharp.Tests.Cli;

/// <summary>
/// Runs the `rlhf` CLI as a user does: `dotnet rlhf.dll ...` from the test's output folder (the test project
/// references the CLI, so its build output sits there). A separate process keeps stdout, stderr and the exit code
/// exactly as a user sees them, and keeps Console redirection away from tests running in parallel.
/// </summary>
public static class RlhfProcess
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static Result Run(params string[] args) => RunWithEnvironment(new Dictionary<string, string>(), args);

    /// <summary>The same with extra environment variables set for the child (RLHF_LIBTORCH_DIR among them, if given).</summary>
    public static Result RunWithEnvironment(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "rlhf.dll");
        if (!File.Exists(dll)) throw new InvalidOperationException($"{dll} not found: the test project must reference RlhfSharp.Cli");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment.Remove("RLHF_LIBTORCH_DIR");
        foreach (var (name, value) in environment) psi.Environment[name] = value;
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(120_000)) { p.Kill(true); throw new TimeoutException("rlhf " + string.Join(' ', args)); }
        return new Result(p.ExitCode, stdout, stderr.Result);
    }
}
