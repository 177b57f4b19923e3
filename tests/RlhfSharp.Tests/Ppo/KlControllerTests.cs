using RlhfSharp.Training.Ppo;
using Xunit;
using static RlhfSharp.Tests.Losses.LossTestUtil;

namespace RlhfSharp.Tests.Ppo;

public class KlControllerTests
{
    [Fact]
    public void AdaptiveFollowsZieglerFormulaOverSeveralUpdates()
    {
        var c = new AdaptiveKlController(initBeta: 0.2, target: 6.0, horizon: 10000);
        double beta = 0.2;
        // Below target, far above (error clipped to +0.2), far below (clipped to -0.2), on target.
        foreach (var (kl, n) in new[] { (3.0, 64L), (60.0, 64L), (0.0, 512L), (6.0, 64L), (6.9, 256L) })
        {
            c.Update(kl, n);
            double e = Math.Min(0.2, Math.Max(-0.2, kl / 6.0 - 1));
            beta *= 1 + e * n / 10000.0;
            Close(beta, c.Value, 1e-15, $"beta after kl={kl}");
        }
        Assert.NotEqual(0.2, c.Value);
        // Spot values: KL 60 is clipped to +0.2, so one update with n = horizon multiplies by 1.2.
        var d = new AdaptiveKlController(0.1, 6, 100);
        d.Update(60, 100);
        Close(0.12, d.Value, 1e-15, "clip +0.2");
        d.Update(0, 100);
        Close(0.12 * 0.8, d.Value, 1e-15, "clip -0.2");
    }

    [Fact]
    public void DefaultsAreTheCitedOnes()
    {
        var c = new AdaptiveKlController();
        Assert.Equal(new KlControllerState("adaptive", 0.2, 6.0, 10000), c.GetState());
        Assert.Equal(0.2, new FixedKlController().Value);
    }

    [Fact]
    public void StateRoundTripResumesExactly()
    {
        var a = new AdaptiveKlController(0.05, 4, 5000);
        a.Update(7, 128);
        a.Update(1, 128);
        var resumed = AdaptiveKlController.FromState(a.GetState());
        foreach (var kl in new[] { 5.0, 2.0, 9.0 }) { a.Update(kl, 64); resumed.Update(kl, 64); }
        Assert.Equal(a.Value, resumed.Value);
        Assert.IsType<AdaptiveKlController>(resumed);

        var f = AdaptiveKlController.FromState(new FixedKlController(0.02).GetState());
        f.Update(100, 64);
        Assert.Equal(0.02, f.Value);
        Assert.Throws<ArgumentException>(() => new FixedKlController().LoadState(a.GetState()));
    }
}
