using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using RlhfSharp.Labeling;
using RlhfSharp.Tests.Infrastructure;

namespace RlhfSharp.Tests.Labeling;

/// <summary>A temporary store with labelers and tasks, and helpers to talk to a server over it.</summary>
public sealed class LabelingFixture : IDisposable
{
    readonly TempDir _dir = new();
    public string DbPath { get; }
    public LabelStore Store { get; }
    public string AdminToken { get; }

    public LabelingFixture()
    {
        DbPath = _dir.File("labels.db");
        Store = LabelStore.Create(DbPath);
        AdminToken = Store.AddLabeler("admin", isAdmin: true);
    }

    public string File(string name) => _dir.File(name);

    /// <summary>Adds n tasks "task-i" with k responses each.</summary>
    public void AddTasks(int n, int k = 4) =>
        Store.AddTasks(Enumerable.Range(0, n)
            .Select(i => new NewTask($"task-{i}", $"prompt {i}", Enumerable.Range(0, k).Select(j => $"response {i}.{j}").ToList()))
            .ToList());

    public static HttpClient Client(string baseUrl, string? token)
    {
        var c = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(30) };
        if (token is not null) c.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return c;
    }

    /// <summary>A valid label body for a K-response task: ranking as given, ratings 7 down, no flags.</summary>
    public static string LabelBody(IReadOnlyList<int> ranking) => JsonSerializer.Serialize(new
    {
        ranking,
        ratings = ranking.Select((id, pos) => (id, pos)).ToDictionary(x => x.id.ToString(), x => 7 - x.pos),
        flags = new Dictionary<string, string[]>(),
        notes = "",
    });

    public static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    /// <summary>Everything that a change to the store would alter: the export and the skip/label counts.</summary>
    public string Snapshot()
    {
        var sw = new StringWriter();
        LabelExport.Write(Store.Labels(), sw);
        return $"{Store.CountLabels()}|{Store.CountTasks()}|{sw}";
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools(); // let the folder go
        _dir.Dispose();
    }
}
