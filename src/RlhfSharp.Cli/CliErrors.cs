using RlhfSharp;
using Spectre.Console.Cli;

namespace RlhfSharp.Cli;

/// <summary>Turns errors a user can cause into one line on stderr and exit code 2; anything else is a bug and keeps its stack trace.</summary>
public static class CliErrors
{
    public static int Run(Func<int> body)
    {
        try { return body(); }
        catch (Exception e) when (Unwrap(e) is UserError or CommandParseException or CommandRuntimeException or FileNotFoundException or DirectoryNotFoundException)
        {
            Console.Error.WriteLine($"error: {Unwrap(e).Message}");
            return 2;
        }
    }

    static Exception Unwrap(Exception e)
    {
        while (e is System.Reflection.TargetInvocationException or TypeInitializationException or AggregateException && e.InnerException is not null)
            e = e.InnerException!;
        return e;
    }
}
