namespace RlhfSharp.Training.Core;

/// <summary>The shape of the learning rate after warmup (<see cref="LrSchedule"/>).</summary>
public enum LrScheduleKind
{
    /// <summary>The peak learning rate for the rest of the run.</summary>
    Constant,
    /// <summary>Cosine decay to <c>MinLrRatio</c> of the peak at the last step (nanoGPT, InstructGPT App. C).</summary>
    Cosine,
}

/// <summary>
/// Learning rate as a pure function of the 0-based optimizer step, so resuming needs only the step.
///
/// <see cref="LrScheduleKind.Cosine"/>: linear warmup, then cosine decay from <see cref="MaxLr"/> to
/// <c>MinLrRatio * MaxLr</c> at <see cref="TotalSteps"/>, flat afterwards. This is nanoGPT's
/// <c>get_lr</c> (warmup <c>lr * (it+1) / (warmup+1)</c>, floor lr/10 "per Chinchilla"); InstructGPT
/// (Ouyang et al. 2022, App. C) likewise decays SFT and reward-model learning rates with a cosine schedule
/// to 10% of the initial value. Hence the default <see cref="MinLrRatio"/> of 0.1.
/// <see cref="LrScheduleKind.Constant"/>: the same warmup, then <see cref="MaxLr"/>.
/// </summary>
public sealed record LrSchedule(double MaxLr, long WarmupSteps = 0, long TotalSteps = 0,
    double MinLrRatio = 0.1, LrScheduleKind Kind = LrScheduleKind.Cosine)
{
    /// <summary>Warmup to <paramref name="lr"/>, then constant.</summary>
    public static LrSchedule Constant(double lr, long warmupSteps = 0) => new(lr, warmupSteps, 0, 1.0, LrScheduleKind.Constant);

    /// <summary>Warmup to <paramref name="maxLr"/>, then cosine decay to <paramref name="minLrRatio"/> * maxLr at <paramref name="totalSteps"/>.</summary>
    public static LrSchedule Cosine(double maxLr, long warmupSteps, long totalSteps, double minLrRatio = 0.1) =>
        new(maxLr, warmupSteps, totalSteps, minLrRatio, LrScheduleKind.Cosine);

    /// <summary>Throws a <see cref="UserError"/> for a bad lr, warmup or ratio, or a cosine run no longer than its warmup.</summary>
    public void Validate()
    {
        if (!(MaxLr >= 0) || double.IsInfinity(MaxLr)) throw new UserError($"lr schedule: lr must be finite and >= 0, got {MaxLr}");
        if (WarmupSteps < 0) throw new UserError($"lr schedule: warmup steps must be >= 0, got {WarmupSteps}");
        if (!(MinLrRatio >= 0 && MinLrRatio <= 1)) throw new UserError($"lr schedule: min lr ratio must be in [0, 1], got {MinLrRatio}");
        if (Kind == LrScheduleKind.Cosine && TotalSteps <= WarmupSteps)
            throw new UserError($"lr schedule: cosine needs total steps ({TotalSteps}) > warmup steps ({WarmupSteps})");
    }

    /// <summary>Learning rate for 0-based step <paramref name="step"/>.</summary>
    public double At(long step)
    {
        if (step < WarmupSteps) return MaxLr * (step + 1) / (WarmupSteps + 1);
        if (Kind == LrScheduleKind.Constant) return MaxLr;
        double minLr = MaxLr * MinLrRatio;
        if (step >= TotalSteps) return minLr;
        double progress = (double)(step - WarmupSteps) / (TotalSteps - WarmupSteps);
        return minLr + 0.5 * (1 + Math.Cos(Math.PI * progress)) * (MaxLr - minLr);
    }
}
