namespace RlhfSharp.Checkpoints;

/// <summary>
/// Writes a folder all-or-nothing: the content is written into a hidden sibling temp folder, then renamed into place
/// (rename is atomic on one file system). A crash mid-write leaves the previous folder intact, never half a checkpoint.
/// Reusable for any checkpoint-like output (trainer state, eval reports).
/// </summary>
public static class AtomicFolder
{
    /// <summary>
    /// Calls <paramref name="fill"/> with an empty temp folder, then replaces <paramref name="dir"/> with it.
    /// If <paramref name="fill"/> throws, the temp folder is deleted and <paramref name="dir"/> is untouched.
    /// </summary>
    public static void Write(string dir, Action<string> fill)
    {
        var full = Path.GetFullPath(dir).TrimEnd(Path.DirectorySeparatorChar);
        if (File.Exists(full)) throw new UserError($"{full}: exists and is a file, not a folder");
        var parent = Path.GetDirectoryName(full) ?? throw new UserError($"{full}: cannot write to a root folder");
        var name = Path.GetFileName(full);
        Directory.CreateDirectory(parent);
        var tag = Guid.NewGuid().ToString("N")[..8];
        var tmp = Path.Combine(parent, $".{name}.tmp-{tag}");
        Directory.CreateDirectory(tmp);
        try { fill(tmp); }
        catch { TryDelete(tmp); throw; }

        if (!Directory.Exists(full)) { Directory.Move(tmp, full); return; }
        // Two renames: old out of the way, new in. Between them the folder is briefly absent, never partial.
        var old = Path.Combine(parent, $".{name}.old-{tag}");
        Directory.Move(full, old);
        Directory.Move(tmp, full);
        TryDelete(old);
    }

    static void TryDelete(string dir)
    {
        try { Directory.Delete(dir, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
