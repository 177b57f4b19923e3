using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace RlhfSharp.Labeling;

/// <summary>
/// Handing out tasks so each goes to <c>redundancy</c> different labelers, and recording labels.
/// A task handed out is leased to that labeler for <see cref="LeaseTime"/>; leases live in memory
/// only (they are a scheduling hint, so losing them on restart costs nothing and saves an fsync).
/// </summary>
public sealed partial class LabelStore
{
    public static readonly TimeSpan LeaseTime = TimeSpan.FromMinutes(30);

    readonly SemaphoreSlim _writeGate = new(1, 1);
    readonly Dictionary<long, Dictionary<long, DateTime>> _leases = new(); // task row -> labeler -> expiry; under _writeGate

    /// <summary>The task this labeler should do next, or null when none is left for them.</summary>
    public async Task<(LabelTask? Task, LabelerProgress Progress)> NextTaskAsync(long labelerId, int redundancy)
    {
        await _writeGate.WaitAsync();
        try
        {
            using var c = Connect();
            var now = DateTime.UtcNow;
            var open = OpenTasks(c, labelerId, redundancy, now);
            var done = (int)Scalar<long>(c, "SELECT COUNT(*) FROM labels WHERE labeler_id=$me", null, ("$me", labelerId));
            // A task this labeler already holds comes first, so a reload shows the same page.
            long? pick = open.Where(o => o.Mine).Select(o => (long?)o.Row).FirstOrDefault() ?? open.Select(o => (long?)o.Row).FirstOrDefault();
            if (pick is null) return (null, new LabelerProgress(done, 0));
            if (!_leases.TryGetValue(pick.Value, out var holders)) _leases[pick.Value] = holders = new();
            holders[labelerId] = now + LeaseTime;
            return (ReadTask(c, null, "WHERE rowid=$r", ("$r", pick.Value)), new LabelerProgress(done, open.Count));
        }
        finally { _writeGate.Release(); }
    }

    /// <summary>Tasks this labeler may still take: not labelled or skipped by them, with room left for them.</summary>
    List<(long Row, bool Mine)> OpenTasks(SqliteConnection connection, long me, int redundancy, DateTime now)
    {
        using var cmd = Command(connection, """
            SELECT t.rowid, (SELECT COUNT(*) FROM labels l WHERE l.task_row=t.rowid) FROM tasks t
            WHERE NOT EXISTS (SELECT 1 FROM labels l WHERE l.task_row=t.rowid AND l.labeler_id=$me)
              AND NOT EXISTS (SELECT 1 FROM skips s WHERE s.task_row=t.rowid AND s.labeler_id=$me)
            ORDER BY t.rowid
            """, null, ("$me", me));
        using var r = cmd.ExecuteReader();
        var list = new List<(long, bool)>();
        while (r.Read())
        {
            long row = r.GetInt64(0), labels = r.GetInt64(1);
            var (mine, others) = LeaseCounts(row, me, now);
            if (mine) list.Add((row, true));
            else if (labels + others < redundancy) list.Add((row, false));
        }
        return list;
    }

    (bool Mine, int Others) LeaseCounts(long row, long me, DateTime now)
    {
        if (!_leases.TryGetValue(row, out var holders)) return (false, 0);
        foreach (var expired in holders.Where(h => h.Value <= now).Select(h => h.Key).ToList()) holders.Remove(expired);
        return (holders.ContainsKey(me), holders.Count - (holders.ContainsKey(me) ? 1 : 0));
    }

    void ReleaseLease(long row, long labelerId)
    {
        if (_leases.TryGetValue(row, out var holders) && holders.Remove(labelerId) && holders.Count == 0) _leases.Remove(row);
    }

    /// <summary>Records that this labeler passed on a task; it is not offered to them again. False if the task is unknown.</summary>
    public async Task<bool> SkipAsync(long labelerId, string taskId)
    {
        await _writeGate.WaitAsync();
        try
        {
            using var c = Connect();
            using var tx = c.BeginTransaction();
            var task = ReadTask(c, tx, "WHERE id=$id", ("$id", taskId));
            if (task is null) return false;
            Exec(c, "INSERT OR IGNORE INTO skips(task_row, labeler_id, created_utc) VALUES($t,$me,$now)", tx,
                ("$t", task.RowId), ("$me", labelerId), ("$now", Now()));
            tx.Commit();
            ReleaseLease(task.RowId, labelerId);
            return true;
        }
        finally { _writeGate.Release(); }
    }

    /// <summary>
    /// Writes one label in one transaction. Returns only after the commit (WAL, synchronous=FULL),
    /// so <see cref="SubmitOutcome.Created"/> means the label is on disk. The input must already be
    /// validated against the task (see <see cref="LabelValidation"/>).
    /// </summary>
    public async Task<(SubmitOutcome Outcome, long LabelId)> SubmitAsync(long labelerId, string taskId, LabelInput label, int redundancy)
    {
        await _writeGate.WaitAsync();
        try
        {
            using var c = Connect();
            using var tx = c.BeginTransaction();
            var task = ReadTask(c, tx, "WHERE id=$id", ("$id", taskId));
            if (task is null) return (SubmitOutcome.UnknownTask, 0);
            if (Scalar<long>(c, "SELECT COUNT(*) FROM labels WHERE task_row=$t AND labeler_id=$me", tx, ("$t", task.RowId), ("$me", labelerId)) > 0)
                return (SubmitOutcome.Duplicate, 0);
            var labels = Scalar<long>(c, "SELECT COUNT(*) FROM labels WHERE task_row=$t", tx, ("$t", task.RowId));
            var (mine, others) = LeaseCounts(task.RowId, labelerId, DateTime.UtcNow);
            if (!mine && labels + others >= redundancy) return (SubmitOutcome.TaskFull, 0);
            var id = Scalar<long>(c, """
                INSERT INTO labels(task_row, labeler_id, ranking_json, ratings_json, flags_json, notes_json, created_utc)
                VALUES($t,$me,$rk,$rt,$fl,$no,$now) RETURNING id
                """, tx, ("$t", task.RowId), ("$me", labelerId), ("$rk", JsonSerializer.Serialize(label.Ranking)),
                ("$rt", JsonSerializer.Serialize(label.Ratings)), ("$fl", JsonSerializer.Serialize(label.Flags)),
                ("$no", label.NotesJson), ("$now", Now()));
            tx.Commit();
            ReleaseLease(task.RowId, labelerId);
            return (SubmitOutcome.Created, id);
        }
        finally { _writeGate.Release(); }
    }

    /// <summary>Every label with its task, in the order written; <paramref name="labelerId"/> narrows it to one labeler's own.</summary>
    public IReadOnlyList<StoredLabel> Labels(long? labelerId = null, long? labelId = null)
    {
        using var c = Connect();
        using var cmd = Command(c, """
            SELECT l.id, t.id, t.prompt, t.responses_json, b.name, l.ranking_json, l.ratings_json, l.flags_json, l.notes_json, l.created_utc
            FROM labels l JOIN tasks t ON t.rowid=l.task_row JOIN labelers b ON b.id=l.labeler_id
            WHERE ($me IS NULL OR l.labeler_id=$me) AND ($lid IS NULL OR l.id=$lid)
            ORDER BY l.id
            """, null, ("$me", labelerId), ("$lid", labelId));
        using var r = cmd.ExecuteReader();
        var list = new List<StoredLabel>();
        while (r.Read())
            list.Add(new StoredLabel(r.GetInt64(0), r.GetString(1), r.GetString(2),
                JsonSerializer.Deserialize<List<string>>(r.GetString(3))!, r.GetString(4),
                JsonSerializer.Deserialize<List<int>>(r.GetString(5))!,
                JsonSerializer.Deserialize<Dictionary<int, int>>(r.GetString(6))!,
                JsonSerializer.Deserialize<Dictionary<int, List<string>>>(r.GetString(7))!
                    .ToDictionary(kv => kv.Key, kv => (IReadOnlyList<string>)kv.Value),
                r.GetString(8), DateTime.Parse(r.GetString(9), null, System.Globalization.DateTimeStyles.RoundtripKind)));
        return list;
    }
}
