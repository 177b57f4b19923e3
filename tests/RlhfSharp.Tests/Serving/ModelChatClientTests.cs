using Microsoft.Extensions.AI;
using RlhfSharp.Serving;
using RlhfSharp.Tests.Cli;
using RlhfSharp.Tests.Infrastructure;
using Xunit;

namespace RlhfSharp.Tests.Serving;

/// <summary>One loaded gpt2-tiny shared by the serving tests (read in place from the fixtures folder).</summary>
public sealed class ServedTinyModel : IDisposable
{
    public string Dir { get; } = SharedPaths.Fixture("gpt2-tiny");
    public LocalModel Model { get; }
    public ModelChatClient Chat { get; }

    public ServedTinyModel()
    {
        Model = LocalModel.Load(Dir);
        Chat = new ModelChatClient(Model);
    }

    public void Dispose() => Model.Dispose();
}

public class ModelChatClientTests(ServedTinyModel tiny) : IClassFixture<ServedTinyModel>
{
    const string Prompt = "which response is better";
    static readonly ChatOptions Greedy12 = new() { Temperature = 0, MaxOutputTokens = 12 };

    static List<ChatMessage> Ask(string text = Prompt) => [new ChatMessage(ChatRole.User, text)];

    [Fact]
    public async Task GreedyResponseEqualsRlhfGenerateChatGreedy()
    {
        var r = RlhfProcess.Run("generate", "--model", tiny.Dir, "--prompt", Prompt, "--chat", "--greedy", "--max-new-tokens", "12");
        Assert.True(r.ExitCode == 0, r.Stderr);

        var response = await tiny.Chat.GetResponseAsync(Ask(), Greedy12);
        Assert.Equal(r.Stdout, response.Text + Environment.NewLine);
        Assert.NotEmpty(response.Text);
        Assert.Equal(tiny.Model.Id, response.ModelId);
        int promptTokens = tiny.Chat.EncodePrompt(Ask()).Count;
        Assert.Equal(promptTokens, response.Usage!.InputTokenCount);
        Assert.InRange(response.Usage.OutputTokenCount!.Value, 1, 12);
        Assert.Equal(promptTokens + response.Usage.OutputTokenCount, response.Usage.TotalTokenCount);
        Assert.Equal(response.Usage.OutputTokenCount == 12 ? ChatFinishReason.Length : ChatFinishReason.Stop, response.FinishReason);
    }

    /// <summary>The same on a Llama folder (its own tokenizer, chat format and stop ids), streamed as well.</summary>
    [Fact]
    public async Task GreedyResponseEqualsRlhfGenerateChatGreedyOnLlama()
    {
        var dir = SharedPaths.Fixture("llama-tiny");
        var r = RlhfProcess.Run("generate", "--model", dir, "--prompt", Prompt, "--chat", "--greedy", "--max-new-tokens", "10");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var chat = new ModelChatClient(dir);
        var options = new ChatOptions { Temperature = 0, MaxOutputTokens = 10 };
        Assert.Equal(r.Stdout, (await chat.GetResponseAsync(Ask(), options)).Text + Environment.NewLine);
        var pieces = new List<string>();
        await foreach (var update in chat.GetStreamingResponseAsync(Ask(), options)) pieces.Add(update.Text);
        Assert.Equal(r.Stdout, string.Concat(pieces) + Environment.NewLine);
    }

    [Fact]
    public async Task StreamedPiecesConcatenateToTheResponse()
    {
        var response = await tiny.Chat.GetResponseAsync(Ask(), Greedy12);
        var pieces = new List<string>();
        UsageDetails? usage = null;
        ChatFinishReason? finish = null;
        await foreach (var update in tiny.Chat.GetStreamingResponseAsync(Ask(), Greedy12))
        {
            pieces.Add(update.Text);
            usage ??= update.Contents.OfType<UsageContent>().FirstOrDefault()?.Details;
            finish ??= update.FinishReason;
        }
        Assert.Equal(response.Text, string.Concat(pieces));
        Assert.True(pieces.Count(p => p.Length > 0) > 1, "streamed in more than one piece");
        Assert.Equal(response.Usage!.OutputTokenCount, usage!.OutputTokenCount);
        Assert.Equal(response.FinishReason, finish);
    }

    [Fact]
    public async Task StopSequencesCutTheText()
    {
        var full = (await tiny.Chat.GetResponseAsync(Ask(), new ChatOptions { Temperature = 0, MaxOutputTokens = 24 })).Text;
        Assert.True(full.Length >= 6, $"the fixture's greedy answer is long enough to cut: '{full}'");
        var stop = full.Substring(3, 2);
        var expected = full[..full.IndexOf(stop, StringComparison.Ordinal)];

        var options = new ChatOptions { Temperature = 0, MaxOutputTokens = 24, StopSequences = ["no such text \u2603", stop] };
        var cut = await tiny.Chat.GetResponseAsync(Ask(), options);
        Assert.Equal(expected, cut.Text);
        Assert.Equal(ChatFinishReason.Stop, cut.FinishReason);

        var streamed = new List<string>();
        await foreach (var update in tiny.Chat.GetStreamingResponseAsync(Ask(), options)) streamed.Add(update.Text);
        Assert.Equal(expected, string.Concat(streamed));
    }

    [Fact]
    public async Task CancellingStopsGeneration()
    {
        var options = new ChatOptions { Temperature = 0 };   // no limit: the rest of the context
        var uncancelled = await tiny.Chat.GetResponseAsync(Ask(), options);
        Assert.Equal(ChatFinishReason.Length, uncancelled.FinishReason);   // the precondition: it would run to the limit
        Assert.True(uncancelled.Usage!.OutputTokenCount > 10);

        using var cts = new CancellationTokenSource();
        int updates = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var update in tiny.Chat.GetStreamingResponseAsync(Ask(), options, cts.Token))
            {
                updates++;
                if (updates == 2) cts.Cancel();
            }
        });
        Assert.InRange(updates, 2, 4);

        using var already = new CancellationTokenSource();
        already.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => tiny.Chat.GetResponseAsync(Ask(), options, already.Token));
        // The model is free again afterwards.
        Assert.Equal(uncancelled.Text, (await tiny.Chat.GetResponseAsync(Ask(), options)).Text);
    }

    [Fact]
    public async Task LeavingAStreamEarlyFreesTheModelForTheNextCaller()
    {
        await foreach (var _ in tiny.Chat.GetStreamingResponseAsync(Ask(), new ChatOptions { Temperature = 0 })) break;
        var next = tiny.Chat.GetResponseAsync(Ask(), Greedy12);
        Assert.Same(next, await Task.WhenAny(next, Task.Delay(TimeSpan.FromSeconds(30))));
        Assert.NotEmpty((await next).Text);
    }

    [Fact]
    public async Task SeededSamplingRepeatsAndConcurrentCallersAreSerialised()
    {
        var options = new ChatOptions { Temperature = 1.0f, TopP = 0.9f, TopK = 20, Seed = 7, MaxOutputTokens = 10 };
        var answers = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => tiny.Chat.GetResponseAsync(Ask(), options)));
        Assert.All(answers, a => Assert.Equal(answers[0].Text, a.Text));
    }

    /// <summary>The README's snippet (a string prompt, a folder path; 16 tokens, as the fixture's context is 64).</summary>
    [Fact]
    public async Task TheReadmeSnippetRuns()
    {
        using IChatClient chat = new ModelChatClient(tiny.Dir);
        var reply = await chat.GetResponseAsync("What is RLHF?", new ChatOptions { Temperature = 0, MaxOutputTokens = 16 });
        Assert.Equal((await tiny.Chat.GetResponseAsync([new ChatMessage(ChatRole.User, "What is RLHF?")], new ChatOptions { Temperature = 0, MaxOutputTokens = 16 })).Text, reply.Text);
    }

    [Fact]
    public async Task ResponseFormatIsNotSupported()
    {
        var e = await Assert.ThrowsAsync<NotSupportedException>(() =>
            tiny.Chat.GetResponseAsync(Ask(), new ChatOptions { ResponseFormat = ChatResponseFormat.Json }));
        Assert.Contains("ResponseFormat", e.Message);
        Assert.Same(tiny.Chat.Metadata, tiny.Chat.GetService<ChatClientMetadata>());
    }

    [Fact]
    public void MultiByteCharactersAreNeverSplitAcrossPieces()
    {
        const string text = "caf\u00e9 \u20ac5 \u4f60\u597d \U0001F600!";
        var tokenizer = tiny.Model.Folder.Tokenizer;
        var ids = tokenizer.Encode(text);
        Assert.True(ids.Count > text.Length / 2, "byte-level tokens split the characters");
        var stream = new StreamingText([]);
        var pieces = new List<string>();
        for (int n = 1; n <= ids.Count; n++) pieces.Add(stream.Update(tokenizer.Decode(ids.Take(n), skipSpecialTokens: true)));
        pieces.Add(stream.Flush());
        Assert.Equal(text, string.Concat(pieces));
        Assert.All(pieces, p => Assert.DoesNotContain('\uFFFD', p));
        Assert.All(pieces.Where(p => p.Length > 0), p => Assert.False(char.IsHighSurrogate(p[^1])));
    }

    [Fact]
    public void StreamingTextHoldsBackUnfinishedCharactersAndStopPrefixes()
    {
        var text = new StreamingText(["END"]);
        Assert.Equal("a", text.Update("a\uFFFD"));     // half a character waits
        Assert.Equal("\u00e9 ", text.Update("a\u00e9 E"));   // "E" may start "END": held back
        Assert.Equal("", text.Update("a\u00e9 EN"));
        Assert.Equal("ENX", text.Update("a\u00e9 ENX"));
        Assert.Equal("y", text.Update("a\u00e9 ENXyENDz"));
        Assert.True(text.Stopped);
        Assert.Equal("a\u00e9 ENXy", text.Final);
        Assert.Equal("", text.Flush());
    }
}
