using System.Diagnostics;
using System.Text;

namespace RlhfSharp.Tests.Distributed;

/// <summary>
/// Starts a .NET program from the test's output folder (the MPI worker, or rlhf.dll) in one process or under
/// <c>mpirun -np N</c>, as a user would. mpirun must be on PATH (./test.sh installs Open MPI when it is missing); if it
/// is not, the test fails with a message that says how to get it.
/// </summary>
public static class MpiRun
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr, double Seconds)
    {
        public string All => Stdout + Stderr;
    }

    /// <summary>The mpirun executable; fails with the fix when there is none.</summary>
    public static string Mpirun { get; } = Find();

    static string Find()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
            if (File.Exists(Path.Combine(dir, "mpirun"))) return Path.Combine(dir, "mpirun");
        throw new InvalidOperationException("mpirun not found on PATH: the MPI tests need Open MPI 4 " +
            "(run ./test.sh, which installs it, or apt-get install openmpi-bin libopenmpi-dev)");
    }

    static string Dotnet => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h ? h : "dotnet";

    /// <summary>The start info of <paramref name="dll"/> (a file name in the test's output folder) with
    /// <paramref name="args"/>: under mpirun when <paramref name="ranks"/> is given, else directly.</summary>
    public static ProcessStartInfo StartInfo(int? ranks, string dll, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var path = Path.Combine(AppContext.BaseDirectory, dll);
        if (!File.Exists(path)) throw new InvalidOperationException($"{path} not found: the test project must reference its project");
        var psi = new ProcessStartInfo(ranks is null ? Dotnet : Mpirun) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (ranks is { } n)
        {
            // --bind-to none: the ranks share the machine with the rest of the suite; --oversubscribe: more ranks than
            // cores is allowed. Root is allowed too (CI containers).
            foreach (var a in new[] { "--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "-np", n.ToString(), Dotnet }) psi.ArgumentList.Add(a);
        }
        psi.ArgumentList.Add(path);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["OMP_NUM_THREADS"] = "1";
        psi.Environment.Remove("RLHF_LIBTORCH_DIR");
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) psi.Environment[name] = value;
        return psi;
    }

    /// <summary>Runs to the end (at most <paramref name="timeoutSeconds"/>, then kills and fails).</summary>
    public static Result Run(int? ranks, string dll, params string[] args) => Run(ranks, dll, args, 300);

    public static Result Run(int? ranks, string dll, string[] args, int timeoutSeconds)
    {
        var clock = Stopwatch.StartNew();
        using var p = Process.Start(StartInfo(ranks, dll, args))!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEndAsync();
        if (!p.WaitForExit(timeoutSeconds * 1000))
        {
            p.Kill(true);
            throw new TimeoutException($"{(ranks is null ? "" : $"mpirun -np {ranks} ")}{dll} {string.Join(' ', args)} did not end in {timeoutSeconds} s");
        }
        p.WaitForExit();
        return new Result(p.ExitCode, stdout.Result, stderr.Result, clock.Elapsed.TotalSeconds);
    }

    /// <summary>The pids of running processes whose environment holds every one of <paramref name="variables"/>
    /// (NAME=VALUE), read from /proc (Linux).</summary>
    public static List<int> ProcessesWithEnvironment(params string[] variables)
    {
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            string[] env;
            try { env = Encoding.UTF8.GetString(File.ReadAllBytes(Path.Combine(dir, "environ"))).Split('\0'); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { continue; }
            if (variables.All(env.Contains)) found.Add(pid);
        }
        return found;
    }
}
