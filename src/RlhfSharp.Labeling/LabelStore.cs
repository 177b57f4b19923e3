using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace RlhfSharp.Labeling;

/// <summary>
/// The SQLite store of tasks, labelers and labels. WAL mode with synchronous=FULL: a label's
/// transaction is on disk when <c>Commit</c> returns, so a 201 sent after it survives SIGKILL.
/// Writes go through one in-process gate (SQLite has one writer anyway; the gate keeps waiting
/// requests off the thread pool); reads run concurrently beside them.
/// </summary>
public sealed partial class LabelStore
{
    const int SchemaVersion = 1;
    readonly string _connectionString;
    readonly ConcurrentDictionary<string, Labeler> _tokenCache = new();

    public string Path { get; }

    LabelStore(string path)
    {
        Path = path;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path, Mode = SqliteOpenMode.ReadWrite, Pooling = true, DefaultTimeout = 30,
        }.ToString();
    }

    /// <summary>Creates a new store file; refuses to touch an existing one.</summary>
    public static LabelStore Create(string path)
    {
        if (File.Exists(path) && new FileInfo(path).Length > 0)
            throw new UserError($"{path}: already exists; label init creates a new store only");
        var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (dir is not null && !Directory.Exists(dir)) throw new UserError($"{path}: folder {dir} does not exist");
        var cs = new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false }.ToString();
        using (var c = new SqliteConnection(cs))
        {
            c.Open();
            Exec(c, "PRAGMA journal_mode=WAL;");
            Exec(c, """
                CREATE TABLE labelers(
                  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, token_hash TEXT NOT NULL UNIQUE,
                  is_admin INTEGER NOT NULL, created_utc TEXT NOT NULL);
                CREATE TABLE tasks(
                  rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, prompt TEXT NOT NULL,
                  responses_json TEXT NOT NULL, metadata_json TEXT, created_utc TEXT NOT NULL);
                CREATE TABLE labels(
                  id INTEGER PRIMARY KEY, task_row INTEGER NOT NULL REFERENCES tasks(rowid),
                  labeler_id INTEGER NOT NULL REFERENCES labelers(id),
                  ranking_json TEXT NOT NULL, ratings_json TEXT NOT NULL, flags_json TEXT NOT NULL,
                  notes_json TEXT NOT NULL, created_utc TEXT NOT NULL, UNIQUE(task_row, labeler_id));
                CREATE TABLE skips(
                  task_row INTEGER NOT NULL, labeler_id INTEGER NOT NULL, created_utc TEXT NOT NULL,
                  PRIMARY KEY(task_row, labeler_id));
                """);
            Exec(c, $"PRAGMA user_version={SchemaVersion};");
        }
        return new LabelStore(path);
    }

    /// <summary>Opens an existing store made by <see cref="Create"/>.</summary>
    public static LabelStore Open(string path)
    {
        if (!File.Exists(path)) throw new UserError($"{path}: no labeling store here; run `rlhf label init --db {path}` first");
        var store = new LabelStore(path);
        try
        {
            using var c = store.Connect();
            if (Scalar<long>(c, "PRAGMA user_version;") != SchemaVersion)
                throw new UserError($"{path}: not a labeling store (schema version differs)");
        }
        catch (SqliteException e) { throw new UserError($"{path}: not a labeling store ({e.Message})", e); }
        return store;
    }

    /// <summary>A pooled connection with the per-connection pragmas that durability depends on.</summary>
    internal SqliteConnection Connect()
    {
        var c = new SqliteConnection(_connectionString);
        c.Open();
        Exec(c, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=30000;");
        return c;
    }

    /// <summary>Adds a labeler and returns their bearer token; only its hash is stored.</summary>
    public string AddLabeler(string name, bool isAdmin)
    {
        if (string.IsNullOrWhiteSpace(name)) throw new UserError("labeler name must not be empty");
        var token = Tokens.NewToken();
        using var c = Connect();
        using var tx = c.BeginTransaction();
        if (Scalar<long>(c, "SELECT COUNT(*) FROM labelers WHERE name=$n", tx, ("$n", name)) > 0)
            throw new UserError($"{Path}: a labeler named '{name}' already exists");
        Exec(c, "INSERT INTO labelers(name, token_hash, is_admin, created_utc) VALUES($n,$h,$a,$t)", tx,
            ("$n", name), ("$h", Tokens.Hash(token)), ("$a", isAdmin ? 1 : 0), ("$t", Now()));
        tx.Commit();
        return token;
    }

    /// <summary>The labeler that holds this token, or null. Positive answers are cached (labelers are never revoked).</summary>
    public Labeler? Authenticate(string token)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 200) return null;
        var hash = Tokens.Hash(token);
        if (_tokenCache.TryGetValue(hash, out var cached)) return cached;
        using var c = Connect();
        using var cmd = Command(c, "SELECT id, name, is_admin FROM labelers WHERE token_hash=$h", null, ("$h", hash));
        using var r = cmd.ExecuteReader();
        if (!r.Read()) return null;
        var labeler = new Labeler(r.GetInt64(0), r.GetString(1), r.GetInt64(2) != 0);
        _tokenCache[hash] = labeler;
        return labeler;
    }

    public IReadOnlyList<Labeler> Labelers()
    {
        using var c = Connect();
        using var cmd = Command(c, "SELECT id, name, is_admin FROM labelers ORDER BY id", null);
        using var r = cmd.ExecuteReader();
        var list = new List<Labeler>();
        while (r.Read()) list.Add(new Labeler(r.GetInt64(0), r.GetString(1), r.GetInt64(2) != 0));
        return list;
    }

    /// <summary>Adds tasks in one transaction: all or none. A duplicate id fails the batch and names its position.</summary>
    public IReadOnlyList<string> AddTasks(IReadOnlyList<NewTask> tasks, Func<int, string>? describe = null)
    {
        describe ??= i => $"task {i + 1}";
        var ids = new List<string>(tasks.Count);
        using var c = Connect();
        using var tx = c.BeginTransaction();
        for (int i = 0; i < tasks.Count; i++)
        {
            var t = tasks[i];
            var id = t.Id ?? TaskIds.FromContent(t.Prompt, t.Responses);
            if (Scalar<long>(c, "SELECT COUNT(*) FROM tasks WHERE id=$id", tx, ("$id", id)) > 0)
                throw new UserError($"{describe(i)}: a task with id '{id}' is already in the store or earlier in the file");
            Exec(c, "INSERT INTO tasks(id, prompt, responses_json, metadata_json, created_utc) VALUES($id,$p,$r,$m,$t)", tx,
                ("$id", id), ("$p", t.Prompt), ("$r", JsonSerializer.Serialize(t.Responses)),
                ("$m", (object?)t.MetadataJson ?? DBNull.Value), ("$t", Now()));
            ids.Add(id);
        }
        tx.Commit();
        return ids;
    }

    public LabelTask? GetTask(string id)
    {
        using var c = Connect();
        return ReadTask(c, null, "WHERE id=$id", ("$id", id));
    }

    /// <summary>Each task's metadata as imported (the JSON object of its extra fields), by task id; null for a task without any.</summary>
    public IReadOnlyDictionary<string, string?> TaskMetadata()
    {
        using var c = Connect();
        using var cmd = Command(c, "SELECT id, metadata_json FROM tasks ORDER BY rowid", null);
        using var r = cmd.ExecuteReader();
        var map = new Dictionary<string, string?>(StringComparer.Ordinal);
        while (r.Read()) map[r.GetString(0)] = r.IsDBNull(1) ? null : r.GetString(1);
        return map;
    }

    /// <summary>The task id of every skip (one entry per labeler who passed on the task).</summary>
    public IReadOnlyList<string> SkippedTaskIds()
    {
        using var c = Connect();
        using var cmd = Command(c, "SELECT t.id FROM skips s JOIN tasks t ON t.rowid=s.task_row ORDER BY t.rowid, s.labeler_id", null);
        using var r = cmd.ExecuteReader();
        var ids = new List<string>();
        while (r.Read()) ids.Add(r.GetString(0));
        return ids;
    }

    public long CountTasks() { using var c = Connect(); return Scalar<long>(c, "SELECT COUNT(*) FROM tasks"); }
    public long CountLabels() { using var c = Connect(); return Scalar<long>(c, "SELECT COUNT(*) FROM labels"); }

    static LabelTask? ReadTask(SqliteConnection connection, SqliteTransaction? tx, string where, params (string, object?)[] parameters)
    {
        using var cmd = Command(connection, "SELECT rowid, id, prompt, responses_json FROM tasks " + where, tx, parameters);
        using var r = cmd.ExecuteReader();
        if (!r.Read()) return null;
        return new LabelTask(r.GetInt64(0), r.GetString(1), r.GetString(2),
            JsonSerializer.Deserialize<List<string>>(r.GetString(3))!);
    }

    static string Now() => DateTime.UtcNow.ToString("O");

    internal static SqliteCommand Command(SqliteConnection connection, string sql, SqliteTransaction? tx, params (string Name, object? Value)[] parameters)
    {
        var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.Transaction = tx;
        foreach (var (name, value) in parameters) cmd.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return cmd;
    }

    internal static void Exec(SqliteConnection connection, string sql, SqliteTransaction? tx = null, params (string, object?)[] parameters)
    {
        using var cmd = Command(connection, sql, tx, parameters);
        cmd.ExecuteNonQuery();
    }

    internal static T Scalar<T>(SqliteConnection connection, string sql, SqliteTransaction? tx = null, params (string, object?)[] parameters)
    {
        using var cmd = Command(connection, sql, tx, parameters);
        return (T)Convert.ChangeType(cmd.ExecuteScalar()!, typeof(T));
    }
}
