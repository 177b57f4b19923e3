namespace RlhfSharp.Training.Ppo;

/// <summary>
/// Everything a KL controller needs to resume exactly: its kind and current coefficient, and for the
/// adaptive one its target and horizon. Plain data, so a checkpoint can store it as JSON.
/// </summary>
/// <param name="Kind">"fixed" or "adaptive".</param>
public sealed record KlControllerState(string Kind, double Value, double? Target = null, double? Horizon = null);
