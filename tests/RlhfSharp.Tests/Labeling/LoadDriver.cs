using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;

namespace RlhfSharp.Tests.Labeling;

/// <summary>
/// Simulated labelers: each loops GET /api/tasks/next -> POST a label, until it has its quota, the
/// server says 204, or the server stops answering. Records every label the server acknowledged with 201.
/// </summary>
public static class LoadDriver
{
    public sealed record Ack(string Labeler, string TaskId, int[] Ranking);

    public sealed record Result(IReadOnlyList<Ack> Acks, int Failures, TimeSpan Elapsed);

    public static async Task<Result> RunAsync(string url, IReadOnlyList<(string Name, string Token)> labelers, int labelsEach,
        Action<int>? onAck = null, CancellationToken stop = default)
    {
        var acks = new ConcurrentQueue<Ack>();
        int failures = 0;
        var sw = Stopwatch.StartNew();
        await Task.WhenAll(labelers.Select((l, n) => Task.Run(async () =>
        {
            using var c = LabelingFixture.Client(url, l.Token);
            var rng = new Random(n);
            for (int done = 0; done < labelsEach && !stop.IsCancellationRequested;)
            {
                try
                {
                    var next = await c.GetAsync("/api/tasks/next", stop);
                    if (next.StatusCode == HttpStatusCode.NoContent) return;
                    var task = JsonDocument.Parse(await next.Content.ReadAsStringAsync(stop)).RootElement;
                    var id = task.GetProperty("task_id").GetString()!;
                    var ranking = Enumerable.Range(0, task.GetProperty("responses").GetArrayLength()).OrderBy(_ => rng.Next()).ToArray();
                    var res = await c.PostAsync($"/api/tasks/{id}/labels", LabelingFixture.Json(LabelingFixture.LabelBody(ranking)), stop);
                    if (res.StatusCode != HttpStatusCode.Created) throw new InvalidOperationException($"{l.Name}: {(int)res.StatusCode} {await res.Content.ReadAsStringAsync(stop)}");
                    acks.Enqueue(new Ack(l.Name, id, ranking));
                    onAck?.Invoke(acks.Count);
                    done++;
                }
                catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException)
                {
                    Interlocked.Increment(ref failures); // the server went away (crash test) or we were told to stop
                    return;
                }
            }
        }, CancellationToken.None)));
        return new Result(acks.ToList(), failures, sw.Elapsed);
    }
}
