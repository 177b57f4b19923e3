using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace RlhfSharp.Labeling;

/// <summary>
/// The labeling app: Kestrel serving the embedded page and the JSON API over one <see cref="LabelStore"/>.
/// Start it in-process with <see cref="StartAsync"/> (tests, programs) or from `rlhf label serve`.
/// </summary>
public sealed class LabelingServer : IAsyncDisposable
{
    /// <summary>Request bodies above this get 413. A label is a few KB; 1 MiB leaves room for long notes.</summary>
    public const long MaxBodyBytes = 1 << 20;

    readonly WebApplication _app;

    /// <summary>The bound base URL, e.g. http://127.0.0.1:5123 (the real port when 0 was asked for).</summary>
    public string Url { get; }
    public LabelStore Store { get; }
    public int Redundancy { get; }

    LabelingServer(WebApplication app, string url, LabelStore store, int redundancy)
    {
        _app = app;
        Url = url;
        Store = store;
        Redundancy = redundancy;
    }

    /// <summary>Opens the store at <paramref name="dbPath"/> and serves it; port 0 picks a free port.</summary>
    public static async Task<LabelingServer> StartAsync(string dbPath, string host = "127.0.0.1", int port = 0, int redundancy = 1,
        TextWriter? errorLog = null, CancellationToken cancellationToken = default)
    {
        if (redundancy < 1) throw new UserError($"--redundancy must be at least 1; got {redundancy}");
        if (port is < 0 or > 65535) throw new UserError($"--port must be 0..65535; got {port}");
        var address = host == "localhost" ? IPAddress.Loopback
            : IPAddress.TryParse(host, out var a) ? a : throw new UserError($"--host '{host}' is not an IP address (e.g. 127.0.0.1)");
        var store = LabelStore.Open(dbPath);

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders(); // requests are not logged; errors go to errorLog
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));
        builder.WebHost.UseKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = MaxBodyBytes;
            k.Limits.MaxRequestHeadersTotalSize = 32 * 1024;
            k.Listen(address, port);
        });
        var app = builder.Build();
        LabelingApi.Map(app, store, redundancy, errorLog ?? Console.Error);
        try { await app.StartAsync(cancellationToken); }
        catch (IOException e) { throw new UserError($"cannot listen on {host}:{port} ({e.Message})", e); }

        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new LabelingServer(app, bound.TrimEnd('/'), store, redundancy);
    }

    /// <summary>Completes when the host stops (Ctrl+C / SIGTERM in a console app, or <see cref="StopAsync"/>).</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default) => _app.WaitForShutdownAsync(cancellationToken);

    public Task StopAsync() => _app.StopAsync();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
