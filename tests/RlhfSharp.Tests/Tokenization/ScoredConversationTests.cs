using System.Text.Json.Nodes;
using RlhfSharp.Data;
using RlhfSharp.Models;
using RlhfSharp.Tests.Infrastructure;
using RlhfSharp.Tokenization;
using RlhfSharp.Training.Dpo;
using RlhfSharp.Training.Ppo;
using RlhfSharp.Training.RewardModeling;
using Xunit;

namespace RlhfSharp.Tests.Tokenization;

/// <summary>
/// Tokenizers and chat formats as model folders give them: the fixture's byte-level BPE with the special tokens of each
/// template family added (as Qwen2's and Llama-3's tokenizer.json have them), the chat templates of
/// chat-templates/expected.json, and the byte tokenizer with the default format.
/// </summary>
public static class ChatCases
{
    static readonly Lazy<string> Folder = new(() =>
    {
        // One tokenizer.json that knows every family's special tokens (ids after the fixture's 510 entries).
        var root = JsonNode.Parse(File.ReadAllText(Path.Combine(SharedPaths.Fixture("tokenizer-bytelevel-bpe"), "tokenizer.json")))!.AsObject();
        var added = root["added_tokens"]!.AsArray();
        string[] specials = ["<|im_start|>", "<|im_end|>", "<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"];
        for (int i = 0; i < specials.Length; i++)
            added.Add(new JsonObject { ["id"] = 510 + i, ["content"] = specials[i], ["single_word"] = false, ["lstrip"] = false,
                ["rstrip"] = false, ["normalized"] = false, ["special"] = true });
        var dir = Path.Combine(Path.GetTempPath(), "rlhfsharp-chat-tokenizer-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), root.ToJsonString());
        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), """{"eos_token":"<|endoftext|>","pad_token":"<|pad|>"}""");
        return dir;
    });

    public static ITextTokenizer Tokenizer(string name) => name == "bytes" ? new ByteTokenizer() : HfTokenizer.Load(Folder.Value);

    static string Template(string family) =>
        (string)JsonNode.Parse(File.ReadAllText(Path.Combine(SharedPaths.Fixture("chat-templates"), "expected.json")))![family]!["chat_template"]!;

    public static IChatFormat Format(string name) => name switch
    {
        "chatml-qwen2" or "llama3" => ChatFormats.FromTemplate(Template(name), "<|begin_of_text|>", "<|endoftext|>"),
        "default" => new DefaultChatFormat(),
        "default-multitoken-eot" => new DefaultChatFormat("</s>"),   // end of turn is several tokens: replies end with EOS
        _ => throw new ArgumentException(name),
    };

    /// <summary>(format, tokenizer) for every chat format the project renders.</summary>
    public static TheoryData<string, string> All() => new()
    {
        { "default", "bytes" }, { "default", "bpe" }, { "default-multitoken-eot", "bytes" }, { "chatml-qwen2", "bpe" }, { "llama3", "bpe" },
    };

    public static readonly ChatMessage[] Prompt =
        [new("system", "Be brief."), new("user", "Capital of France?"), new("assistant", "Paris."), new("user", "And of Italy?")];
    public const string Reply = "Rome, since 1871.";

    /// <summary>A config whose vocabulary covers the added tokens; its EOS is the tokenizer's.</summary>
    public static TransformerConfig ModelConfig(ITextTokenizer tok) =>
        TransformerConfig.SmallGpt2(600, 1, 8, 2, 256) with { EosTokenId = tok.EosId };

    /// <summary>The row PPO scores: the prompt it samples after, the reply's ids, and the id it stops on
    /// (<see cref="RlhfSharp.Checkpoints.ModelFolder.ResponseEnd"/>, what PpoPhase stops on), where the reward model reads the score.</summary>
    public static int[] PpoRow(IChatFormat format, ITextTokenizer tok, IReadOnlyList<ChatMessage> prompt, string reply) =>
        [.. tok.Encode(format.Render(prompt, addGenerationPrompt: true)), .. tok.Encode(reply),
         RlhfSharp.Checkpoints.ModelFolder.ResponseEnd(format, tok, ModelConfig(tok))];
}

public class ScoredConversationTests
{
    [Theory, MemberData(nameof(ChatCases.All), MemberType = typeof(ChatCases))]
    public void Scored_ids_end_at_the_token_where_ppo_reads_the_score(string formatName, string tokenizerName)
    {
        var (format, tok) = (ChatCases.Format(formatName), ChatCases.Tokenizer(tokenizerName));
        var scored = ScoredConversation.Encode(ChatCases.Prompt, ChatCases.Reply, format, tok);
        Assert.Equal(ChatCases.PpoRow(format, tok, ChatCases.Prompt, ChatCases.Reply), scored.All);
        Assert.Equal(tok.Encode(format.Render(ChatCases.Prompt, addGenerationPrompt: true)), scored.Prompt);
        // The end-of-reply id is the end-of-turn token when it is one, else EOS; nothing the template writes after it.
        var endOfTurn = tok.Encode(format.EndOfTurn);
        Assert.Equal(endOfTurn.Count == 1 ? endOfTurn[0] : tok.EosId!.Value, scored.Reply[^1]);
    }

    [Fact]
    public void Chatml_rows_stop_at_im_end_and_leave_out_the_newline_the_template_writes_after_it()
    {
        var (format, tok) = (ChatCases.Format("chatml-qwen2"), ChatCases.Tokenizer("bpe"));
        var full = format.Render([.. ChatCases.Prompt, new ChatMessage("assistant", ChatCases.Reply)], addGenerationPrompt: false);
        Assert.EndsWith("<|im_end|>\n", full);
        var scored = ScoredConversation.Encode(ChatCases.Prompt, ChatCases.Reply, format, tok);
        Assert.Equal(full[..^1], tok.Decode(scored.All));
    }

    [Fact]
    public void Llama3_reply_is_trimmed_as_its_template_writes_it()
    {
        var (format, tok) = (ChatCases.Format("llama3"), ChatCases.Tokenizer("bpe"));
        var scored = ScoredConversation.Encode(ChatCases.Prompt, "  Rome. \n", format, tok);
        Assert.Equal(ChatCases.PpoRow(format, tok, ChatCases.Prompt, "Rome."), scored.All);
    }
}
