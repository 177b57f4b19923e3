using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RlhfSharp.Serving;

namespace RlhfSharp.Server;

/// <summary>
/// An OpenAI-compatible HTTP server (Kestrel, minimal API) over one <see cref="LocalModel"/>: GET /v1/models,
/// POST /v1/chat/completions and POST /v1/completions, with server-sent events for <c>stream: true</c>.
/// Start it in-process with <see cref="StartAsync"/> (tests, programs) or from <c>rlhf serve</c>.
/// Requests are answered one generation at a time (see <see cref="LocalModel"/>).
/// </summary>
public sealed class OpenAiServer : IAsyncDisposable
{
    readonly WebApplication _app;

    OpenAiServer(WebApplication app, string url) => (_app, Url) = (app, url);

    /// <summary>The bound base URL, e.g. http://127.0.0.1:5123 (the real port when 0 was asked for); the API is under /v1.</summary>
    public string Url { get; }

    /// <summary>
    /// Serves <paramref name="model"/> on <paramref name="host"/>:<paramref name="port"/> (port 0 picks a free one). With
    /// <paramref name="apiKey"/>, every request must send <c>Authorization: Bearer KEY</c>.
    /// </summary>
    public static async Task<OpenAiServer> StartAsync(LocalModel model, string host = "127.0.0.1", int port = 0, string? apiKey = null,
        TextWriter? errorLog = null, CancellationToken cancellationToken = default)
    {
        if (port is < 0 or > 65535) throw new UserError($"--port must be 0..65535; got {port}");
        var address = host == "localhost" ? IPAddress.Loopback
            : IPAddress.TryParse(host, out var a) ? a : throw new UserError($"--host '{host}' is not an IP address (e.g. 127.0.0.1)");
        if (apiKey is { Length: 0 }) throw new UserError("--api-key must not be empty");

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders(); // requests are not logged; errors go to errorLog
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));
        builder.WebHost.UseKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Listen(address, port);
        });
        var app = builder.Build();
        OpenAiApi.Map(app, model, apiKey, errorLog ?? Console.Error);
        try { await app.StartAsync(cancellationToken); }
        catch (IOException e) { throw new UserError($"cannot listen on {host}:{port} ({e.Message})", e); }

        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new OpenAiServer(app, bound.TrimEnd('/'));
    }

    /// <summary>Completes when the host stops (Ctrl+C / SIGTERM in a console app, or <see cref="StopAsync"/>).</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default) => _app.WaitForShutdownAsync(cancellationToken);

    /// <summary>Stops listening.</summary>
    public Task StopAsync() => _app.StopAsync();

    /// <summary>Stops and frees the host (not the model).</summary>
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
