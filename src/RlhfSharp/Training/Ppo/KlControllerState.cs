namespace RlhfSharp.Training.Ppo;

/// <summary>
/// Everything a KL controller needs to resume exactly: its kind and current coefficient, and for the
/// adaptive one its target and horizon. Plain data, so a checkpoint can store it as JSON.
/// </summary>
/// <param name="Kind">"fixed" or "adaptive".</param>
/// <param name="Value">the current coefficient β.</param>
/// <param name="Target">adaptive: target KL per sequence (nats); null for fixed.</param>
/// <param name="Horizon">adaptive: horizon in episodes; null for fixed.</param>
public sealed record KlControllerState(string Kind, double Value, double? Target = null, double? Horizon = null);
