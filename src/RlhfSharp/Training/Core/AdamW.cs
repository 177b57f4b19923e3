using System.Runtime.InteropServices;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Core;

/// <summary>
/// AdamW (Loshchilov &amp; Hutter 2019, decoupled weight decay) over flat, contiguous buffers.
///
/// TorchSharp's <c>optim.AdamW</c> launches about ten kernels per parameter tensor, which costs more than
/// the backward pass on small and medium models (DESIGN.md, benchmark). Here every parameter's storage is
/// re-pointed (<c>set_</c>) into one flat buffer per dtype/device, and every gradient is a view into a flat
/// gradient buffer that autograd accumulates into in place; one step is then nine whole-buffer kernels
/// per bucket, whatever the number of parameter tensors.
///
/// Param groups follow nanoGPT's <c>configure_optimizers</c>: tensors with dim &gt;= 2 (matrices,
/// embeddings) decay, biases and norm weights (dim &lt; 2) do not. Decaying tensors come first in each
/// buffer, so decay is one kernel on a prefix.
///
/// Semantics equal PyTorch AdamW with <c>zero_grad(set_to_none=False)</c>: a parameter that got no
/// gradient this step is updated with a zero gradient. If something replaces a parameter or a gradient
/// tensor (<c>module.zero_grad()</c>, <c>load_state_dict</c> into new tensors, <c>create_graph</c>), the
/// next step notices and copies it back into the buffers, so results stay correct, only slower.
/// Moments have the parameter's dtype, as in PyTorch, unless <see cref="AdamWOptions.MasterWeights"/> asks for float32
/// master weights and moments for half-precision parameters (mixed precision).
/// </summary>
public sealed partial class AdamW : IDisposable
{
    sealed class Slot(string name, Parameter param, Bucket bucket, long offset, bool decay)
    {
        public readonly string Name = name;
        public Parameter Param = param;
        public readonly Bucket Bucket = bucket;
        public readonly long Offset = offset;
        public readonly long Numel = param.numel();
        public readonly long[] Shape = param.shape;
        public readonly bool Decay = decay;
        public Tensor ParamView = null!, GradView = null!;
    }

    sealed class Bucket(ScalarType dtype, Device device)
    {
        public readonly ScalarType Dtype = dtype;
        public readonly Device Device = device;
        public readonly List<Slot> Slots = [];
        public long Numel, DecayNumel;
        public Tensor Params = null!, Grads = null!, ExpAvg = null!, ExpAvgSq = null!, Scratch = null!;
        // Mixed precision only: float32 master weights [Numel] and a float32 copy of the gradients; null otherwise.
        public Tensor? Master, WideGrads;
        public IntPtr ParamsPtr, GradsPtr;
    }

    readonly List<Bucket> _buckets = [];
    readonly List<Slot> _slots = [];
    bool _disposed;

    /// <summary>The validated hyper-parameters this optimizer was built with.</summary>
    public AdamWOptions Options { get; }

    /// <summary>Learning rate used by the next <see cref="Step"/>; set it from a schedule each step.</summary>
    public double Lr { get; set; }

    /// <summary>Number of updates done (PyTorch's <c>state["step"]</c>); drives bias correction.</summary>
    public long StepCount { get; private set; }

    /// <summary>Parameter names in buffer order, with their weight-decay group.</summary>
    public IReadOnlyList<(string Name, bool Decay)> Parameters => _slots.Select(s => (s.Name, s.Decay)).ToList();

    /// <summary>Number of scalar parameters it updates (trainable, tied ones counted once).</summary>
    public long ParameterCount => _buckets.Sum(b => b.Numel);

    /// <summary>nanoGPT's rule: weight decay for tensors with dim &gt;= 2, none for biases and norm gains.</summary>
    public static bool DefaultDecayRule(string name, Parameter parameter) => parameter.dim() >= 2;

    /// <summary>All trainable parameters of <paramref name="module"/> (frozen ones are skipped).</summary>
    public AdamW(nn.Module module, AdamWOptions? options = null, Func<string, Parameter, bool>? decay = null)
        : this(module.named_parameters().Select(kv => (kv.name, kv.parameter)), options, decay) { }

    /// <summary>Builds the flat buffers for the trainable parameters among <paramref name="parameters"/> (tied ones once, frozen ones skipped).</summary>
    /// <param name="parameters">named parameters, e.g. <c>module.named_parameters()</c>.</param>
    /// <param name="options">hyper-parameters; PyTorch's defaults when null.</param>
    /// <param name="decay">which parameters get weight decay; <see cref="DefaultDecayRule"/> when null.</param>
    public AdamW(IEnumerable<(string Name, Parameter Param)> parameters, AdamWOptions? options = null,
        Func<string, Parameter, bool>? decay = null)
    {
        Options = options ?? new AdamWOptions();
        Options.Validate();
        Lr = Options.Lr;
        decay ??= DefaultDecayRule;

        // Tied weights appear once; frozen parameters get no state at all.
        var seen = new HashSet<Parameter>(ReferenceEqualityComparer.Instance);
        var chosen = parameters.Where(np => np.Param.requires_grad && seen.Add(np.Param)).ToList();
        if (chosen.Count == 0) throw new UserError("optimizer: the model has no trainable parameters");

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        foreach (var group in chosen.GroupBy(np => (np.Param.dtype, np.Param.device.ToString())))
        {
            var bucket = new Bucket(group.Key.dtype, group.First().Param.device);
            // Decay group first so weight decay is one kernel on a prefix of the buffer.
            var ordered = group.Select(np => (np.Name, np.Param, Decay: decay(np.Name, np.Param)))
                               .OrderByDescending(x => x.Decay).ToList();
            foreach (var (name, p, d) in ordered)
            {
                var slot = new Slot(name, p, bucket, bucket.Numel, d);
                bucket.Slots.Add(slot);
                _slots.Add(slot);
                bucket.Numel += slot.Numel;
                if (d) bucket.DecayNumel += slot.Numel;
            }
            Allocate(bucket, Options.MasterWeights && IsHalf(bucket.Dtype));
            _buckets.Add(bucket);
        }
    }

    static bool IsHalf(ScalarType t) => t is ScalarType.BFloat16 or ScalarType.Float16;

    void Allocate(Bucket bucket, bool master)
    {
        Tensor Flat(ScalarType dtype) => zeros(bucket.Numel, dtype: dtype, device: bucket.Device).DetachFromDisposeScope();
        var state = master ? ScalarType.Float32 : bucket.Dtype;   // the dtype of the update's arithmetic
        bucket.Params = Flat(bucket.Dtype); bucket.Grads = Flat(bucket.Dtype);
        bucket.ExpAvg = Flat(state); bucket.ExpAvgSq = Flat(state); bucket.Scratch = Flat(state);
        if (master) { bucket.Master = Flat(ScalarType.Float32); bucket.WideGrads = Flat(ScalarType.Float32); }
        bucket.ParamsPtr = StoragePtr(bucket.Params);
        bucket.GradsPtr = StoragePtr(bucket.Grads);
        foreach (var s in bucket.Slots)
        {
            s.ParamView = bucket.Params.narrow(0, s.Offset, s.Numel).view(s.Shape).DetachFromDisposeScope();
            s.GradView = bucket.Grads.narrow(0, s.Offset, s.Numel).view(s.Shape).DetachFromDisposeScope();
            AdoptParam(s);
            s.Param.grad = s.GradView;
        }
    }

    // The master copy starts from the parameter's values (exact: every half value is a float32 value).
    static void RefreshMaster(Slot s) => s.Bucket.Master?.narrow(0, s.Offset, s.Numel).copy_(s.Bucket.Params.narrow(0, s.Offset, s.Numel));

    // Copies the parameter's current values into its slice, then makes the parameter a view of that slice.
    static void AdoptParam(Slot slot)
    {
        slot.ParamView.copy_(slot.Param);
        slot.Param.set_(slot.ParamView);
        RefreshMaster(slot);
    }

    /// <summary>Zeroes all gradients (one kernel per bucket) and re-attaches the gradient views.</summary>
    public void ZeroGrad()
    {
        ThrowIfDisposed();
        using var noGrad = no_grad();
        foreach (var b in _buckets) b.Grads.zero_();
        foreach (var s in _slots) s.Param.grad = s.GradView;
    }

    /// <summary>
    /// Makes sure parameters live in the flat buffers and gradients are in the flat gradient buffers.
    /// Cheap when nothing was replaced: a few pointer reads per tensor, no kernels.
    /// </summary>
    void Sync()
    {
        foreach (var s in _slots)
        {
            if (!IsViewOf(s.Param, s.Bucket.ParamsPtr, s.Offset))
            {
                if (!s.Param.shape.SequenceEqual(s.Shape) || s.Param.dtype != s.Bucket.Dtype || s.Param.device.ToString() != s.Bucket.Device.ToString())
                    throw new InvalidOperationException($"optimizer: parameter '{s.Name}' changed shape, dtype or device after the optimizer was created; create the optimizer after moving the model");
                AdoptParam(s);
            }
            using var g = s.Param.grad;
            if (g is null) s.GradView.zero_();
            else if (!IsViewOf(g, s.Bucket.GradsPtr, s.Offset)) s.GradView.copy_(g);
            else continue;
            s.Param.grad = s.GradView;
        }
    }

    /// <summary>One AdamW update with the current <see cref="Lr"/>.</summary>
    public void Step()
    {
        ThrowIfDisposed();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Sync();
        StepCount++;
        var (lr, b1, b2, eps, wd) = (Lr, Options.Beta1, Options.Beta2, Options.Eps, Options.WeightDecay);
        double bc1 = 1 - Math.Pow(b1, StepCount);
        double bc2Sqrt = Math.Sqrt(1 - Math.Pow(b2, StepCount));
        foreach (var b in _buckets)
        {
            // Mixed precision: the update runs on the float32 master copy with float32 gradients, then rounds into the weights.
            var param = b.Master ?? b.Params;
            var grad = b.WideGrads?.copy_(b.Grads) ?? b.Grads;
            if (wd != 0 && b.DecayNumel > 0) param.narrow(0, 0, b.DecayNumel).mul_(1 - lr * wd);
            b.ExpAvg.mul_(b1).add_(grad, alpha: 1 - b1);
            b.ExpAvgSq.mul_(b2).addcmul_(grad, grad, value: 1 - b2);
            // m_hat / (sqrt(v_hat) + eps) = (sqrt(bc2)/bc1) * m / (sqrt(v) + eps*sqrt(bc2)): one kernel fewer
            // than dividing sqrt(v) by sqrt(bc2); equal up to rounding.
            b.Scratch.copy_(b.ExpAvgSq).sqrt_().add_(eps * bc2Sqrt);
            param.addcdiv_(b.ExpAvg, b.Scratch, value: -lr * bc2Sqrt / bc1);
            if (b.Master is not null) b.Params.copy_(b.Master);
        }
    }

    /// <summary>
    /// Scales all gradients so their global L2 norm is at most <paramref name="maxNorm"/>, as
    /// <c>torch.nn.utils.clip_grad_norm_</c> does (coefficient max/(norm+1e-6) clamped to 1, no host sync).
    /// Returns the pre-clip norm as a scalar tensor on the first bucket's device (float32 for half types).
    /// </summary>
    public Tensor ClipGradNorm(double maxNorm)
    {
        ThrowIfDisposed();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Sync();
        var dev = _buckets[0].Device;
        static Tensor Wide(Tensor g) => g.dtype is ScalarType.BFloat16 or ScalarType.Float16 ? g.to(ScalarType.Float32) : g;
        var total = _buckets.Count == 1
            ? Wide(_buckets[0].Grads).norm(2.0f)
            : stack(_buckets.Select(b => Wide(b.Grads).norm(2.0f).to(ScalarType.Float32).to(dev)).ToArray()).norm(2.0f);
        if (maxNorm > 0 && !double.IsPositiveInfinity(maxNorm))
        {
            var coef = (maxNorm / (total + 1e-6)).clamp_max(1.0);
            foreach (var b in _buckets) b.Grads.mul_(coef.to(b.Dtype, b.Device));
        }
        return total.MoveToOuterDisposeScope();
    }

    /// <summary>The flat gradient buffer of one bucket (a model in one dtype on one device has one); for diagnostics.</summary>
    public Tensor FlatGrad(int bucket = 0) { Sync(); return _buckets[bucket].Grads; }

    /// <summary>The float32 master weights of one bucket under mixed precision, or null; for diagnostics.</summary>
    public Tensor? FlatMaster(int bucket = 0) => _buckets[bucket].Master;

    static bool IsViewOf(Tensor t, IntPtr storage, long offset) =>
        t.storage_offset() == offset && StoragePtr(t) == storage;

    static IntPtr StoragePtr(Tensor t) => THSStorage_data_ptr(t.Handle);

    // TorchSharp exposes the storage pointer only through a typed Storage<T>; the native export is the
    // same for every dtype (bf16 included), so call it directly.
    [DllImport("LibTorchSharp")]
    static extern IntPtr THSStorage_data_ptr(IntPtr tensor);

    void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    /// <summary>Frees the flat buffers and views (the parameters keep their storage).</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var s in _slots) { s.ParamView.Dispose(); s.GradView.Dispose(); }
        foreach (var b in _buckets)
        {
            // Parameters keep their (shared) storage alive; only our handles go.
            b.Params.Dispose(); b.Grads.Dispose(); b.ExpAvg.Dispose(); b.ExpAvgSq.Dispose(); b.Scratch.Dispose();
            b.Master?.Dispose(); b.WideGrads?.Dispose();
        }
    }
}
