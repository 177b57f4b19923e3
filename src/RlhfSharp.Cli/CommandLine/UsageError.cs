namespace RlhfSharp.Cli.CommandLine;

/// <summary>A command line that does not parse (unknown option, missing value, stray argument): exit code 2.</summary>
public sealed class UsageError(string message) : UserError(message);
