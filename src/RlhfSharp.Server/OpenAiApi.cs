using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.AI;
using RlhfSharp.Serving;

namespace RlhfSharp.Server;

/// <summary>
/// The endpoints of <see cref="OpenAiServer"/>. Chat goes through <see cref="ModelChatClient"/> (the same
/// <c>IChatClient</c> a .NET program uses); raw completions through <see cref="LocalModel"/>, with the prompt as text
/// or as token ids and vLLM's token-id extensions (<c>return_tokens_as_token_ids</c>, <c>stop_token_ids</c>,
/// <c>ignore_eos</c>), so an RL trainer can hand it its rollouts. Weights can change at run time: vLLM's
/// <c>/v1/load_lora_adapter</c> and <c>/v1/unload_lora_adapter</c>, and this server's own <c>/v1/load_weights</c>
/// (a full HF folder; vLLM has no such endpoint). Errors are OpenAI's error JSON: 400 for malformed JSON and invalid
/// fields (max_tokens over the context included), 401 for a missing or wrong key, 404 for an unknown model.
/// </summary>
public static class OpenAiApi
{
    /// <summary>Most choices per request.</summary>
    public const int MaxChoices = 16;
    /// <summary>OpenAI's default max_tokens for /v1/completions (capped to what the context leaves).</summary>
    public const int DefaultCompletionTokens = 16;

    sealed class ApiError(int status, string message, string? param = null, string? code = null, string type = "invalid_request_error") : Exception(message)
    {
        public int Status => status;
        public ErrorResponse Body => new(new ErrorDetail(Message, type, param, code));
    }

    /// <summary>Maps the routes (and the key check when <paramref name="apiKey"/> is set) onto <paramref name="app"/>.</summary>
    public static void Map(WebApplication app, LocalModel model, string? apiKey, TextWriter errorLog)
    {
        var served = new ServedModels(model);
        app.Lifetime.ApplicationStopped.Register(served.DisposeAdapters);
        if (apiKey is not null)
        {
            var expected = Encoding.UTF8.GetBytes(apiKey);
            app.Use(async (ctx, next) =>
            {
                var header = ctx.Request.Headers.Authorization.ToString();
                var given = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? Encoding.UTF8.GetBytes(header[7..].Trim()) : [];
                if (!CryptographicOperations.FixedTimeEquals(given, expected))
                {
                    await WriteError(ctx, new ApiError(401, given.Length == 0
                        ? "missing API key: send 'Authorization: Bearer KEY' (the server was started with --api-key)"
                        : "incorrect API key", code: "invalid_api_key"));
                    return;
                }
                await next(ctx);
            });
        }

        app.MapGet("/v1/models", () => Results.Json(new ModelList("list",
            [new ModelCard(model.Id, "model", Created(), "rlhfsharp"), .. served.AdapterNames.Order().Select(name => new ModelCard(name, "model", Created(), "rlhfsharp"))]),
            OpenAiWire.Json));

        app.MapPost("/v1/chat/completions", (HttpContext ctx) => Handle(ctx, errorLog, async () =>
        {
            var request = await ReadBody<ChatCompletionRequest>(ctx);
            var (target, chat) = Resolve(request, served);
            await ChatAsync(ctx, request, target, chat);
        }));
        app.MapPost("/v1/completions", (HttpContext ctx) => Handle(ctx, errorLog, async () =>
        {
            var request = await ReadBody<CompletionRequest>(ctx);
            await CompletionAsync(ctx, request, Resolve(request, served).Model);
        }));
        app.MapPost("/v1/load_lora_adapter", (HttpContext ctx) => Handle(ctx, errorLog, () => LoadAdapterAsync(ctx, served)));
        app.MapPost("/v1/unload_lora_adapter", (HttpContext ctx) => Handle(ctx, errorLog, () => UnloadAdapterAsync(ctx, served)));
        app.MapPost("/v1/load_weights", (HttpContext ctx) => Handle(ctx, errorLog, () => LoadWeightsAsync(ctx, served)));
    }

    // vLLM answers its LoRA endpoints with a line of text ("Success: ..."); so do these.
    static async Task LoadAdapterAsync(HttpContext ctx, ServedModels served)
    {
        var request = await ReadBody<LoadLoraAdapterRequest>(ctx);
        if (request.LoraName is not { Length: > 0 } name) throw new ApiError(400, "lora_name is required", "lora_name");
        if (request.LoraPath is not { Length: > 0 } path) throw new ApiError(400, "lora_path is required", "lora_path");
        if (!Directory.Exists(path)) throw new ApiError(400, $"lora_path {path} is not a folder on the server", "lora_path");
        if (!served.TryLoadAdapter(name, path)) throw new ApiError(400, $"The lora adapter '{name}' has already been loaded", "lora_name");
        await ctx.Response.WriteAsync($"Success: LoRA adapter '{name}' added successfully.");
    }

    static async Task UnloadAdapterAsync(HttpContext ctx, ServedModels served)
    {
        var request = await ReadBody<UnloadLoraAdapterRequest>(ctx);
        if (request.LoraName is not { Length: > 0 } name) throw new ApiError(400, "lora_name is required", "lora_name");
        if (!await served.UnloadAdapterAsync(name)) throw new ApiError(404, $"The lora adapter '{name}' cannot be found", "lora_name", "model_not_found");
        await ctx.Response.WriteAsync($"Success: LoRA adapter '{name}' removed successfully.");
    }

    static async Task LoadWeightsAsync(HttpContext ctx, ServedModels served)
    {
        var request = await ReadBody<LoadWeightsRequest>(ctx);
        if (request.ModelPath is not { Length: > 0 } path) throw new ApiError(400, "model_path is required", "model_path");
        if (!Directory.Exists(path)) throw new ApiError(400, $"model_path {path} is not a folder on the server", "model_path");
        await served.Base.ReplaceWeightsAsync(path, ctx.RequestAborted);
        await ctx.Response.WriteAsync($"Success: '{served.Base.Id}' now serves the weights of {path}.");
    }

    static (LocalModel Model, ModelChatClient Chat) Resolve(SamplingRequest request, ServedModels served)
    {
        if (string.IsNullOrEmpty(request.Model)) throw new ApiError(400, "model is required", "model");
        return served.Find(request.Model)
            ?? throw new ApiError(404, $"The model '{request.Model}' does not exist; this server serves '{string.Join("', '", served.AdapterNames.Prepend(served.Base.Id))}'", "model", "model_not_found");
    }

    static async Task Handle(HttpContext ctx, TextWriter errorLog, Func<Task> handler)
    {
        try { await handler(); }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested) { }   // the client left
        catch (Exception e) when (!ctx.Response.HasStarted)
        {
            var error = e switch
            {
                ApiError api => api,
                UserError user => new ApiError(400, user.Message),
                NotSupportedException ns => new ApiError(400, ns.Message),
                _ => new ApiError(500, "internal error: " + e.Message, type: "server_error"),
            };
            if (error.Status >= 500) errorLog.WriteLine($"{ctx.Request.Path}: {e}");
            await WriteError(ctx, error);
        }
    }

    static async Task ChatAsync(HttpContext ctx, ChatCompletionRequest request, LocalModel model, ModelChatClient chat)
    {
        if (request.Messages is not { Count: > 0 }) throw new ApiError(400, "messages must be a non-empty list", "messages");
        List<Microsoft.Extensions.AI.ChatMessage> messages;
        try
        {
            messages = request.Messages.Select(m => new Microsoft.Extensions.AI.ChatMessage(
                new ChatRole(m.Role is { Length: > 0 } r ? r : throw new ApiError(400, "every message needs a role", "messages")),
                OpenAiWire.ContentText(m.Content))).ToList();
        }
        catch (JsonException e) { throw new ApiError(400, e.Message, "messages"); }
        var settings = Settings(request, request.MaxCompletionTokens ?? request.MaxTokens);
        int n = Choices(request);
        var prompt = chat.EncodePrompt(messages);
        LimitFor(model, prompt.Count, settings.MaxTokens);
        string id = "chatcmpl-" + Guid.NewGuid().ToString("N")[..24];
        long created = Created();

        ChatOptions OptionsFor(int choice) => new()
        {
            Temperature = (float?)settings.Temperature, TopP = (float?)settings.TopP, TopK = settings.TopK, MaxOutputTokens = settings.MaxTokens,
            StopSequences = settings.StopSequences.ToList(), Seed = settings.Seed + choice,
        };

        if (request.Stream != true)
        {
            var choices = new List<ChatChoice>();
            int completionTokens = 0;
            for (int i = 0; i < n; i++)
            {
                var response = await chat.GetResponseAsync(messages, OptionsFor(i), ctx.RequestAborted);
                choices.Add(new ChatChoice(i, new WireDelta("assistant", response.Text), Reason(response.FinishReason)));
                completionTokens += (int)(response.Usage?.OutputTokenCount ?? 0);
            }
            await ctx.Response.WriteAsJsonAsync(new ChatCompletionResponse(id, "chat.completion", created, model.Id, choices,
                new WireUsage(prompt.Count, completionTokens, prompt.Count + completionTokens)), OpenAiWire.Json);
            return;
        }

        StartEvents(ctx);
        int outputTokens = 0;
        for (int i = 0; i < n; i++)
        {
            await SendEvent(ctx, new ChatCompletionChunk(id, "chat.completion.chunk", created, model.Id, [new ChatChunkChoice(i, new WireDelta("assistant", ""), null)]));
            await foreach (var update in chat.GetStreamingResponseAsync(messages, OptionsFor(i), ctx.RequestAborted))
            {
                if (update.Text.Length > 0)
                    await SendEvent(ctx, new ChatCompletionChunk(id, "chat.completion.chunk", created, model.Id, [new ChatChunkChoice(i, new WireDelta(null, update.Text), null)]));
                if (update.FinishReason is { } finish)
                {
                    outputTokens += (int)(update.Contents.OfType<UsageContent>().FirstOrDefault()?.Details.OutputTokenCount ?? 0);
                    await SendEvent(ctx, new ChatCompletionChunk(id, "chat.completion.chunk", created, model.Id, [new ChatChunkChoice(i, new WireDelta(null, null), Reason(finish))]));
                }
            }
        }
        if (request.StreamOptions?.IncludeUsage == true)
            await SendEvent(ctx, new ChatCompletionChunk(id, "chat.completion.chunk", created, model.Id, [], new WireUsage(prompt.Count, outputTokens, prompt.Count + outputTokens)));
        await EndEvents(ctx);
    }

    static async Task CompletionAsync(HttpContext ctx, CompletionRequest request, LocalModel model)
    {
        IReadOnlyList<int>? ids;
        try { ids = request.PromptTokenIds(); }
        catch (JsonException e) { throw new ApiError(400, e.Message, "prompt"); }
        if (ids is { Count: 0 }) throw new ApiError(400, "prompt must not be an empty list of token ids", "prompt");
        if (ids?.FirstOrDefault(id => id >= model.VocabSize, -1) is int bad and >= 0) throw new ApiError(400, $"prompt token id {bad} is outside the vocabulary (0..{model.VocabSize - 1})", "prompt");
        var prompt = ids ?? (request.PromptText() is { Length: > 0 } text ? model.EncodeRaw(text)
            : throw new ApiError(400, "prompt must be a non-empty string or a list of token ids", "prompt"));
        if (request.LogProbs is < 0 or > 20) throw new ApiError(400, $"logprobs must be in 0..20 (got {request.LogProbs})", "logprobs");
        bool wantLogProbs = request.LogProbs is not null, tokenIds = request.ReturnTokensAsTokenIds == true;
        int? requested = request.MaxTokens;
        if (requested is null && prompt.Count < model.ContextLength) requested = Math.Min(DefaultCompletionTokens, model.ContextLength - prompt.Count);
        var settings = Settings(request, requested) with
        {
            StopTokenIds = request.StopTokenIds ?? [], IgnoreEos = request.IgnoreEos == true, LogProbs = wantLogProbs,
        };
        int n = Choices(request);
        LimitFor(model, prompt.Count, settings.MaxTokens);
        string id = "cmpl-" + Guid.NewGuid().ToString("N")[..24];
        long created = Created();
        bool stream = request.Stream == true;
        if (stream) StartEvents(ctx);

        var choices = new List<CompletionChoice>();
        int outputTokens = 0;
        for (int i = 0; i < n; i++)
        {
            var choiceText = new StringBuilder();
            var logProbs = wantLogProbs ? new CompletionLogProbs([], [], null, []) : null;
            await foreach (var update in model.GenerateAsync(prompt, settings with { Seed = settings.Seed + i }, ctx.RequestAborted))
            {
                string? finish = update.Finish is { } f ? Reason(ModelChatClient.Reason(f)) : null;
                if (update.Finish is not null) outputTokens += update.OutputTokens;
                // vLLM's layout: each generated token (stop token included) as its text or as "token_id:N", its log-prob,
                // and where its text starts in the choice's text.
                var tokenLogProbs = wantLogProbs ? new CompletionLogProbs(
                    [tokenIds ? $"token_id:{update.TokenId}" : model.Folder.Tokenizer.Decode([update.TokenId], skipSpecialTokens: false)],
                    [update.LogProb ?? 0f], null, [choiceText.Length]) : null;
                if (stream && (update.Text.Length > 0 || finish is not null || wantLogProbs))
                    await SendEvent(ctx, new CompletionResponse(id, "text_completion", created, model.Id, [new CompletionChoice(i, update.Text, finish, tokenLogProbs)]));
                if (logProbs is not null && tokenLogProbs is not null)
                {
                    logProbs.Tokens.AddRange(tokenLogProbs.Tokens); logProbs.TokenLogProbs.AddRange(tokenLogProbs.TokenLogProbs); logProbs.TextOffset.AddRange(tokenLogProbs.TextOffset);
                }
                choiceText.Append(update.Text);
                if (!stream && finish is not null) choices.Add(new CompletionChoice(i, choiceText.ToString(), finish, logProbs));
            }
        }
        var usage = new WireUsage(prompt.Count, outputTokens, prompt.Count + outputTokens);
        if (stream)
        {
            if (request.StreamOptions?.IncludeUsage == true) await SendEvent(ctx, new CompletionResponse(id, "text_completion", created, model.Id, [], usage));
            await EndEvents(ctx);
        }
        else await ctx.Response.WriteAsJsonAsync(new CompletionResponse(id, "text_completion", created, model.Id, choices, usage), OpenAiWire.Json);
    }

    static async Task<T> ReadBody<T>(HttpContext ctx) where T : class
    {
        try
        {
            return await JsonSerializer.DeserializeAsync<T>(ctx.Request.Body, OpenAiWire.Json, ctx.RequestAborted)
                ?? throw new ApiError(400, "the request body must be a JSON object");
        }
        catch (JsonException e) { throw new ApiError(400, "malformed JSON in the request body: " + e.Message.Split('\n')[0]); }
    }

    static TextGenerationOptions Settings(SamplingRequest request, int? maxTokens)
    {
        if (request.Temperature is < 0 or > 2) throw new ApiError(400, $"temperature must be in [0, 2] (got {request.Temperature})", "temperature");
        if (request.TopP is double p && !(p > 0 && p <= 1)) throw new ApiError(400, $"top_p must be in (0, 1] (got {p})", "top_p");
        if (request.TopK is < 0) throw new ApiError(400, $"top_k must be >= 0 (got {request.TopK})", "top_k");
        IReadOnlyList<string> stops;
        try { stops = OpenAiWire.StopList(request.Stop); }
        catch (JsonException e) { throw new ApiError(400, e.Message, "stop"); }
        return new TextGenerationOptions
        {
            MaxTokens = maxTokens, Temperature = request.Temperature, TopP = request.TopP, TopK = request.TopK, Seed = request.Seed, StopSequences = stops,
        };
    }

    static int Choices(SamplingRequest request)
    {
        int n = request.N ?? 1;
        if (n < 1 || n > MaxChoices) throw new ApiError(400, $"n must be in 1..{MaxChoices} (got {n})", "n");
        return n;
    }

    static void LimitFor(LocalModel model, int promptTokens, int? maxTokens)
    {
        try { model.TokenLimit(promptTokens, maxTokens); }
        catch (UserError e) { throw new ApiError(400, e.Message, "max_tokens", "context_length_exceeded"); }
    }

    static string? Reason(ChatFinishReason? finish) =>
        finish == ChatFinishReason.Length ? "length" : finish == ChatFinishReason.Stop ? "stop" : finish?.Value;

    static long Created() => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    static void StartEvents(HttpContext ctx)
    {
        ctx.Response.ContentType = "text/event-stream";
        ctx.Response.Headers.CacheControl = "no-cache";
    }

    static async Task SendEvent<T>(HttpContext ctx, T payload)
    {
        await ctx.Response.WriteAsync("data: " + JsonSerializer.Serialize(payload, OpenAiWire.Json) + "\n\n", ctx.RequestAborted);
        await ctx.Response.Body.FlushAsync(ctx.RequestAborted);
    }

    static async Task EndEvents(HttpContext ctx)
    {
        await ctx.Response.WriteAsync("data: [DONE]\n\n", ctx.RequestAborted);
        await ctx.Response.Body.FlushAsync(ctx.RequestAborted);
    }

    static async Task WriteError(HttpContext ctx, ApiError error)
    {
        ctx.Response.StatusCode = error.Status;
        await ctx.Response.WriteAsJsonAsync(error.Body, OpenAiWire.Json);
    }
}
