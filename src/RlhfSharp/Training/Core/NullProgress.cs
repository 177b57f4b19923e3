namespace RlhfSharp.Training.Core;

/// <summary>Progress that goes nowhere: the default when a caller passes none.</summary>
public sealed class NullProgress : ITrainingProgress
{
    /// <summary>The shared instance.</summary>
    public static readonly NullProgress Instance = new();
    /// <inheritdoc/>
    public void Report(ProgressUpdate update) { }
    /// <inheritdoc/>
    public void Message(string text) { }
}
