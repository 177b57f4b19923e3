using RlhfSharp.Configuration;
using RlhfSharp.Devices;
using RlhfSharp.Training.Supervised;
using TorchSharp;

namespace RlhfSharp.Training.Core;

/// <summary>What every phase checks before it loads anything: the output folder against <see cref="RunOptions.Resume"/>,
/// the device, and cancellation.</summary>
public static class PhaseStart
{
    /// <summary>Subfolder of a phase's output that holds its checkpoints.</summary>
    public const string CheckpointsFolder = "checkpoints";

    /// <summary>Returns the device and whether to resume; refuses to overwrite checkpoints, or to resume without any.</summary>
    public static (torch.Device Device, bool Resume) Check(string phase, RunOptions run)
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
    /// </summary>
    public static PhaseResult RunSupervised<TConfig>(string phase, ConfigSchema<TConfig> schema, TConfig config, ModelSource model,
        RunOptions run, Func<OpenedSource, torch.Device, bool, TrainResult> train)
    {
        schema.Validate(config);
        var (device, resume) = Check(phase, run);
        return PhaseResults.From(phase, train(model.Open(), device, resume));
    }
}
