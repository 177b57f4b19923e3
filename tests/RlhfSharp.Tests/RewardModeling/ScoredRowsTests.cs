using RlhfSharp.Data;
using RlhfSharp.Models;
using RlhfSharp.Tests.Tokenization;
using RlhfSharp.Tokenization;
using RlhfSharp.Training.Dpo;
using RlhfSharp.Training.RewardModeling;
using RlhfSharp.Training.Supervised;
using Xunit;

namespace RlhfSharp.Tests.RewardModeling;

/// <summary>The rows reward-model training scores (and DPO trains on) end at exactly the token where PPO reads the score.</summary>
public class ScoredRowsTests
{
    static Comparison Pair() => new("", ChatCases.Reply, "Milan.")
    {
        PromptMessages = [new ChatTurn(ChatRole.System, "Be brief."), new ChatTurn(ChatRole.User, "Capital of France?"),
                          new ChatTurn(ChatRole.Assistant, "Paris."), new ChatTurn(ChatRole.User, "And of Italy?")],
    };

    [Theory, MemberData(nameof(ChatCases.All), MemberType = typeof(ChatCases))]
    public void Reward_training_rows_equal_the_ppo_rows_of_the_same_conversation(string formatName, string tokenizerName)
    {
        var (format, tok) = (ChatCases.Format(formatName), ChatCases.Tokenizer(tokenizerName));
        using var model = ModelFactory.CreateScalarHead(ChatCases.ModelConfig(tok));
        var (chosen, rejected) = RewardTrainer.Encode([Pair()], format, tok, 256, model, "test")[0];
        Assert.Equal(ChatCases.PpoRow(format, tok, ChatCases.Prompt, ChatCases.Reply), chosen);
        Assert.Equal(ChatCases.PpoRow(format, tok, ChatCases.Prompt, "Milan."), rejected);
    }

    [Theory, MemberData(nameof(ChatCases.All), MemberType = typeof(ChatCases))]
    public void Dpo_rows_equal_the_ppo_rows_and_train_the_reply_with_its_end(string formatName, string tokenizerName)
    {
        var (format, tok) = (ChatCases.Format(formatName), ChatCases.Tokenizer(tokenizerName));
        using var model = ModelFactory.Create(ChatCases.ModelConfig(tok));
        var (chosen, _) = DpoTrainer.Encode([Pair()], format, tok, 256, model, "test")[0];
        var row = ChatCases.PpoRow(format, tok, ChatCases.Prompt, ChatCases.Reply);
        Assert.Equal(row, chosen.Ids);
        int reply = tok.Encode(ChatCases.Reply).Count + 1;
        Assert.Equal(Enumerable.Repeat(false, row.Length - reply).Concat(Enumerable.Repeat(true, reply)), chosen.Trained);
    }

    [Fact]
    public void An_over_long_pair_keeps_the_same_prompt_tokens_on_both_sides()
    {
        var tok = new ByteTokenizer();
        var format = new DefaultChatFormat();
        // Prompt 64 tokens, chosen reply 7 (with EOS), rejected 21: too long for 32 on both sides.
        var pair = new Comparison(new string('p', 40), "aaaaaa", new string('b', 20));
        var (chosen, rejected) = ChatExampleEncoder.Encode(pair, format, tok, 32);
        int[] Prompt(EncodedExample e) => e.Ids.Where((_, i) => !e.Trained[i]).ToArray();
        Assert.Equal(Prompt(chosen), Prompt(rejected));
        // The prompt is cut once, by the longer reply (never below half the context); each reply is cut at the right.
        Assert.Equal(16, Prompt(chosen).Length);
        Assert.Equal(tok.Encode(format.Render([new ChatMessage("user", pair.Prompt)], addGenerationPrompt: true)).ToArray()[^16..], Prompt(chosen));
        Assert.Equal([.. tok.Encode("aaaaaa"), ByteTokenizer.EndOfTextId], chosen.Ids[16..]);
        Assert.Equal(tok.Encode(new string('b', 16)), rejected.Ids[16..]);
        Assert.All(new[] { chosen, rejected }, e => Assert.True(e.Length <= 32));
    }
}
