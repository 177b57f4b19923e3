using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using RlhfSharp.Generation;
using static TorchSharp.torch;
using AiChatMessage = Microsoft.Extensions.AI.ChatMessage;
using TurnMessage = RlhfSharp.Tokenization.ChatMessage;

namespace RlhfSharp.Serving;

/// <summary>
/// A <c>Microsoft.Extensions.AI</c> <see cref="IChatClient"/> over a trained model folder. Messages are rendered in the
/// folder's chat format (as <c>rlhf generate --chat</c>); the reply ends at the folder's end of turn / EOS ids.
/// <para>
/// <see cref="ChatOptions"/> map as follows: <c>Temperature</c> (0 = greedy, null = 1), <c>TopP</c>, <c>TopK</c>,
/// <c>MaxOutputTokens</c> (null = the rest of the context), <c>StopSequences</c> (the text is cut before the first one),
/// <c>Seed</c>. <c>ResponseFormat</c> other than text, and tools, throw <see cref="NotSupportedException"/>.
/// </para>
/// <para>
/// Streaming is token by token; each update holds the text that the new token completed, so a multi-byte character is
/// never split. Usage (prompt, output and total tokens) is reported on the response, and as a <see cref="UsageContent"/>
/// in the last streamed update. Cancellation is checked before every token. Concurrent callers are serialised: one
/// response is generated at a time (see <see cref="LocalModel"/>).
/// </para>
/// </summary>
public sealed class ModelChatClient : IChatClient
{
    readonly bool _ownsModel;

    /// <summary>Wraps an already loaded model; <paramref name="ownsModel"/>: dispose it with this client.</summary>
    public ModelChatClient(LocalModel model, bool ownsModel = false)
    {
        Model = model;
        _ownsModel = ownsModel;
        Metadata = new ChatClientMetadata("rlhfsharp", providerUri: null, defaultModelId: model.Id);
    }

    /// <summary>Loads the model folder at <paramref name="folder"/> (CPU unless <paramref name="device"/> says otherwise).</summary>
    public ModelChatClient(string folder, Device? device = null) : this(LocalModel.Load(folder, device), ownsModel: true) { }

    /// <summary>The loaded model.</summary>
    public LocalModel Model { get; }

    /// <summary>Provider "rlhfsharp", model id = the folder's name.</summary>
    public ChatClientMetadata Metadata { get; }

    /// <summary>Maps <paramref name="options"/> to decoding settings; throws <see cref="NotSupportedException"/> for
    /// what a local model cannot do (structured output, tools).</summary>
    public static TextGenerationOptions MapOptions(ChatOptions? options)
    {
        if (options is null) return new TextGenerationOptions();
        if (options.ResponseFormat is not null and not ChatResponseFormatText)
            throw new NotSupportedException("ResponseFormat (JSON / structured output) is not supported by RlhfSharp's ModelChatClient: the model answers in plain text. Leave ChatOptions.ResponseFormat null or Text.");
        if (options.Tools is { Count: > 0 })
            throw new NotSupportedException("tools are not supported by RlhfSharp's ModelChatClient.");
        return new TextGenerationOptions
        {
            MaxTokens = options.MaxOutputTokens, Temperature = options.Temperature, TopP = options.TopP, TopK = options.TopK,
            Seed = options.Seed, StopSequences = options.StopSequences?.ToList() ?? [],
        };
    }

    /// <summary>The prompt ids for <paramref name="messages"/> in the folder's chat format.</summary>
    public IReadOnlyList<int> EncodePrompt(IEnumerable<AiChatMessage> messages) =>
        Model.EncodeChat(messages.Select(m => new TurnMessage(m.Role.Value, m.Text)));

    /// <inheritdoc/>
    public async Task<ChatResponse> GetResponseAsync(IEnumerable<AiChatMessage> messages, ChatOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        var settings = MapOptions(options);
        var prompt = EncodePrompt(messages);
        var text = new System.Text.StringBuilder();
        GenerationUpdate? last = null;
        await foreach (var update in Model.GenerateAsync(prompt, settings, cancellationToken))
        {
            text.Append(update.Text);
            last = update;
        }
        return new ChatResponse(new AiChatMessage(ChatRole.Assistant, text.ToString()))
        {
            ResponseId = NewId(), ModelId = Model.Id, CreatedAt = DateTimeOffset.UtcNow,
            FinishReason = Reason(last!.Finish), Usage = Usage(last),
        };
    }

    /// <inheritdoc/>
    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<AiChatMessage> messages,
        ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var settings = MapOptions(options);
        var prompt = EncodePrompt(messages);
        string responseId = NewId(), messageId = NewId();
        var created = DateTimeOffset.UtcNow;
        await foreach (var update in Model.GenerateAsync(prompt, settings, cancellationToken))
        {
            var contents = new List<AIContent>();
            if (update.Text.Length > 0) contents.Add(new TextContent(update.Text));
            if (update.Finish is not null) contents.Add(new UsageContent(Usage(update)));
            if (contents.Count == 0) continue;
            yield return new ChatResponseUpdate(ChatRole.Assistant, contents)
            {
                ResponseId = responseId, MessageId = messageId, ModelId = Model.Id, CreatedAt = created,
                FinishReason = update.Finish is null ? null : Reason(update.Finish),
            };
        }
    }

    /// <summary>Usage for an update's running token counts.</summary>
    public static UsageDetails Usage(GenerationUpdate update) => new()
    {
        InputTokenCount = update.PromptTokens, OutputTokenCount = update.OutputTokens, TotalTokenCount = update.PromptTokens + update.OutputTokens,
    };

    /// <summary>Stop → <see cref="ChatFinishReason.Stop"/>, Length → <see cref="ChatFinishReason.Length"/>.</summary>
    public static ChatFinishReason? Reason(GenerationFinish? finish) => finish switch
    {
        GenerationFinish.Stop => ChatFinishReason.Stop,
        GenerationFinish.Length => ChatFinishReason.Length,
        _ => null,
    };

    static string NewId() => "chatcmpl-" + Guid.NewGuid().ToString("N")[..24];

    /// <inheritdoc/>
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null) return null;
        if (serviceType == typeof(ChatClientMetadata)) return Metadata;
        if (serviceType == typeof(LocalModel)) return Model;
        return serviceType.IsInstanceOfType(this) ? this : null;
    }

    /// <summary>Frees the model when this client loaded it.</summary>
    public void Dispose()
    {
        if (_ownsModel) Model.Dispose();
    }
}
