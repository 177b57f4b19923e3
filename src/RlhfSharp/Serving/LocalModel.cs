using System.Runtime.CompilerServices;
using System.Threading.Channels;
using RlhfSharp.Checkpoints;
using RlhfSharp.Generation;
using RlhfSharp.Models;
using RlhfSharp.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Serving;

/// <summary>
/// A model folder loaded once for serving: its causal LM, tokenizer, chat format and stop ids, and a token-by-token
/// generator with a KV cache. <see cref="ModelChatClient"/> (the <c>IChatClient</c>) and <c>rlhf serve</c> share it.
/// <para>
/// Concurrency: one generation runs at a time. Callers are serialised by a semaphore taken for the whole of a
/// response (not batched); the others wait their turn asynchronously, and a caller that is cancelled while waiting
/// leaves the queue. Cancellation is checked between tokens, so a response stops within one forward pass.
/// </para>
/// <para>
/// The tensor work of each response runs on one dedicated thread (TorchSharp's dispose scopes are thread-static),
/// which hands pieces of text to the async caller through a channel.
/// </para>
/// </summary>
public sealed class LocalModel : IDisposable
{
    CausalLM _model;
    readonly SemaphoreSlim _gate = new(1, 1);
    readonly IDisposable? _adapters;   // a LoRA adapter attached to _model, freed with it
    bool _unloaded;

    LocalModel(ModelFolder folder, CausalLM model, Device device, string id, IDisposable? adapters = null)
    {
        (Folder, _model, Device, Id, _adapters) = (folder, model, device, id, adapters);
    }

    /// <summary>The model folder (tokenizer, chat format, stop ids, pad id, context length).</summary>
    public ModelFolder Folder { get; }
    /// <summary>Where the weights live.</summary>
    public Device Device { get; }
    /// <summary>The name callers use for the model: by default the folder's own name.</summary>
    public string Id { get; }
    /// <summary>Longest prompt + response in tokens.</summary>
    public int ContextLength => Folder.ContextLength;

    /// <summary>Opens and loads <paramref name="folder"/> on <paramref name="device"/> (CPU by default).</summary>
    public static LocalModel Load(string folder, Device? device = null, string? id = null)
    {
        var opened = ModelFolder.Open(folder);
        device ??= CPU;
        var model = opened.LoadCausalLM(device);
        model.eval();
        id ??= Path.GetFileName(Path.GetFullPath(folder).TrimEnd(Path.DirectorySeparatorChar));
        return new LocalModel(opened, model, device, id);
    }

    /// <summary>Vocabulary rows of the model: a token id must be below this.</summary>
    public int VocabSize => _model.Config.VocabSize;

    /// <summary>
    /// The same base folder with the PEFT LoRA adapter of <paramref name="adapterDir"/> attached (not merged, so it
    /// computes exactly what a trainer with the adapter attached computes), served as <paramref name="id"/>. It loads
    /// its own copy of the base weights: one model's memory per adapter.
    /// </summary>
    public LocalModel WithAdapter(string adapterDir, string id)
    {
        var (model, adapters) = AdapterMerge.LoadCausalLM(Folder.Path, adapterDir, Device);
        model.eval();
        return new LocalModel(Folder, model, Device, id, adapters);
    }

    /// <summary>
    /// Replaces the weights with those of the HF folder <paramref name="folder"/> (an RL trainer's policy of the same
    /// architecture; the tokenizer stays this model's), once the response in progress, if any, has finished.
    /// </summary>
    public async Task ReplaceWeightsAsync(string folder, CancellationToken cancellationToken = default)
    {
        var loaded = ModelFolder.Open(folder).LoadCausalLM(Device);
        if (loaded.Config.VocabSize != VocabSize || loaded.Config.ModelType != _model.Config.ModelType)
        {
            loaded.Dispose();
            throw new UserError($"{folder}: a {loaded.Config.ModelType} with {loaded.Config.VocabSize} vocabulary rows cannot replace the served {_model.Config.ModelType} with {VocabSize}");
        }
        loaded.eval();
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var old = _model;
            _model = loaded;
            old.Dispose();
        }
        finally { _gate.Release(); }
    }

    /// <summary>Frees the weights once the response in progress, if any, has finished; later requests are refused.</summary>
    public async Task UnloadAsync()
    {
        await _gate.WaitAsync();
        try
        {
            if (_unloaded) return;
            _unloaded = true;
            _adapters?.Dispose();
            _model.Dispose();
        }
        finally { _gate.Release(); }
    }

    /// <summary>Prompt ids for a conversation: the folder's chat format with the generation prompt; the template writes
    /// its own BOS (as <c>rlhf generate --chat</c>).</summary>
    public IReadOnlyList<int> EncodeChat(IEnumerable<Tokenization.ChatMessage> messages) =>
        Folder.Tokenizer.Encode(Folder.ChatFormat.Render(messages.ToList(), addGenerationPrompt: true), addSpecialTokens: false);

    /// <summary>Prompt ids for raw text, with the tokenizer's post-processor (as <c>rlhf generate</c> without --chat).</summary>
    public IReadOnlyList<int> EncodeRaw(string text) => Folder.Tokenizer.Encode(text, addSpecialTokens: true);

    /// <summary>
    /// The token limit for a prompt of <paramref name="promptTokens"/>: <paramref name="requested"/>, or the rest of the
    /// context when null. A <see cref="UserError"/> when the prompt is empty or the two do not fit the context.
    /// </summary>
    public int TokenLimit(int promptTokens, int? requested)
    {
        if (promptTokens == 0) throw new UserError("the prompt encodes to no tokens");
        int room = ContextLength - promptTokens;
        if (room < 1) throw new UserError($"the prompt has {promptTokens} tokens; the model's context is {ContextLength}");
        if (requested is int n)
        {
            if (n < 1) throw new UserError($"max tokens must be at least 1 (got {n})");
            if (n > room) throw new UserError($"max tokens {n} plus the prompt's {promptTokens} tokens exceed the model's context of {ContextLength}");
            return n;
        }
        return room;
    }

    /// <summary>
    /// Generates a response to <paramref name="promptIds"/> one token at a time, yielding each newly completed piece of
    /// text (decoded without special tokens; stop sequences cut it). The last update carries the finish reason and the
    /// token counts (the output count includes the stop token, if one was emitted). Cancelling
    /// <paramref name="cancellationToken"/> stops generation before the next token and throws
    /// <see cref="OperationCanceledException"/>.
    /// </summary>
    public async IAsyncEnumerable<GenerationUpdate> GenerateAsync(IReadOnlyList<int> promptIds, TextGenerationOptions options,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        int limit = TokenLimit(promptIds.Count, options.MaxTokens);
        var sampling = new SamplingOptions
        {
            MaxNewTokens = limit, Greedy = options.Greedy, Temperature = options.Greedy ? 1.0 : options.Temperature ?? 1.0,
            TopK = options.TopK ?? 0, TopP = options.TopP ?? 1.0, Seed = options.Seed,
            EosId = Folder.StopIds[0], StopIds = Folder.StopIds.Skip(1).ToList(), PadId = Folder.PadId,
        };
        sampling.Validate();
        // vLLM's semantics: ignore_eos drops the model's own stop ids, stop_token_ids adds more.
        var stopIds = (options.IgnoreEos ? Enumerable.Empty<int>() : Folder.StopIds).Concat(options.StopTokenIds).ToHashSet();
        if (promptIds.Any(id => id < 0 || id >= VocabSize)) throw new UserError($"prompt token ids must be in 0..{VocabSize - 1}");

        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_unloaded) throw new UserError($"the model '{Id}' was unloaded");
            // Capacity 1: the generator runs at most one token ahead of the reader, so a slow reader (an HTTP client)
            // slows generation instead of buffering it, and cancellation takes effect within a token or two.
            var channel = Channel.CreateBounded<GenerationUpdate>(new BoundedChannelOptions(1)
            {
                SingleReader = true, SingleWriter = true, FullMode = BoundedChannelFullMode.Wait,
            });
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var producer = Task.Factory.StartNew(() =>
            {
                try { Produce(promptIds, sampling, stopIds, options.LogProbs, options.StopSequences, channel.Writer, stop.Token); channel.Writer.Complete(); }
                catch (Exception e) { channel.Writer.TryComplete(e); }
            }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            try
            {
                await foreach (var update in channel.Reader.ReadAllAsync(cancellationToken)) yield return update;
            }
            finally
            {
                stop.Cancel();          // a caller that stops reading also stops the generation
                await producer;         // never throws (errors go through the channel); the model is free afterwards
            }
        }
        finally { _gate.Release(); }
    }

    void Produce(IReadOnlyList<int> promptIds, SamplingOptions sampling, IReadOnlySet<int> stops, bool logProbs, IReadOnlyList<string> stopSequences,
        ChannelWriter<GenerationUpdate> writer, CancellationToken cancellation)
    {
        using var outer = NewDisposeScope();
        using var _ = no_grad();
        var ids = tensor(promptIds.Select(i => (long)i).ToArray(), device: Device).unsqueeze(0);   // [1,P]
        var mask = ones_like(ids);                                                                // [1,P]
        using var generator = SeededGenerator.Create(sampling.Seed, Device);   // a CPU generator cannot drive a CUDA draw
        using var cache = _model.NewCache();
        var response = new List<int>();
        var text = new StreamingText(stopSequences);
        int P = promptIds.Count;

        cancellation.ThrowIfCancellationRequested();
        Tensor logits;                                                                            // [1,V]
        using (NewDisposeScope()) logits = LastLogits(_model.Forward(ids, mask, cache)).MoveToOuterDisposeScope();
        for (int step = 0; ; step++)
        {
            cancellation.ThrowIfCancellationRequested();
            int next;
            float? logProb = null;
            using (NewDisposeScope())
            {
                next = (int)Sampler.Pick(logits, sampling, generator).item<long>();
                // The model's own log-prob of the token, before temperature (vLLM's default logprobs_mode, raw_logprobs).
                if (logProbs) logProb = nn.functional.log_softmax(logits, -1)[0, next].item<float>();
            }
            response.Add(next);
            bool stopToken = stops.Contains(next);
            string piece = stopToken ? "" : text.Update(Folder.Tokenizer.Decode(response, skipSpecialTokens: true));
            GenerationFinish? finish = stopToken || text.Stopped ? GenerationFinish.Stop
                : step == sampling.MaxNewTokens - 1 ? GenerationFinish.Length : null;
            if (finish is not null) piece += text.Flush();
            // Blocking is fine here: this is the generation's own thread.
            writer.WriteAsync(new GenerationUpdate(piece, P, response.Count, finish, next, logProb), cancellation).AsTask().GetAwaiter().GetResult();
            if (finish is not null) return;

            using (NewDisposeScope())
            {
                var previousMask = mask;
                mask = cat([mask, ones(1, 1, dtype: mask.dtype, device: Device)], 1).MoveToOuterDisposeScope();
                previousMask.Dispose();   // one [1,T] mask alive at a time, not one per generated token
                var previous = logits;
                var input = tensor(new long[] { next }, device: Device).unsqueeze(0);              // [1,1]
                logits = LastLogits(_model.Forward(input, mask, cache)).MoveToOuterDisposeScope();
                previous.Dispose();
            }
        }
    }

    static Tensor LastLogits(Tensor logits) => logits[.., -1].to_type(ScalarType.Float32); // [1,T,V] -> [1,V]

    /// <summary>Frees the weights.</summary>
    public void Dispose()
    {
        _adapters?.Dispose();
        _model.Dispose();
        _gate.Dispose();
    }
}
