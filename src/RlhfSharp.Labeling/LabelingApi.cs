using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace RlhfSharp.Labeling;

/// <summary>
/// The HTTP API and the page. Every /api endpoint needs <c>Authorization: Bearer TOKEN</c> (401 otherwise);
/// /api/admin/* needs an admin token (403). Tokens travel in a header, never a cookie, so CSRF does not apply.
/// Every error a client can cause is a 4xx with <c>{"error": "..."}</c>; anything else is a 500, never a crash.
/// </summary>
static class LabelingApi
{
    const string LabelerKey = "labeler";

    public static void Map(WebApplication app, LabelStore store, int redundancy, TextWriter errorLog)
    {
        app.Use(async (ctx, next) =>
        {
            var h = ctx.Response.Headers;
            h.XContentTypeOptions = "nosniff";
            h["Referrer-Policy"] = "no-referrer";
            h.XFrameOptions = "DENY";
            h.CacheControl = "no-store";
            try { await next(ctx); }
            catch (BadHttpRequestException e) { await SafeError(ctx, e.StatusCode, e.StatusCode == 413 ? $"request body larger than {LabelingServer.MaxBodyBytes} bytes" : "bad request"); }
            catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested) { }
            catch (Exception e)
            {
                lock (errorLog) errorLog.WriteLine($"labeling: {ctx.Request.Method} {ctx.Request.Path}: {e}");
                await SafeError(ctx, 500, "internal error");
            }
        });

        // Authentication for everything under /api.
        app.Use(async (ctx, next) =>
        {
            if (!ctx.Request.Path.StartsWithSegments("/api")) { await next(ctx); return; }
            var auth = ctx.Request.Headers.Authorization.ToString();
            var labeler = auth.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? store.Authenticate(auth[7..].Trim()) : null;
            if (labeler is null)
            {
                ctx.Response.Headers.WWWAuthenticate = "Bearer";
                await Error(ctx, 401, "a valid bearer token is required (Authorization: Bearer TOKEN)");
                return;
            }
            if (ctx.Request.Path.StartsWithSegments("/api/admin") && !labeler.IsAdmin)
            {
                await Error(ctx, 403, "this endpoint needs an admin token");
                return;
            }
            ctx.Items[LabelerKey] = labeler;
            await next(ctx);
        });

        StaticPage.Map(app);

        app.MapGet("/api/me", (HttpContext ctx) => Json(ctx, 200, new { name = Me(ctx).Name, is_admin = Me(ctx).IsAdmin, redundancy }));

        app.MapGet("/api/tasks/next", async (HttpContext ctx) =>
        {
            var (task, progress) = await store.NextTaskAsync(Me(ctx).Id, redundancy);
            if (task is null) { ctx.Response.StatusCode = 204; return; }
            await Json(ctx, 200, new
            {
                task_id = task.Id,
                prompt = task.Prompt,
                responses = task.Responses.Select((t, i) => new { id = i, text = t }),
                progress = new { done = progress.Done, remaining = progress.Remaining },
            });
        });

        app.MapPost("/api/tasks/{taskId}/labels", async (HttpContext ctx, string taskId) =>
        {
            var task = store.GetTask(taskId);
            if (task is null) { await Error(ctx, 404, $"no task with id '{Clip(taskId)}'"); return; }
            JsonElement body;
            try
            {
                using var doc = await JsonDocument.ParseAsync(ctx.Request.Body, new JsonDocumentOptions { MaxDepth = 16 }, ctx.RequestAborted);
                body = doc.RootElement.Clone();
            }
            catch (JsonException e) { await Error(ctx, 400, $"malformed JSON: {e.Message}"); return; }
            var (label, error) = LabelValidation.Validate(body, task.Responses.Count);
            if (label is null) { await Error(ctx, 400, error!); return; }
            var (outcome, id) = await store.SubmitAsync(Me(ctx).Id, taskId, label, redundancy);
            switch (outcome)
            {
                case SubmitOutcome.Created: await Json(ctx, 201, new { label_id = id, task_id = taskId }); break;
                case SubmitOutcome.Duplicate: await Error(ctx, 409, "you have already labelled this task"); break;
                case SubmitOutcome.TaskFull: await Error(ctx, 409, $"this task already has its {redundancy} labels"); break;
                default: await Error(ctx, 404, $"no task with id '{Clip(taskId)}'"); break;
            }
        });

        app.MapPost("/api/tasks/{taskId}/skip", async (HttpContext ctx, string taskId) =>
        {
            if (await store.SkipAsync(Me(ctx).Id, taskId)) ctx.Response.StatusCode = 204;
            else await Error(ctx, 404, $"no task with id '{Clip(taskId)}'");
        });

        // A labeler reads only their own labels; someone else's label id is indistinguishable from a missing one.
        app.MapGet("/api/labels", (HttpContext ctx) => Json(ctx, 200, store.Labels(Me(ctx).Id).Select(View)));
        app.MapGet("/api/labels/{labelId}", async (HttpContext ctx, string labelId) =>
        {
            var mine = long.TryParse(labelId, out var lid) ? store.Labels(Me(ctx).Id, lid) : [];
            if (mine.Count == 0) await Error(ctx, 404, "no such label of yours");
            else await Json(ctx, 200, View(mine[0]));
        });

        app.MapGet("/api/admin/stats", (HttpContext ctx) =>
        {
            ctx.Response.ContentType = "application/json; charset=utf-8";
            return ctx.Response.WriteAsync(LabelStats.From(store).ToJson());
        });
        app.MapGet("/api/admin/export", async (HttpContext ctx) =>
        {
            ctx.Response.ContentType = "application/x-ndjson; charset=utf-8";
            var sw = new StringWriter();
            LabelExport.Write(store.Labels(), sw);
            await ctx.Response.WriteAsync(sw.ToString());
        });

        app.Map("/api/{**rest}", (HttpContext ctx) => Error(ctx, 404, "no such endpoint"));
    }

    static object View(StoredLabel label) => new
    {
        label_id = label.Id, task_id = label.TaskId, ranking = label.Ranking, ratings = label.Ratings, flags = label.Flags,
        notes = JsonDocument.Parse(label.NotesJson).RootElement, created_utc = label.CreatedUtc,
    };

    static Labeler Me(HttpContext ctx) => (Labeler)ctx.Items[LabelerKey]!;

    const int QuotedChars = 80; // enough of a client's id to recognise it in a one-line error

    static string Clip(string text) => text.Length <= QuotedChars ? text : text[..QuotedChars] + "…";

    static Task Json(HttpContext ctx, int status, object value)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json; charset=utf-8";
        return ctx.Response.WriteAsync(JsonSerializer.Serialize(value));
    }

    static Task Error(HttpContext ctx, int status, string message) => Json(ctx, status, new { error = message });

    static async Task SafeError(HttpContext ctx, int status, string message)
    {
        if (ctx.Response.HasStarted) { ctx.Abort(); return; }
        ctx.Response.Clear();
        await Error(ctx, status, message);
    }
}
