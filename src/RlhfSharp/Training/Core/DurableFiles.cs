using System.Runtime.InteropServices;

namespace RlhfSharp.Training.Core;

/// <summary>
/// fsync for files and folders, and atomic replacement by rename: what makes a checkpoint survive a crash
/// or power loss. On Linux a folder is fsynced too, so a rename inside it is durable.
/// </summary>
static partial class DurableFiles
{
    const int O_RDONLY = 0;

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);

    /// <summary>Flushes a file or folder to stable storage.</summary>
    public static void Sync(string path)
    {
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())
        {
            int fd = Open(path, O_RDONLY);
            if (fd < 0) throw new IOException($"cannot open {path} to fsync (errno {Marshal.GetLastPInvokeError()})");
            try
            {
                if (Fsync(fd) != 0) throw new IOException($"fsync failed for {path} (errno {Marshal.GetLastPInvokeError()})");
            }
            finally { Close(fd); }
        }
        else if (File.Exists(path))
        {
            using var fs = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
            fs.Flush(flushToDisk: true);
        }
    }

    /// <summary>fsyncs every file under <paramref name="dir"/>, then every folder, deepest first.</summary>
    public static void SyncTree(string dir)
    {
        foreach (var f in Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)) Sync(f);
        foreach (var d in Directory.EnumerateDirectories(dir, "*", SearchOption.AllDirectories).OrderByDescending(d => d.Length)) Sync(d);
        Sync(dir);
    }

    /// <summary>Writes text to <paramref name="path"/> atomically: temp file, fsync, rename over, fsync folder.</summary>
    public static void WriteAllTextAtomic(string path, string text)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var tmp = Path.Combine(dir, "." + Path.GetFileName(path) + ".tmp");
        File.WriteAllText(tmp, text);
        Sync(tmp);
        File.Move(tmp, path, overwrite: true);   // rename(2): readers see the old or the new file, never half
        Sync(dir);
    }
}
