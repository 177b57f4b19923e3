using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Core;

/// <summary>
/// Crash-safe checkpoints in one folder:
/// <code>
/// dir/step-N/models/{name}/...          whatever the model's save delegate writes
/// dir/step-N/optimizers/{name}.safetensors
/// dir/step-N/rng.safetensors            torch CPU generator + extra generators (uint8)
/// dir/step-N/state.json                 step, schedule step, data position, trainer state, file manifest
/// dir/latest                            "step-N"
/// </code>
/// A checkpoint is built in <c>dir/.tmp-step-N</c>, every file is fsynced, and only then is the folder
/// renamed to <c>step-N</c> and the <c>latest</c> pointer replaced by rename. A crash at any point leaves
/// the previous checkpoint as the latest one. <c>state.json</c> is written last and lists every file with
/// its size; a folder whose manifest does not match is never loaded. The last <see cref="KeepLast"/>
/// checkpoints are kept.
/// </summary>
public sealed class CheckpointStore
{
    /// <summary>File in the root holding the latest folder's name.</summary>
    public const string LatestFile = "latest";
    /// <summary>Manifest of a checkpoint, written last.</summary>
    public const string StateFile = "state.json";
    const string StepPrefix = "step-", TmpPrefix = ".tmp-step-", TrashPrefix = ".trash-step-";
    internal const string RngFile = "rng.safetensors", TorchRngKey = "torch";
    const int FormatVersion = 1;

    /// <summary>The checkpoints folder (absolute).</summary>
    public string Root { get; }
    /// <summary>How many complete checkpoints are kept; older ones are removed after each save.</summary>
    public int KeepLast { get; }

    /// <summary>A store in <paramref name="root"/> keeping the last <paramref name="keepLast"/> (&gt;= 1) checkpoints.</summary>
    public CheckpointStore(string root, int keepLast = 3)
    {
        if (keepLast < 1) throw new UserError($"checkpoints: keep-last must be >= 1, got {keepLast}");
        Root = Path.GetFullPath(root);
        KeepLast = keepLast;
    }

    /// <summary><c>step-N</c>, the folder of the checkpoint at <paramref name="step"/>.</summary>
    public static string FolderName(long step) => StepPrefix + step.ToString(CultureInfo.InvariantCulture);

    /// <summary>Writes a checkpoint atomically and returns its folder.</summary>
    public string Save(CheckpointData data)
    {
        if (data.Step < 0) throw new ArgumentOutOfRangeException(nameof(data), "step must be >= 0");
        Directory.CreateDirectory(Root);
        RemoveLeftovers();
        var name = FolderName(data.Step);
        var tmp = Path.Combine(Root, TmpPrefix + data.Step.ToString(CultureInfo.InvariantCulture));
        if (Directory.Exists(tmp)) Directory.Delete(tmp, true);
        Directory.CreateDirectory(tmp);
        try
        {
            WriteContents(tmp, data);
            DurableFiles.SyncTree(tmp);
        }
        catch
        {
            TryDelete(tmp);
            throw;
        }

        var final = Path.Combine(Root, name);
        if (Directory.Exists(final))
        {
            // Re-saving a step (e.g. after resuming from an older checkpoint): move the old one aside first,
            // because rename(2) cannot replace a non-empty folder.
            var trash = Path.Combine(Root, TrashPrefix + data.Step.ToString(CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N")[..8]);
            Directory.Move(final, trash);
            Directory.Move(tmp, final);
            TryDelete(trash);
        }
        else Directory.Move(tmp, final);
        DurableFiles.Sync(Root);
        DurableFiles.WriteAllTextAtomic(Path.Combine(Root, LatestFile), name + "\n");
        Prune(name);
        return final;
    }

    static void WriteContents(string tmp, CheckpointData data)
    {
        using var scope = NewDisposeScope();
        foreach (var (model, save) in data.Models)
        {
            var folder = Path.Combine(tmp, "models", SafeName(model));
            Directory.CreateDirectory(folder);
            save(folder);
        }
        if (data.Optimizers.Count > 0) Directory.CreateDirectory(Path.Combine(tmp, "optimizers"));
        foreach (var (opt, adam) in data.Optimizers)
            adam.SaveState(Path.Combine(tmp, "optimizers", SafeName(opt) + ".safetensors"));

        var rng = new Dictionary<string, Tensor> { [TorchRngKey] = get_rng_state() };
        foreach (var (key, bytes) in data.ExtraRng) rng["extra." + key] = tensor(bytes, dtype: ScalarType.Byte);
        Safetensors.SaveStateDict(Path.Combine(tmp, RngFile), rng);

        // The manifest is written last: its presence with matching sizes means everything above is there.
        var files = new JsonObject();
        foreach (var f in Directory.EnumerateFiles(tmp, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            files[Path.GetRelativePath(tmp, f).Replace('\\', '/')] = new FileInfo(f).Length;
        var state = new JsonObject
        {
            ["format"] = FormatVersion,
            ["step"] = data.Step,
            ["scheduler_step"] = data.SchedulerStep ?? data.Step,
            ["data_position"] = data.DataPosition is { } p ? new JsonObject { ["epoch"] = p.Epoch, ["index"] = p.Index } : null,
            ["models"] = new JsonArray(data.Models.Keys.Select(k => (JsonNode)SafeName(k)).ToArray()),
            ["optimizers"] = new JsonArray(data.Optimizers.Keys.Select(k => (JsonNode)SafeName(k)).ToArray()),
            ["extra_rng"] = new JsonArray(data.ExtraRng.Keys.Select(k => (JsonNode)k).ToArray()),
            ["trainer_state"] = data.TrainerState.DeepClone(),
            ["saved_utc"] = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture),
            ["files"] = files,
        };
        File.WriteAllText(Path.Combine(tmp, StateFile), state.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>The latest complete checkpoint in this store, or null if there is none.</summary>
    public Checkpoint? LoadLatest() => LoadLatest(Root);

    /// <summary>
    /// The checkpoint named by <c>dir/latest</c> if it is complete; otherwise the complete checkpoint with the
    /// highest step; null if the folder holds none. Temporary and partial folders are never chosen.
    /// </summary>
    public static Checkpoint? LoadLatest(string dir)
    {
        dir = Path.GetFullPath(dir);
        if (!Directory.Exists(dir)) return null;
        var pointer = Path.Combine(dir, LatestFile);
        if (File.Exists(pointer))
        {
            var name = File.ReadAllText(pointer).Trim();
            if (name.StartsWith(StepPrefix, StringComparison.Ordinal) && !name.Contains('/') &&
                Checkpoint.TryOpen(Path.Combine(dir, name)) is { } c) return c;
        }
        foreach (var (_, folder) in StepFolders(dir).OrderByDescending(s => s.Step))
            if (Checkpoint.TryOpen(folder) is { } c) return c;
        return null;
    }

    /// <summary>Loads a given checkpoint folder; a user error if it is missing or incomplete.</summary>
    public static Checkpoint Load(string folder) =>
        Checkpoint.TryOpen(Path.GetFullPath(folder)) ?? throw new UserError($"{folder}: not a complete checkpoint (missing or mismatched {StateFile})");

    /// <summary>Complete and incomplete <c>step-N</c> folders, by step.</summary>
    static IEnumerable<(long Step, string Folder)> StepFolders(string dir)
    {
        foreach (var d in Directory.EnumerateDirectories(dir, StepPrefix + "*"))
            if (long.TryParse(Path.GetFileName(d)[StepPrefix.Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var step))
                yield return (step, d);
    }

    // Keeps the KeepLast highest complete steps and the one just written; drops the rest.
    void Prune(string justWritten)
    {
        var complete = StepFolders(Root).Where(s => Checkpoint.TryOpen(s.Folder) is not null)
                                        .OrderByDescending(s => s.Step).ToList();
        foreach (var (_, folder) in complete.Skip(KeepLast))
            if (Path.GetFileName(folder) != justWritten) TryDelete(folder);
    }

    // Temp folders of interrupted saves and trash of replaced ones.
    void RemoveLeftovers()
    {
        foreach (var d in Directory.EnumerateDirectories(Root, ".*"))
        {
            var n = Path.GetFileName(d);
            if (n.StartsWith(TmpPrefix, StringComparison.Ordinal) || n.StartsWith(TrashPrefix, StringComparison.Ordinal)) TryDelete(d);
        }
    }

    static string SafeName(string name)
    {
        if (name.Length == 0 || name.IndexOfAny(['/', '\\', ':']) >= 0 || name.StartsWith('.'))
            throw new ArgumentException($"checkpoint part name '{name}' must be a plain file name");
        return name;
    }

    static void TryDelete(string dir)
    {
        try { Directory.Delete(dir, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
