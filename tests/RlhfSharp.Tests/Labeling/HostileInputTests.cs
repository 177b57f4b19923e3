using System.Net;
using System.Text;
using System.Text.Json;
using RlhfSharp.Labeling;
using Xunit;

namespace RlhfSharp.Tests.Labeling;

/// <summary>Every bad request a client can make gets a 4xx, and the store is byte-for-byte what it was.</summary>
public sealed class HostileInputTests : IAsyncLifetime
{
    readonly LabelingFixture _f = new();
    LabelingServer _server = null!;
    string _alice = "", _bob = "";

    public async Task InitializeAsync()
    {
        _f.AddTasks(3, k: 4);
        _alice = _f.Store.AddLabeler("alice", false);
        _bob = _f.Store.AddLabeler("bob", false);
        _server = await LabelingServer.StartAsync(_f.DbPath, "127.0.0.1", 0, redundancy: 2);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _f.Dispose();
    }

    public static TheoryData<string, string> BadBodies => new()
    {
        { "malformed JSON", """{"ranking":[0,1,2,3], "ratings": """ },
        { "not JSON at all", "<html>hello</html>" },
        { "empty body", "" },
        { "a JSON array", "[0,1,2,3]" },
        { "ranking with duplicates", """{"ranking":[0,1,1,3],"ratings":{"0":1,"1":2,"2":3,"3":4}}""" },
        { "ranking missing an id", """{"ranking":[0,1,2],"ratings":{"0":1,"1":2,"2":3,"3":4}}""" },
        { "unknown response id", """{"ranking":[0,1,2,9],"ratings":{"0":1,"1":2,"2":3,"3":4}}""" },
        { "negative response id", """{"ranking":[0,1,2,-1],"ratings":{"0":1,"1":2,"2":3,"3":4}}""" },
        { "id as text", """{"ranking":["0",1,2,3],"ratings":{"0":1,"1":2,"2":3,"3":4}}""" },
        { "unknown id in ratings", """{"ranking":[0,1,2,3],"ratings":{"0":1,"1":2,"2":3,"3":4,"4":5}}""" },
        { "rating of 8", """{"ranking":[0,1,2,3],"ratings":{"0":8,"1":2,"2":3,"3":4}}""" },
        { "rating of 0", """{"ranking":[0,1,2,3],"ratings":{"0":0,"1":2,"2":3,"3":4}}""" },
        { "fractional rating", """{"ranking":[0,1,2,3],"ratings":{"0":2.5,"1":2,"2":3,"3":4}}""" },
        { "huge rating", """{"ranking":[0,1,2,3],"ratings":{"0":1e400,"1":2,"2":3,"3":4}}""" },
        { "missing rating", """{"ranking":[0,1,2,3],"ratings":{"0":1,"1":2,"2":3}}""" },
        { "unknown flag", """{"ranking":[0,1,2,3],"ratings":{"0":1,"1":2,"2":3,"3":4},"flags":{"0":["rude"]}}""" },
        { "flags not a list", """{"ranking":[0,1,2,3],"ratings":{"0":1,"1":2,"2":3,"3":4},"flags":{"0":"harmful_advice"}}""" },
        { "notes not text", """{"ranking":[0,1,2,3],"ratings":{"0":1,"1":2,"2":3,"3":4},"notes":42}""" },
        { "unknown field", """{"ranking":[0,1,2,3],"ratings":{"0":1,"1":2,"2":3,"3":4},"ranker":"me"}""" },
        { "deep nesting", new string('[', 5000) + new string(']', 5000) },
        { "stray unicode", "\uFFFE\uD800" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task BadLabelBodyGets400WithAMessageAndChangesNothing(string what, string body)
    {
        var before = _f.Snapshot();
        using var c = LabelingFixture.Client(_server.Url, _alice);
        var res = await c.PostAsync("/api/tasks/task-0/labels", LabelingFixture.Json(body));
        Assert.True(res.StatusCode == HttpStatusCode.BadRequest, $"{what}: got {(int)res.StatusCode}");
        var error = JsonDocument.Parse(await res.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString();
        Assert.False(string.IsNullOrWhiteSpace(error), what);
        Assert.Equal(before, _f.Snapshot());
        // The server is still fine: a good label goes through afterwards.
        var ok = await c.PostAsync("/api/tasks/task-1/labels", LabelingFixture.Json(LabelingFixture.LabelBody([3, 2, 1, 0])));
        Assert.Equal(HttpStatusCode.Created, ok.StatusCode);
    }

    [Fact]
    public async Task TenMegabyteBodyGets413AndChangesNothing()
    {
        var before = _f.Snapshot();
        using var c = LabelingFixture.Client(_server.Url, _alice);
        var huge = "{\"notes\":\"" + new string('x', 10 << 20) + "\"}";
        // Expect: 100-continue lets the server refuse before the body is sent (curl does this for large bodies);
        // without it the server still answers 413 but closes the socket under a client that is still writing.
        var req = new HttpRequestMessage(HttpMethod.Post, "/api/tasks/task-0/labels") { Content = new StringContent(huge, Encoding.UTF8, "application/json") };
        req.Headers.ExpectContinue = true;
        var res = await c.SendAsync(req);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, res.StatusCode);
        Assert.Equal(before, _f.Snapshot());
    }

    [Fact]
    public async Task MissingOrWrongTokenGets401EverywhereAndChangesNothing()
    {
        var before = _f.Snapshot();
        var body = LabelingFixture.LabelBody([0, 1, 2, 3]);
        foreach (var token in new string?[] { null, "", "wrong", _alice + "x", new string('a', 5000) })
            foreach (var (method, path) in new[] { ("GET", "/api/tasks/next"), ("POST", "/api/tasks/task-0/labels"), ("POST", "/api/tasks/task-0/skip"),
                         ("GET", "/api/labels"), ("GET", "/api/admin/export"), ("GET", "/api/admin/stats"), ("GET", "/api/me") })
            {
                using var c = LabelingFixture.Client(_server.Url, null);
                var req = new HttpRequestMessage(new HttpMethod(method), path) { Content = method == "POST" ? LabelingFixture.Json(body) : null };
                if (token is not null) req.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
                var res = await c.SendAsync(req);
                Assert.True(res.StatusCode == HttpStatusCode.Unauthorized, $"{method} {path} with token '{token?[..Math.Min(token.Length, 10)]}': {(int)res.StatusCode}");
            }
        // A token in a cookie or the query string is not a token.
        using var c2 = LabelingFixture.Client(_server.Url, null);
        var cookie = new HttpRequestMessage(HttpMethod.Get, "/api/tasks/next?access_token=" + _alice);
        cookie.Headers.Add("Cookie", "token=" + _alice);
        Assert.Equal(HttpStatusCode.Unauthorized, (await c2.SendAsync(cookie)).StatusCode);
        Assert.Equal(before, _f.Snapshot());
    }

    [Fact]
    public async Task ALabelerCannotReadAnotherLabelersLabels()
    {
        using var alice = LabelingFixture.Client(_server.Url, _alice);
        using var bob = LabelingFixture.Client(_server.Url, _bob);
        var created = await alice.PostAsync("/api/tasks/task-2/labels", LabelingFixture.Json(LabelingFixture.LabelBody([1, 0, 2, 3])));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("label_id").GetInt64();
        var before = _f.Snapshot();

        Assert.Equal(HttpStatusCode.OK, (await alice.GetAsync($"/api/labels/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await bob.GetAsync($"/api/labels/{id}")).StatusCode);
        Assert.Equal("[]", await bob.GetStringAsync("/api/labels"));
        Assert.Equal(HttpStatusCode.Forbidden, (await bob.GetAsync("/api/admin/export")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await bob.GetAsync("/api/admin/stats")).StatusCode);
        // Bob's next task never carries Alice's answer.
        var next = await bob.GetStringAsync("/api/tasks/next");
        Assert.DoesNotContain("ranking", next);
        Assert.Equal(before, _f.Snapshot());

        using var admin = LabelingFixture.Client(_server.Url, _f.AdminToken);
        Assert.Equal(6, (await admin.GetStringAsync("/api/admin/export")).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public async Task SecondLabelForTheSameTaskGets409AndUnknownTaskGets404()
    {
        using var alice = LabelingFixture.Client(_server.Url, _alice);
        var body = LabelingFixture.LabelBody([0, 1, 2, 3]);
        Assert.Equal(HttpStatusCode.Created, (await alice.PostAsync("/api/tasks/task-0/labels", LabelingFixture.Json(body))).StatusCode);
        var before = _f.Snapshot();
        Assert.Equal(HttpStatusCode.Conflict, (await alice.PostAsync("/api/tasks/task-0/labels", LabelingFixture.Json(body))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await alice.PostAsync("/api/tasks/no-such-task/labels", LabelingFixture.Json(body))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await alice.PostAsync("/api/tasks/no-such-task/skip", null)).StatusCode);
        Assert.Equal(before, _f.Snapshot());
    }

    [Fact]
    public async Task ThePageIsServedWithAStrictContentSecurityPolicy()
    {
        using var c = LabelingFixture.Client(_server.Url, null);
        var res = await c.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        Assert.Contains("script-src 'self'", res.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Contains("/app.js", await res.Content.ReadAsStringAsync());
        var js = await c.GetStringAsync("/app.js");
        Assert.DoesNotContain("innerHTML", js); // model text reaches the DOM only via textContent
    }
}
