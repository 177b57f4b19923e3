using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace RlhfSharp.Labeling;

/// <summary>Serves the labeler page from resources embedded in this assembly, under a strict CSP (no inline script).</summary>
static class StaticPage
{
    const string Csp = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
                       "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    static readonly (string Path, string Resource, string Type)[] Files =
    [
        ("/", "index.html", "text/html; charset=utf-8"),
        ("/app.js", "app.js", "text/javascript; charset=utf-8"),
        ("/app.css", "app.css", "text/css; charset=utf-8"),
    ];

    public static void Map(WebApplication app)
    {
        var asm = typeof(StaticPage).Assembly;
        foreach (var (path, resource, type) in Files)
        {
            var bytes = Read(asm, "RlhfSharp.Labeling.wwwroot." + resource);
            app.MapGet(path, (HttpContext ctx) =>
            {
                ctx.Response.ContentType = type;
                ctx.Response.Headers.ContentSecurityPolicy = Csp;
                return ctx.Response.Body.WriteAsync(bytes).AsTask();
            });
        }
    }

    static byte[] Read(Assembly asm, string name)
    {
        using var s = asm.GetManifestResourceStream(name) ?? throw new InvalidOperationException($"embedded resource {name} missing");
        using var ms = new MemoryStream();
        s.CopyTo(ms);
        return ms.ToArray();
    }
}
