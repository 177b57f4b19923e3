namespace RlhfSharp;

/// <summary>
/// An error the user can cause and fix (bad path, malformed line, wrong config key, shape mismatch).
/// The message is one line that names the file, line or key; the CLI prints it without a stack trace.
/// </summary>
public class UserError(string message, Exception? inner = null) : Exception(message, inner);
