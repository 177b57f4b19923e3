using System.Text.Json.Nodes;
using RlhfSharp.Tests.Infrastructure;
using RlhfSharp.Tokenization;
using Xunit;

namespace RlhfSharp.Tests.Tokenization;

public class ChatFormatTests
{
    static JsonObject Expected() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(SharedPaths.Fixture("chat-templates"), "expected.json")))!.AsObject();

    public static TheoryData<string, int> Renders()
    {
        var data = new TheoryData<string, int>();
        foreach (var (family, node) in Expected())
            for (int i = 0; i < node!["renders"]!.AsArray().Count; i++) data.Add(family, i);
        return data;
    }

    static List<ChatMessage> Messages(JsonNode render) =>
        render["messages"]!.AsArray().Select(m => new ChatMessage((string)m!["role"]!, (string)m["content"]!)).ToList();

    static void WriteConfig(string dir, JsonObject family, bool templateAsJinjaFile)
    {
        var config = new JsonObject { ["bos_token"] = (string?)family["bos_token"], ["eos_token"] = "<|endoftext|>" };
        if (templateAsJinjaFile) File.WriteAllText(Path.Combine(dir, "chat_template.jinja"), (string)family["chat_template"]!);
        else config["chat_template"] = (string)family["chat_template"]!;
        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), config.ToJsonString());
    }

    [Theory, MemberData(nameof(Renders))]
    public void Renders_exactly_what_transformers_renders(string family, int i)
    {
        var fam = Expected()[family]!.AsObject();
        var render = fam["renders"]![i]!;
        foreach (var asJinja in new[] { false, true })
        {
            using var tmp = new TempDir();
            WriteConfig(tmp.Path, fam, asJinja);
            var format = ChatFormats.FromTokenizerConfig(tmp.Path);
            Assert.Equal((string)render["text"]!, format.Render(Messages(render), (bool)render["add_generation_prompt"]!));
        }
    }

    [Theory, MemberData(nameof(Renders))]
    public void Segments_concatenate_to_the_render_and_mark_each_reply_with_its_end_of_turn(string family, int i)
    {
        var fam = Expected()[family]!.AsObject();
        var render = fam["renders"]![i]!;
        using var tmp = new TempDir();
        WriteConfig(tmp.Path, fam, false);
        var format = ChatFormats.FromTokenizerConfig(tmp.Path);
        var messages = Messages(render);
        var segments = format.RenderSegments(messages, (bool)render["add_generation_prompt"]!);
        Assert.Equal((string)render["text"]!, string.Concat(segments.Select(s => s.Text)));
        var replies = messages.Where(m => m.Role == "assistant")
            .Select(m => (family == "llama3" ? m.Content.Trim() : m.Content) + format.EndOfTurn);
        Assert.Equal(replies, segments.Where(s => s.IsAssistant).Select(s => s.Text));
    }

    [Fact]
    public void Detects_each_family_and_keeps_qwens_default_system_prompt()
    {
        var e = Expected();
        var chatml = Assert.IsType<ChatMlFormat>(ChatFormats.FromTemplate((string)e["chatml-qwen2"]!["chat_template"]!, null, null));
        Assert.Equal("You are a helpful assistant.", chatml.DefaultSystemPrompt);
        Assert.IsType<Llama3ChatFormat>(ChatFormats.FromTemplate((string)e["llama3"]!["chat_template"]!, "<s>", null));
        var plain = ChatFormats.FromTemplate("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n'}}{% endfor %}", null, null);
        Assert.Null(Assert.IsType<ChatMlFormat>(plain).DefaultSystemPrompt);
    }

    [Fact]
    public void Unknown_template_is_a_user_error_naming_the_file_and_no_template_means_default()
    {
        using var tmp = new TempDir();
        File.WriteAllText(tmp.File("tokenizer_config.json"), """{"chat_template":"{% for m in messages %}[INST] {{ m['content'] }} [/INST]{% endfor %}"}""");
        var err = Assert.Throws<UserError>(() => ChatFormats.FromTokenizerConfig(tmp.Path));
        Assert.Contains(tmp.File("tokenizer_config.json"), err.Message);

        var format = ChatFormats.FromTokenizerConfig(SharedPaths.Fixture("gpt2-tiny"));
        Assert.IsType<DefaultChatFormat>(format);
        Assert.Equal("<|endoftext|>", format.EndOfTurn);
    }

    [Fact]
    public void Default_format_matches_its_jinja_template_as_transformers_renders_it()
    {
        // Rendered by jinja2 3.1.6 with transformers' settings (trim_blocks, lstrip_blocks) from DefaultChatFormat.JinjaTemplate.
        const string Jinja = "<|system|>\nS\n<|user|>\nHi\n there\n<|assistant|>\n Yo <|endoftext|><|user|>\nQ\n<|assistant|>\n";
        var messages = new ChatMessage[] { new("system", "S"), new("user", "Hi\n there"), new("assistant", " Yo "), new("user", "Q") };
        var format = new DefaultChatFormat();
        Assert.Equal(Jinja, format.Render(messages, addGenerationPrompt: true));
        Assert.Equal([" Yo <|endoftext|>"], format.RenderSegments(messages, true).Where(s => s.IsAssistant).Select(s => s.Text));
        Assert.Equal(Jinja[..^"<|assistant|>\n".Length], format.Render(messages, addGenerationPrompt: false));
    }
}
