namespace RlhfSharp.Training.Ppo;

/// <summary>
/// Constant β (lm-human-preferences <c>FixedKLController</c>, used when <c>adaptive_kl</c> is unset;
/// TRL <c>adap_kl_ctrl=False</c>). InstructGPT reports a fixed KL reward coefficient β = 0.02 for its
/// PPO models (Ouyang et al. 2022, appendix C); lm-human-preferences defaults <c>kl_coef</c> = 0.2.
/// </summary>
public sealed class FixedKlController(double klCoef = 0.2) : IKlController
{
    /// <summary><see cref="KlControllerState.Kind"/> of this controller.</summary>
    public const string Kind = "fixed";

    /// <inheritdoc/>
    public double Value { get; private set; } = klCoef;

    /// <inheritdoc/>
    /// <remarks>Does nothing: β stays fixed.</remarks>
    public void Update(double currentKl, long nSteps) { }

    /// <inheritdoc/>
    public KlControllerState GetState() => new(Kind, Value);

    /// <inheritdoc/>
    public void LoadState(KlControllerState state)
    {
        if (state.Kind != Kind) throw new ArgumentException($"KL controller state is '{state.Kind}', expected '{Kind}'.");
        Value = state.Value;
    }
}
