namespace RlhfSharp.Training.Core;

/// <summary>Progress that goes nowhere: the default when a caller passes none.</summary>
public sealed class NullProgress : ITrainingProgress
{
    public static readonly NullProgress Instance = new();
    public void Report(ProgressUpdate update) { }
    public void Message(string text) { }
}
