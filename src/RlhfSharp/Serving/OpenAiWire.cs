using System.Text.Json;
using System.Text.Json.Serialization;

namespace RlhfSharp.Serving;

// The OpenAI-compatible wire format of `rlhf serve`, in one file so that a client (a test, a rollout worker handing
// generation to an external engine such as vLLM) can reuse the same types. Only the fields the server reads or writes
// are declared; unknown request fields are ignored. Serialise with OpenAiWire.Json.

/// <summary>Serializer settings for the wire types (nulls omitted).</summary>
public static class OpenAiWire
{
    /// <summary>Web defaults, nulls left out, text not HTML-escaped (the body is JSON, never embedded in a page).</summary>
    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>"stop" is a string or a list of strings (or null).</summary>
    public static IReadOnlyList<string> StopList(JsonElement? stop) => stop switch
    {
        null => [],
        { ValueKind: JsonValueKind.Null or JsonValueKind.Undefined } => [],
        { ValueKind: JsonValueKind.String } s => [s.GetString()!],
        { ValueKind: JsonValueKind.Array } a => a.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString()!
            : throw new JsonException("stop must be a string or a list of strings")).ToList(),
        _ => throw new JsonException("stop must be a string or a list of strings"),
    };

    /// <summary>A message's "content": a string, or a list of parts whose "text" fields are joined.</summary>
    public static string ContentText(JsonElement? content) => content switch
    {
        null => "",
        { ValueKind: JsonValueKind.Null } => "",
        { ValueKind: JsonValueKind.String } s => s.GetString()!,
        { ValueKind: JsonValueKind.Array } a => string.Concat(a.EnumerateArray().Select(part =>
            part.TryGetProperty("type", out var type) && type.GetString() == "text" && part.TryGetProperty("text", out var text)
                ? text.GetString() : throw new JsonException("only text content parts are supported"))),
        _ => throw new JsonException("content must be a string or a list of text parts"),
    };
}

/// <summary>Decoding fields shared by both request kinds.</summary>
public abstract record SamplingRequest
{
    /// <summary>The served model's id (the folder's name); required.</summary>
    [JsonPropertyName("model")] public string? Model { get; init; }
    /// <summary>Number of choices (default 1); choice i samples with seed + i.</summary>
    [JsonPropertyName("n")] public int? N { get; init; }
    /// <summary>0 means greedy.</summary>
    [JsonPropertyName("temperature")] public double? Temperature { get; init; }
    /// <summary>Nucleus sampling, in (0, 1].</summary>
    [JsonPropertyName("top_p")] public double? TopP { get; init; }
    /// <summary>Not in OpenAI's API; vLLM's extension.</summary>
    [JsonPropertyName("top_k")] public int? TopK { get; init; }
    /// <summary>Most new tokens per choice; prompt + max_tokens must fit the context.</summary>
    [JsonPropertyName("max_tokens")] public int? MaxTokens { get; init; }
    /// <summary>A string or a list of strings; the text is cut before the first one.</summary>
    [JsonPropertyName("stop")] public JsonElement? Stop { get; init; }
    /// <summary>Seed of the sampler (reproducible samples).</summary>
    [JsonPropertyName("seed")] public long? Seed { get; init; }
    /// <summary>Send server-sent events, ending with <c>data: [DONE]</c>.</summary>
    [JsonPropertyName("stream")] public bool? Stream { get; init; }
    /// <summary>Streaming options (include_usage).</summary>
    [JsonPropertyName("stream_options")] public StreamOptions? StreamOptions { get; init; }
}

/// <summary>stream_options: include_usage adds a last chunk with usage and no choices.</summary>
public sealed record StreamOptions([property: JsonPropertyName("include_usage")] bool? IncludeUsage);

/// <summary>POST /v1/chat/completions.</summary>
public sealed record ChatCompletionRequest : SamplingRequest
{
    /// <summary>The conversation, rendered in the folder's chat format.</summary>
    [JsonPropertyName("messages")] public List<WireMessage>? Messages { get; init; }
    /// <summary>The newer name of max_tokens (the OpenAI SDKs send this one); wins when both are given.</summary>
    [JsonPropertyName("max_completion_tokens")] public int? MaxCompletionTokens { get; init; }
}

/// <summary>POST /v1/completions: a raw prompt, as text or as token ids.</summary>
public sealed record CompletionRequest : SamplingRequest
{
    /// <summary>The raw text to continue (the tokenizer's post-processor applies, as in <c>rlhf generate</c>), or the
    /// prompt's token ids as a list of ints (OpenAI's API accepts both; ids are used as they are).</summary>
    [JsonPropertyName("prompt")] public JsonElement? Prompt { get; init; }
    /// <summary>Return log-probs of the sampled tokens in <c>choices[i].logprobs</c> (OpenAI allows 0..5 top
    /// alternatives; only the sampled token's log-prob is given here, so any value 0..5 gives the same).</summary>
    [JsonPropertyName("logprobs")] public int? LogProbs { get; init; }
    /// <summary>vLLM's extension: <c>logprobs.tokens</c> holds "token_id:N" instead of each token's text, so a client
    /// gets the exact ids without re-tokenizing.</summary>
    [JsonPropertyName("return_tokens_as_token_ids")] public bool? ReturnTokensAsTokenIds { get; init; }
    /// <summary>vLLM's extension: more token ids that end a response (kept in the output, as vLLM keeps them).</summary>
    [JsonPropertyName("stop_token_ids")] public List<int>? StopTokenIds { get; init; }
    /// <summary>vLLM's extension: do not stop at the model's own end tokens (only at stop_token_ids or max_tokens).</summary>
    [JsonPropertyName("ignore_eos")] public bool? IgnoreEos { get; init; }

    /// <summary>The prompt as token ids when it is a list of ints, null when it is text; a <see cref="JsonException"/>
    /// for anything else (a batch of prompts included, which this server does not take).</summary>
    public IReadOnlyList<int>? PromptTokenIds() => Prompt switch
    {
        { ValueKind: JsonValueKind.Array } a => a.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out var id) && id >= 0 ? id
            : throw new JsonException("prompt must be a string or one list of token ids (non-negative ints)")).ToList(),
        _ => null,
    };

    /// <summary>The prompt as text when it is a string, else null.</summary>
    public string? PromptText() => Prompt is { ValueKind: JsonValueKind.String } s ? s.GetString() : null;
}

/// <summary>A completion choice's log-probs in OpenAI's legacy completions layout (as vLLM writes it); this server
/// gives the sampled tokens' log-probs only (no top alternatives: top_logprobs is left out).</summary>
public sealed record CompletionLogProbs(
    [property: JsonPropertyName("tokens")] List<string> Tokens,
    [property: JsonPropertyName("token_logprobs")] List<float> TokenLogProbs,
    [property: JsonPropertyName("top_logprobs")] List<Dictionary<string, float>?>? TopLogProbs,
    [property: JsonPropertyName("text_offset")] List<int> TextOffset);

/// <summary>POST /v1/load_lora_adapter (vLLM's dynamic LoRA endpoint): serve the PEFT adapter at lora_path under lora_name.</summary>
public sealed record LoadLoraAdapterRequest(
    [property: JsonPropertyName("lora_name")] string? LoraName,
    [property: JsonPropertyName("lora_path")] string? LoraPath);

/// <summary>POST /v1/unload_lora_adapter (vLLM's): stop serving lora_name.</summary>
public sealed record UnloadLoraAdapterRequest([property: JsonPropertyName("lora_name")] string? LoraName);

/// <summary>POST /v1/load_weights (this server's own; vLLM has no such endpoint): replace the served model's weights
/// with those of the HF folder at model_path (same architecture and tokenizer), keeping its name.</summary>
public sealed record LoadWeightsRequest([property: JsonPropertyName("model_path")] string? ModelPath);

/// <summary>A chat message; content is a string or a list of text parts in requests, a string in responses.</summary>
public sealed record WireMessage
{
    /// <summary>system, user, assistant (other roles render like user turns).</summary>
    [JsonPropertyName("role")] public string? Role { get; init; }
    /// <summary>A string or a list of text parts.</summary>
    [JsonPropertyName("content")] public JsonElement? Content { get; init; }
}

/// <summary>A response message or a streamed delta.</summary>
public sealed record WireDelta(
    [property: JsonPropertyName("role")] string? Role,
    [property: JsonPropertyName("content")] string? Content);

/// <summary>Token counts.</summary>
public sealed record WireUsage(
    [property: JsonPropertyName("prompt_tokens")] int PromptTokens,
    [property: JsonPropertyName("completion_tokens")] int CompletionTokens,
    [property: JsonPropertyName("total_tokens")] int TotalTokens);

/// <summary>One chat choice.</summary>
public sealed record ChatChoice(
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("message")] WireDelta Message,
    [property: JsonPropertyName("finish_reason")] string? FinishReason);

/// <summary>The chat completion (object "chat.completion").</summary>
public sealed record ChatCompletionResponse(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("created")] long Created,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("choices")] List<ChatChoice> Choices,
    [property: JsonPropertyName("usage")] WireUsage Usage);

/// <summary>One streamed chat choice.</summary>
public sealed record ChatChunkChoice(
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("delta")] WireDelta Delta,
    [property: JsonPropertyName("finish_reason")] string? FinishReason);

/// <summary>A streamed chat chunk (object "chat.completion.chunk"); the usage chunk has no choices.</summary>
public sealed record ChatCompletionChunk(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("created")] long Created,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("choices")] List<ChatChunkChoice> Choices,
    [property: JsonPropertyName("usage")] WireUsage? Usage = null);

/// <summary>One completion choice (also the streamed form); logprobs only when asked for.</summary>
public sealed record CompletionChoice(
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("text")] string Text,
    [property: JsonPropertyName("finish_reason")] string? FinishReason,
    [property: JsonPropertyName("logprobs")] CompletionLogProbs? LogProbs = null);

/// <summary>A completion or a streamed completion chunk (object "text_completion").</summary>
public sealed record CompletionResponse(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("created")] long Created,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("choices")] List<CompletionChoice> Choices,
    [property: JsonPropertyName("usage")] WireUsage? Usage = null);

/// <summary>GET /v1/models.</summary>
public sealed record ModelList(
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("data")] List<ModelCard> Data);

/// <summary>One served model.</summary>
public sealed record ModelCard(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("created")] long Created,
    [property: JsonPropertyName("owned_by")] string OwnedBy);

/// <summary>OpenAI's error body: {"error": {...}}.</summary>
public sealed record ErrorResponse([property: JsonPropertyName("error")] ErrorDetail Error);

/// <summary>type: invalid_request_error / authentication_error / server_error; code e.g. model_not_found.</summary>
public sealed record ErrorDetail(
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("param")] string? Param,
    [property: JsonPropertyName("code")] string? Code);
