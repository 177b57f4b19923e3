using RlhfSharp.Training.Losses;

namespace RlhfSharp.Training.Ppo;

/// <summary>The KL coefficient β of the PPO reward (<see cref="PpoObjectives.KlPenalizedRewards"/>).</summary>
public interface IKlController
{
    /// <summary>Current β.</summary>
    double Value { get; }

    /// <summary>Called once per PPO step (rollout batch) with the mean KL per sequence,
    /// <c>mean_b Σ_t KL_t</c> (lm-human-preferences <c>objective/kl</c>), and the number of episodes in it.</summary>
    void Update(double currentKl, long nSteps);

    /// <summary>The controller's state, for a checkpoint.</summary>
    KlControllerState GetState();

    /// <summary>Restores a state from <see cref="GetState"/>; throws on the wrong kind.</summary>
    void LoadState(KlControllerState state);
}
