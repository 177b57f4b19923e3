using System.ClientModel;
using System.Diagnostics;
using Microsoft.Extensions.AI;
using OpenAI;
using RlhfSharp.Serving;
using RlhfSharp.Tests.Infrastructure;
using Xunit;

namespace RlhfSharp.Tests.Serving;

public class ServeCommandTests
{
    /// <summary>`rlhf serve` as a user starts it: on 127.0.0.1 by default, answering the OpenAI SDK as the IChatClient does.</summary>
    [Fact]
    public async Task RlhfServeBindsLoopbackAndAnswersTheSdk()
    {
        var dir = SharedPaths.Fixture("gpt2-tiny");
        var dll = Path.Combine(AppContext.BaseDirectory, "rlhf.dll");
        var psi = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h ? h : "dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var a in new[] { dll, "serve", "--model", dir, "--port", "0", "--api-key", "k1" }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        try
        {
            var stderr = p.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            string? url = null;
            while (url is null && await p.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
                if (line.StartsWith("serving gpt2-tiny on ")) url = line["serving gpt2-tiny on ".Length..].Trim();
            Assert.True(url is not null, "rlhf serve exited without listening: " + (p.HasExited ? await stderr : ""));
            Assert.StartsWith("http://127.0.0.1:", url);

            IChatClient sdk = new OpenAI.Chat.ChatClient("gpt2-tiny", new ApiKeyCredential("k1"), new OpenAIClientOptions { Endpoint = new Uri(url) }).AsIChatClient();
            var options = new ChatOptions { Temperature = 0, MaxOutputTokens = 10 };
            List<ChatMessage> ask = [new(ChatRole.User, "hello")];
            using var local = new ModelChatClient(dir);
            Assert.Equal((await local.GetResponseAsync(ask, options)).Text, (await sdk.GetResponseAsync(ask, options)).Text);
        }
        finally
        {
            if (!p.HasExited) { p.Kill(); p.WaitForExit(10_000); }
        }
    }
}
