namespace RlhfSharp.Training.Ppo;

/// <summary>
/// Adaptive β, Ziegler et al. 2019 ("Fine-Tuning Language Models from Human Preferences") §2.2,
/// exactly as lm-human-preferences <c>AdaptiveKLController</c> and TRL's copy of it:
/// <code>
///   e_t     = clip(KL_t / KL_target - 1, -0.2, 0.2)
///   β_{t+1} = β_t · (1 + K_β · e_t),     K_β = nSteps / horizon
/// </code>
/// Defaults: initial β 0.2 (lm-human-preferences <c>RewardHParams.kl_coef</c>; TRL <c>init_kl_coef</c>),
/// target 6 nats (TRL <c>PPOConfig.target</c>; lm-human-preferences leaves it to the launcher),
/// horizon 10000 episodes (lm-human-preferences <c>AdaptiveKLParams.horizon</c>; TRL <c>horizon</c>).
/// Both references pass the rollout batch size (episodes) as <c>nSteps</c>.
/// </summary>
public sealed class AdaptiveKlController : IKlController
{
    /// <summary><see cref="KlControllerState.Kind"/> of this controller.</summary>
    public const string Kind = "adaptive";

    /// <summary>The proportional error is clipped to ±0.2 (Ziegler et al. 2019).</summary>
    public const double ErrorClip = 0.2;

    /// <summary>Target KL in nats (TRL <c>PPOConfig.target</c>).</summary>
    public const double DefaultTarget = 6.0;

    /// <summary>Horizon in episodes (lm-human-preferences <c>AdaptiveKLParams.horizon</c>).</summary>
    public const double DefaultHorizon = 10000;

    /// <summary>Starts at <paramref name="initBeta"/>; <paramref name="target"/> (nats per sequence) and <paramref name="horizon"/> (episodes) must be &gt; 0.</summary>
    public AdaptiveKlController(double initBeta = 0.2, double target = DefaultTarget, double horizon = DefaultHorizon)
    {
        if (!(target > 0)) throw new ArgumentOutOfRangeException(nameof(target), target, "KL target must be > 0.");
        if (!(horizon > 0)) throw new ArgumentOutOfRangeException(nameof(horizon), horizon, "KL horizon must be > 0.");
        Value = initBeta;
        Target = target;
        Horizon = horizon;
    }

    /// <inheritdoc/>
    public double Value { get; private set; }
    /// <summary>Target KL per sequence, in nats.</summary>
    public double Target { get; private set; }
    /// <summary>Horizon in episodes: how fast β moves (K_β = nSteps / horizon).</summary>
    public double Horizon { get; private set; }

    /// <inheritdoc/>
    public void Update(double currentKl, long nSteps)
    {
        double error = Math.Clamp(currentKl / Target - 1.0, -ErrorClip, ErrorClip);
        Value *= 1.0 + error * nSteps / Horizon;
    }

    /// <inheritdoc/>
    public KlControllerState GetState() => new(Kind, Value, Target, Horizon);

    /// <inheritdoc/>
    public void LoadState(KlControllerState state)
    {
        if (state.Kind != Kind) throw new ArgumentException($"KL controller state is '{state.Kind}', expected '{Kind}'.");
        if (state.Target is not double target || state.Horizon is not double horizon)
            throw new ArgumentException("Adaptive KL controller state needs Target and Horizon.");
        Value = state.Value;
        Target = target;
        Horizon = horizon;
    }

    /// <summary>Builds whichever controller a saved state describes.</summary>
    public static IKlController FromState(KlControllerState state)
    {
        IKlController controller = state.Kind switch
        {
            Kind => new AdaptiveKlController(state.Value, state.Target ?? DefaultTarget, state.Horizon ?? DefaultHorizon),
            FixedKlController.Kind => new FixedKlController(state.Value),
            _ => throw new ArgumentException($"Unknown KL controller kind '{state.Kind}' (expected 'fixed' or 'adaptive')."),
        };
        controller.LoadState(state);
        return controller;
    }
}
