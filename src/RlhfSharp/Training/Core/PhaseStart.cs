using RlhfSharp.Configuration;
using RlhfSharp.Devices;
using RlhfSharp.Distributed;
using RlhfSharp.Training.Supervised;
using TorchSharp;

namespace RlhfSharp.Training.Core;

/// <summary>What every phase checks before it loads anything: the output folder against <see cref="RunOptions.Resume"/>,
/// the device, and cancellation.</summary>
public static class PhaseStart
{
    /// <summary>Subfolder of a phase's output that holds its checkpoints.</summary>
    public const string CheckpointsFolder = "checkpoints";

    /// <summary>Returns the device and whether to resume; refuses to overwrite checkpoints, or to resume without any.
    /// For phases that run in one process only: a <see cref="RunOptions.Distributed"/> mode is refused.</summary>
    public static (torch.Device Device, bool Resume) Check(string phase, RunOptions run)
    {
        if (run.Distributed != DistributedMode.None)
            throw new UserError($"{phase}: --distributed {run.Distributed.ToString().ToLowerInvariant()} is not supported by this phase " +
                "(data-parallel phases: pretrain, sft, reward, dpo, ppo, grpo, rloo); run it in one process");
        return CheckOutput(phase, run);
    }

    /// <summary>
    /// For a data-parallel phase: joins the process group of <see cref="RunOptions.Distributed"/>, checks the output and
    /// device as <see cref="Check"/> does, and waits until every rank has looked at the output folder (rank 0 must not
    /// write a checkpoint before then: a fresh run refuses a folder that holds one, and a resumed one must read the same
    /// latest checkpoint on every rank). The caller makes the group <see cref="ProcessGroup.Current"/> while it trains.
    /// </summary>
    public static (torch.Device Device, bool Resume, ProcessGroup Group) CheckDataParallel(string phase, RunOptions run)
    {
        var group = ProcessGroup.Join(run.Distributed);
        var (device, resume) = CheckOutput(phase, run);
        group.Barrier();
        return (device, resume, group);
    }

    static (torch.Device Device, bool Resume) CheckOutput(string phase, RunOptions run)
    {
        if (string.IsNullOrWhiteSpace(run.Output)) throw new UserError($"{phase}: an output folder is required");
        run.Cancellation.ThrowIfCancellationRequested();
        var dir = Path.Combine(run.Output, CheckpointsFolder);
        bool has = CheckpointStore.LoadLatest(dir) is not null;
        if ((run.Resume == ResumeMode.Latest && !has) || (run.Resume == ResumeMode.Fresh && has))
            throw new ResumeError(phase, run.Resume, run.Output, dir);
        return (DeviceSetup.Resolve(run.Device), has);
    }

    /// <summary>
    /// The shape every supervised phase (pretrain, sft, reward, dpo) shares: validate the config against its schema,
    /// check the output and device, open the model source, and let <paramref name="train"/> load the model and train.
    /// With <see cref="RunOptions.Distributed"/>, it joins the process group and makes it <see cref="ProcessGroup.Current"/>
    /// for the training loop.
    /// </summary>
    public static PhaseResult RunSupervised<TConfig>(string phase, ConfigSchema<TConfig> schema, TConfig config, ModelSource model,
        RunOptions run, Func<OpenedSource, torch.Device, bool, TrainResult> train)
    {
        schema.Validate(config);
        var (device, resume, group) = CheckDataParallel(phase, run);
        using var current = ProcessGroup.Use(group);
        return PhaseResults.From(phase, train(model.Open(), device, resume));
    }
}
