using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace RlhfSharp.Models;

/// <summary>
/// Gradient checkpointing of one transformer block (Chen et al. 2016, "Training Deep Nets with Sublinear Memory Cost"):
/// the forward runs without recording the graph and keeps only the block's input; the backward runs the block again with
/// the graph on and back-propagates through that, as PyTorch's reentrant <c>torch.utils.checkpoint</c> does. Activation
/// memory per block drops from everything the block saves for backward to its [B,T,C] input, for one extra forward.
/// The CPU generator is restored for the recomputation, so dropout (LoRA's) draws the same mask both times; a CUDA
/// generator is not (TorchSharp 0.107 exposes no CUDA generator state), so on a GPU use lora_dropout 0 with it.
/// Parameters get their gradients from the nested backward; the block's input must require grad for the backward to
/// run at all, so an input that does not (frozen embeddings under LoRA) is made to.
/// </summary>
public sealed class BlockCheckpoint : SingleTensorFunction<BlockCheckpoint>
{
    /// <inheritdoc/>
    public override string Name => nameof(BlockCheckpoint);

    [ThreadStatic] static long _recomputations;

    /// <summary>Blocks recomputed in backward on this thread so far (diagnostics: shows that checkpointing ran).</summary>
    public static long Recomputations => _recomputations;

    /// <summary>
    /// y = block(x, captured) with the block recomputed in backward. <paramref name="captured"/> are the other tensors the
    /// block reads (masks, positions, rotary tables); they are kept alive (as aliases) until the backward has run.
    /// </summary>
    public static Tensor Run(Tensor x, Tensor?[] captured, Func<Tensor, Tensor?[], Tensor> block)
    {
        var kept = captured.Select(t => t?.alias().DetachFromDisposeScope()).ToArray();
        var input = x.requires_grad ? x : x.detach().requires_grad_(true);
        return apply(input, new Recompute(block, kept));
    }

    sealed class Recompute(Func<Tensor, Tensor?[], Tensor> block, Tensor?[] kept)
    {
        public Tensor Forward(Tensor x) => block(x, kept);
        public void Release() { foreach (var t in kept) t?.Dispose(); }
    }

    /// <inheritdoc/>
    public override Tensor forward(AutogradContext ctx, params object[] vars)
    {
        var x = (Tensor)vars[0];
        var recompute = (Recompute)vars[1];
        ctx.save_for_backward([x]);
        ctx.save_data("recompute", recompute);
        ctx.save_data("rng", get_rng_state().DetachFromDisposeScope());
        using var noGrad = no_grad();
        return recompute.Forward(x);
    }

    /// <inheritdoc/>
    public override List<Tensor> backward(AutogradContext ctx, Tensor gradOutput)
    {
        var recompute = (Recompute)ctx.get_data("recompute");
        using var rng = (Tensor)ctx.get_data("rng");
        using var scope = NewDisposeScope();
        var x = ctx.get_saved_variables()[0].detach().requires_grad_(true);
        var current = get_rng_state();
        set_rng_state(rng);                          // the same dropout draws as in the forward
        using (enable_grad())
        {
            var y = recompute.Forward(x);
            y.backward([gradOutput]);                // accumulates the block's parameter gradients
        }
        set_rng_state(current);
        recompute.Release();
        _recomputations++;
        return [x.grad!.MoveToOuterDisposeScope(), null!];   // one entry per argument of apply: x, then the recompute (no gradient)
    }
}
