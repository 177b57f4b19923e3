using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;
using OpenAI;
using RlhfSharp.Server;
using RlhfSharp.Serving;
using RlhfSharp.Tests.Cli;
using RlhfSharp.Tests.Infrastructure;
using Xunit;

namespace RlhfSharp.Tests.Serving;

/// <summary>The in-process server on 127.0.0.1 and a free port, with an API key, over the shared gpt2-tiny.</summary>
public sealed class ServedTinyServer : IAsyncLifetime
{
    public const string Key = "test-key";
    public ServedTinyModel Tiny { get; } = new();
    public OpenAiServer Server { get; private set; } = null!;
    public Uri Endpoint => new(Server.Url + "/v1");

    public async Task InitializeAsync() => Server = await OpenAiServer.StartAsync(Tiny.Model, "127.0.0.1", 0, Key);

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        Tiny.Dispose();
    }

    /// <summary>The OpenAI .NET SDK's chat client for this server.</summary>
    public OpenAI.Chat.ChatClient SdkClient(string? model = null, string key = Key) =>
        new(model ?? Tiny.Model.Id, new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = Endpoint });

    public HttpClient Http()
    {
        var http = new HttpClient { BaseAddress = new Uri(Server.Url) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        return http;
    }
}

public class OpenAiServerTests(ServedTinyServer served) : IClassFixture<ServedTinyServer>
{
    static List<ChatMessage> Ask(string text = "which response is better") =>
        [new ChatMessage(ChatRole.System, "be brief"), new ChatMessage(ChatRole.User, text)];

    static readonly ChatOptions Greedy = new() { Temperature = 0, MaxOutputTokens = 12 };

    [Fact]
    public async Task SdkAnswerEqualsTheIChatClient()
    {
        var expected = await served.Tiny.Chat.GetResponseAsync(Ask(), Greedy);
        IChatClient sdk = served.SdkClient().AsIChatClient();
        var answer = await sdk.GetResponseAsync(Ask(), Greedy);
        Assert.Equal(expected.Text, answer.Text);
        Assert.Equal(expected.FinishReason, answer.FinishReason);
        Assert.Equal(expected.Usage!.InputTokenCount, answer.Usage!.InputTokenCount);
        Assert.Equal(expected.Usage.OutputTokenCount, answer.Usage.OutputTokenCount);

        var stop = new ChatOptions { Temperature = 0, MaxOutputTokens = 12, StopSequences = [expected.Text.Substring(2, 2)] };
        Assert.Equal((await served.Tiny.Chat.GetResponseAsync(Ask(), stop)).Text, (await sdk.GetResponseAsync(Ask(), stop)).Text);
    }

    [Fact]
    public async Task SdkStreamingAnswerEqualsTheIChatClient()
    {
        var expected = await served.Tiny.Chat.GetResponseAsync(Ask(), Greedy);
        IChatClient sdk = served.SdkClient().AsIChatClient();
        var pieces = new List<string>();
        ChatFinishReason? finish = null;
        await foreach (var update in sdk.GetStreamingResponseAsync(Ask(), Greedy))
        {
            pieces.Add(update.Text);
            finish ??= update.FinishReason;
        }
        Assert.Equal(expected.Text, string.Concat(pieces));
        Assert.True(pieces.Count(p => p.Length > 0) > 1, "pieces: " + string.Join("|", pieces));
        Assert.Equal(expected.FinishReason, finish);
    }

    [Fact]
    public async Task SeveralChoicesWithNThroughTheSdkProtocolMethod()
    {
        var body = JsonSerializer.Serialize(new
        {
            model = served.Tiny.Model.Id, n = 3, temperature = 1.0, seed = 5, max_tokens = 8,
            messages = new[] { new { role = "user", content = "which response is better" } },
        });
        var result = await served.SdkClient().CompleteChatAsync(BinaryContent.Create(BinaryData.FromString(body)), new RequestOptions());
        using var json = JsonDocument.Parse(result.GetRawResponse().Content);
        var choices = json.RootElement.GetProperty("choices").EnumerateArray().ToList();
        Assert.Equal(3, choices.Count);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(i, choices[i].GetProperty("index").GetInt32());
            var own = await served.Tiny.Chat.GetResponseAsync([new ChatMessage(ChatRole.User, "which response is better")],
                new ChatOptions { Temperature = 1, Seed = 5 + i, MaxOutputTokens = 8 });
            Assert.Equal(own.Text, choices[i].GetProperty("message").GetProperty("content").GetString());
        }
        Assert.True(json.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32() >= 3);
    }

    [Fact]
    public async Task StreamedEventsEndWithDone()
    {
        using var http = served.Http();
        var request = $$"""{"model":"{{served.Tiny.Model.Id}}","stream":true,"temperature":0,"max_tokens":6,"messages":[{"role":"user","content":"hi"}]}""";
        using var response = await http.PostAsync("/v1/chat/completions", new StringContent(request, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        var events = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.All(events, e => Assert.StartsWith("data: ", e));
        Assert.Equal("data: [DONE]", events[^1]);
        Assert.Contains("\"finish_reason\":", events[^2]);
    }

    [Fact]
    public async Task RawCompletionEqualsRlhfGenerateGreedy()
    {
        const string prompt = "the reward model ranks which response";
        var r = RlhfProcess.Run("generate", "--model", served.Tiny.Dir, "--prompt", prompt, "--greedy", "--max-new-tokens", "10");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var http = served.Http();
        var body = JsonSerializer.Serialize(new { model = served.Tiny.Model.Id, prompt, temperature = 0, max_tokens = 10 });
        using var response = await http.PostAsync("/v1/completions", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var completion = JsonSerializer.Deserialize<CompletionResponse>(await response.Content.ReadAsStringAsync(), OpenAiWire.Json)!;
        Assert.Equal(r.Stdout, completion.Choices.Single().Text + Environment.NewLine);
        Assert.Equal("text_completion", completion.Object);

        var models = JsonSerializer.Deserialize<ModelList>(await http.GetStringAsync("/v1/models"), OpenAiWire.Json)!;
        Assert.Equal(served.Tiny.Model.Id, models.Data.Single().Id);
    }

    [Fact]
    public async Task ErrorsAreOpenAiErrorsWithTheRightStatus()
    {
        var wrongKey = await Assert.ThrowsAsync<ClientResultException>(() => served.SdkClient(key: "wrong").AsIChatClient().GetResponseAsync(Ask(), Greedy));
        Assert.Equal(401, wrongKey.Status);
        var unknown = await Assert.ThrowsAsync<ClientResultException>(() => served.SdkClient(model: "no-such-model").AsIChatClient().GetResponseAsync(Ask(), Greedy));
        Assert.Equal(404, unknown.Status);
        Assert.Contains("no-such-model", unknown.Message);
        var tooLong = await Assert.ThrowsAsync<ClientResultException>(() =>
            served.SdkClient().AsIChatClient().GetResponseAsync(Ask(), new ChatOptions { MaxOutputTokens = served.Tiny.Model.ContextLength + 1 }));
        Assert.Equal(400, tooLong.Status);

        using var http = served.Http();
        using var malformed = await http.PostAsync("/v1/chat/completions", new StringContent("{\"model\": ", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        var error = JsonSerializer.Deserialize<ErrorResponse>(await malformed.Content.ReadAsStringAsync(), OpenAiWire.Json)!;
        Assert.Equal("invalid_request_error", error.Error.Type);
        Assert.Contains("malformed JSON", error.Error.Message);

        using var anonymous = new HttpClient { BaseAddress = new Uri(served.Server.Url) };
        using var missing = await anonymous.GetAsync("/v1/models");
        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        Assert.Contains("invalid_api_key", await missing.Content.ReadAsStringAsync());
    }
}
