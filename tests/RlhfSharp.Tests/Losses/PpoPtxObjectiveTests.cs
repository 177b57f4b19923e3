using RlhfSharp.Training.Losses;
using TorchSharp;
using Xunit;
using static RlhfSharp.Tests.Losses.LossTestUtil;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Losses;

/// <summary>The PPO-ptx combination against a float64 reference written out term by term.</summary>
public class PpoPtxObjectiveTests
{
    const int B = 5, Tn = 6;                  // response batch
    const int PtxRows = 2, PtxLength = 3, Vocab = 7;
    const double VfCoef = 0.1, PtxCoef = 27.8, ClipRange = 0.2, ClipRangeValue = 0.2;

    // Inputs drawn once per test from fixed streams, so a failure reproduces.
    const int LogpStream = 80, OldLogpStream = 81, AdvantageStream = 82, ValueStream = 83, OldValueStream = 84,
              ReturnStream = 85, PtxLogitStream = 86, PtxTargetStream = 87;

    [Fact]
    public void LossIsPgPlusVfCoefTimesVPlusPtxCoefTimesPtxInFloat64()
    {
        using var scope = torch.NewDisposeScope();
        var logp = Rand(LogpStream, B * Tn, 0.5);
        var oldLogp = Rand(OldLogpStream, B * Tn, 0.5);
        var advantages = Rand(AdvantageStream, B * Tn, 2.0);
        var values = Rand(ValueStream, B * Tn, 1.0);
        var oldValues = Rand(OldValueStream, B * Tn, 1.0);
        var returns = Rand(ReturnStream, B * Tn, 1.5);
        var ptxLogits = Rand(PtxLogitStream, PtxRows * PtxLength * Vocab, 3.0);
        var ptxTargets = RandIds(PtxTargetStream, PtxRows * PtxLength, Vocab);
        var mask = Mask(MixedMask, out var counted);
        double tokens = counted.Sum();

        // pg_loss and v_loss: the clipped surrogate and the clipped value loss, token by token.
        double pgLoss = 0, vLoss = 0;
        var valueGrad = new double[B * Tn];
        for (int i = 0; i < B * Tn; i++)
        {
            if (counted[i] == 0) continue;
            double ratio = Math.Exp(logp[i] - oldLogp[i]);
            pgLoss += Math.Max(-advantages[i] * ratio, -advantages[i] * Math.Clamp(ratio, 1 - ClipRange, 1 + ClipRange));
            double clippedValue = oldValues[i] + Math.Clamp(values[i] - oldValues[i], -ClipRangeValue, ClipRangeValue);
            double error = (values[i] - returns[i]) * (values[i] - returns[i]);
            double clippedError = (clippedValue - returns[i]) * (clippedValue - returns[i]);
            vLoss += Math.Max(error, clippedError);
            bool unclippedBranch = error >= clippedError || Math.Abs(values[i] - oldValues[i]) < ClipRangeValue;
            valueGrad[i] = unclippedBranch ? VfCoef * (values[i] - returns[i]) / tokens : 0;
        }
        pgLoss /= tokens;
        vLoss = 0.5 * vLoss / tokens;

        // ptx_loss: mean next-token NLL over every pretraining position; its gradient is γ (softmax - onehot) / count.
        double ptxLoss = 0;
        var ptxGrad = new double[ptxLogits.Length];
        int positions = PtxRows * PtxLength;
        for (int position = 0; position < positions; position++)
        {
            var logSoftmax = LogSoftmax(ptxLogits, position * Vocab, Vocab);
            ptxLoss -= logSoftmax[ptxTargets[position]];
            for (int token = 0; token < Vocab; token++)
                ptxGrad[position * Vocab + token] =
                    PtxCoef * (Math.Exp(logSoftmax[token]) - (token == ptxTargets[position] ? 1 : 0)) / positions;
        }
        ptxLoss /= positions;

        long[] shape = [B, Tn];
        var valueTensor = T(values, shape, ScalarType.Float64).requires_grad_(true);
        var ptxLogitTensor = T(ptxLogits, [PtxRows, PtxLength, Vocab], ScalarType.Float64).requires_grad_(true);
        using var output = PpoPtxObjective.Loss(
            T(logp, shape, ScalarType.Float64), T(oldLogp, shape, ScalarType.Float64), T(advantages, shape, ScalarType.Float64),
            valueTensor, T(oldValues, shape, ScalarType.Float64), T(returns, shape, ScalarType.Float64), mask.to_type(ScalarType.Float64),
            ptxLogitTensor, Ids(ptxTargets, [PtxRows, PtxLength]), VfCoef, PtxCoef, ClipRange, ClipRangeValue);

        Assert.Equal(ScalarType.Float64, output.Loss.dtype);
        Close(pgLoss, S(output.PgLoss), 1e-12, "pg_loss");
        Close(vLoss, S(output.VLoss), 1e-12, "v_loss");
        Close(ptxLoss, S(output.PtxLoss), 1e-12, "ptx_loss");
        Close(pgLoss + VfCoef * vLoss + PtxCoef * ptxLoss, S(output.Loss), 1e-12, "loss");

        output.Loss.backward();
        Close(valueGrad, D(valueTensor.grad!), 1e-12, "d loss / d V = vf_coef * d v_loss / d V");
        Close(ptxGrad, D(ptxLogitTensor.grad!), 1e-12, "d loss / d ptx logits = ptx_coef * d ptx_loss / d logits");
    }

    [Fact]
    public void WithoutAPretrainingBatchThePtxTermIsZero()
    {
        using var scope = torch.NewDisposeScope();
        long[] shape = [B, Tn];
        var mask = Mask(MixedMask, out _).to_type(ScalarType.Float64);
        Tensor Input(int stream) => T(Rand(stream, B * Tn), shape, ScalarType.Float64);
        using var output = PpoPtxObjective.Loss(Input(LogpStream), Input(OldLogpStream), Input(AdvantageStream),
            Input(ValueStream), Input(OldValueStream), Input(ReturnStream), mask, null, null, VfCoef, PtxCoef);
        Assert.Equal(0.0, S(output.PtxLoss));
        Close(S(output.PgLoss) + VfCoef * S(output.VLoss), S(output.Loss), 1e-15, "loss = pg_loss + vf_coef * v_loss");
    }
}
