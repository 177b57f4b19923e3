namespace RlhfSharp.Tests.Labeling;

/// <summary>
/// Finds the Chromium the browser test drives: <see cref="Variable"/> if set, else the first of the usual names on PATH
/// (Debian's <c>chromium</c>, Ubuntu's <c>chromium-browser</c>, <c>google-chrome</c>). <c>./test.sh</c> installs
/// Debian's when none is found; Playwright's own download (<c>playwright install</c>) is never used.
/// </summary>
public static class Chromium
{
    public const string Variable = "RLHF_CHROMIUM";
    static readonly string[] Names = ["chromium", "chromium-browser", "google-chrome"];

    public static string Find() =>
        Find(Environment.GetEnvironmentVariable(Variable), Environment.GetEnvironmentVariable("PATH") ?? "")
        ?? throw new InvalidOperationException(
            $"no Chromium found: set {Variable} to its executable, put one of {string.Join(", ", Names)} on PATH, or run ./test.sh, which installs Debian's chromium");

    /// <summary>The executable named by <paramref name="variable"/> if it exists, else the first name found on <paramref name="path"/>.</summary>
    public static string? Find(string? variable, string path)
    {
        if (!string.IsNullOrWhiteSpace(variable))
            return File.Exists(variable) ? variable
                : throw new InvalidOperationException($"{Variable}={variable}: no such file");
        var folders = path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        return Names.SelectMany(name => folders.Select(folder => Path.Combine(folder, name))).FirstOrDefault(IsExecutable);
    }

    static bool IsExecutable(string file) =>
        File.Exists(file) && (OperatingSystem.IsWindows() || (File.GetUnixFileMode(file) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0);
}
