namespace RlhfSharp.Labeling;

public enum SubmitOutcome { Created, UnknownTask, Duplicate, TaskFull }
