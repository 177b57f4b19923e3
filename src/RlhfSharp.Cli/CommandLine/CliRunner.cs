using RlhfSharp.Configuration;
using RlhfSharp.Training.Core;

namespace RlhfSharp.Cli.CommandLine;

/// <summary>
/// Finds the command a command line names, parses its options strictly, runs it, and turns every exception into an
/// exit code: a user error is one line and exit 2 (a config key in it becomes the command's option name); a bug is one
/// line that says so, with the stack trace kept in a log file; cancellation (Ctrl+C) is exit 130.
/// </summary>
public sealed class CliRunner(CommandGroup root, TextWriter output, TextWriter errors)
{
    public const int UserErrorExit = 2, BugExit = 70, CancelledExit = 130;

    /// <param name="beforeRun">Runs once the command is known and parsed, before it executes (the CLI preloads an
    /// external libtorch there, which must happen before TorchSharp initialises).</param>
    public int Run(IReadOnlyList<string> args, CancellationToken cancellation = default, Action? beforeRun = null)
    {
        CliCommand? command = null;
        try
        {
            var (path, target, rest) = Resolve(args);
            bool help = rest.Any(a => a is "--help" or "-h");
            if (target is CommandGroup group)
            {
                var where = path.Length == 0 ? "rlhf" : $"rlhf {path}";
                if (rest.Count > 0 && !help) throw new UsageError($"{where}: '{rest[0]}' is not a command (see {where} --help)");
                (help ? output : errors).Write(HelpText.ForGroup(path, group));
                return help ? 0 : UserErrorExit;
            }
            command = (CliCommand)target;
            if (help)
            {
                output.Write(HelpText.ForCommand(path, command));
                return 0;
            }
            var parsed = ParsedArgs.Parse(path, rest, command.Options);
            beforeRun?.Invoke();
            return command.Execute(parsed, cancellation);
        }
        catch (Exception e) when (Unwrap(e) is OperationCanceledException)
        {
            errors.WriteLine("cancelled; the last checkpoint is kept (rerun with --resume to continue)");
            return CancelledExit;
        }
        catch (Exception e) when (IsUserError(Unwrap(e)))
        {
            errors.WriteLine($"error: {Describe(Unwrap(e), command)}");
            return UserErrorExit;
        }
        catch (Exception e)
        {
            var log = WriteCrashLog(args, e);
            var inner = Unwrap(e);
            errors.WriteLine($"rlhf: internal error (a bug, please report it): {inner.GetType().Name}: {inner.Message.Split('\n')[0]}; stack trace in {log}");
            return BugExit;
        }
    }

    (string Path, object Target, IReadOnlyList<string> Remaining) Resolve(IReadOnlyList<string> args)
    {
        object target = root;
        var path = new List<string>();
        int i = 0;
        while (target is CommandGroup group && i < args.Count && !args[i].StartsWith('-'))
        {
            if (!group.Children.TryGetValue(args[i], out var child))
            {
                var where = path.Count == 0 ? "rlhf" : "rlhf " + string.Join(' ', path);
                throw new UsageError($"{where}: unknown command '{args[i]}'{Suggestion.Hint(args[i], group.Children.Keys)} (see {where} --help)");
            }
            path.Add(args[i++]);
            target = child;
        }
        return (string.Join(' ', path), target, args.Skip(i).ToList());
    }

    static bool IsUserError(Exception e) =>
        e is UserError or FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException or PathTooLongException;

    /// <summary>The one line a user reads: config keys and resume advice in this command's terms.</summary>
    static string Describe(Exception e, CliCommand? command) => e switch
    {
        ConfigError config when command?.OptionFor(config.Key) is { } option => $"{option} {config.Problem}",
        ResumeError resume when command?.Options.Any(o => o.Name == "--resume") == true => resume.Mode == ResumeMode.Fresh
            ? $"{resume.Phase}: {resume.Output} already holds {resume.Phase} checkpoints; pass --resume to continue, or choose another --output"
            : $"--resume: {resume.CheckpointsDir} holds no complete checkpoint",
        _ => e.Message.Split('\n')[0],
    };

    static Exception Unwrap(Exception e)
    {
        while (e is System.Reflection.TargetInvocationException or TypeInitializationException or AggregateException && e.InnerException is not null)
            e = e.InnerException!;
        return e;
    }

    static string WriteCrashLog(IReadOnlyList<string> args, Exception e)
    {
        var path = Path.Combine(Path.GetTempPath(), $"rlhf-crash-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Environment.ProcessId}.log");
        try
        {
            File.WriteAllText(path, $"rlhf {string.Join(' ', args)}\n{DateTime.UtcNow:O}\n\n{e}\n");
            return path;
        }
        catch (IOException) { return "(the log could not be written: " + path + ")"; }
        catch (UnauthorizedAccessException) { return "(the log could not be written: " + path + ")"; }
    }
}
