using System.Text.RegularExpressions;

namespace RlhfSharp.Tokenization;

/// <summary>
/// Picks the chat format a model was trained with from its Jinja chat_template. We do not run Jinja: we
/// recognise the families we reproduce exactly (checked against transformers' renders) and refuse the rest,
/// because a silently different prompt format quietly ruins SFT and PPO.
/// </summary>
public static partial class ChatFormats
{
    /// <summary>The format for the tokenizer folder <paramref name="dir"/>: chat_template.jinja if present, else
    /// tokenizer_config.json's chat_template; no template gives <see cref="DefaultChatFormat"/>.</summary>
    public static IChatFormat FromTokenizerConfig(string dir)
    {
        if (!Directory.Exists(dir)) throw new UserError($"{dir}: tokenizer folder not found");
        var configPath = Path.Combine(dir, TokenizerConfigFile.ConfigJson);
        var config = TokenizerConfigFile.ReadConfig(dir);
        var bos = TokenizerConfigFile.TokenString(config?["bos_token"], configPath, "bos_token");
        var eos = TokenizerConfigFile.TokenString(config?["eos_token"], configPath, "eos_token");
        var (template, source) = TokenizerConfigFile.ReadChatTemplate(dir);
        return FromTemplate(template, bos, eos, source);
    }

    /// <summary>The format a template string describes; <paramref name="source"/> names it in errors.</summary>
    public static IChatFormat FromTemplate(string? template, string? bosToken, string? eosToken, string source = "chat_template")
    {
        if (string.IsNullOrWhiteSpace(template)) return new DefaultChatFormat(eosToken ?? ByteTokenizer.EndOfTextToken);
        if (template.Trim() == DefaultChatFormat.JinjaTemplate) return new DefaultChatFormat(eosToken ?? ByteTokenizer.EndOfTextToken);
        // Variants that add content we do not reproduce (Qwen3 reasoning blocks, Llama-3.1 date headers, tool calls).
        foreach (var marker in new[] { "<think>", "Cutting Knowledge Date", "tools" })
            if (template.Contains(marker))
                throw new UserError($"{source}: chat_template uses '{marker}', which this project does not render; supported: ChatML (Qwen2), Llama-3 headers, the default format");
        if (template.Contains("<|im_start|>")) return new ChatMlFormat(DefaultSystemPrompt(template));
        if (template.Contains("<|start_header_id|>") && template.Contains("<|eot_id|>")) return new Llama3ChatFormat(bosToken ?? "");
        throw new UserError($"{source}: chat_template is not a known family; supported: ChatML (Qwen2), Llama-3 headers, the default format");
    }

    /// <summary>The system prompt a ChatML template writes as a literal when the conversation has none, or null.</summary>
    static string? DefaultSystemPrompt(string template)
    {
        var m = LiteralSystemTurn().Match(template);
        return m.Success ? Regex.Replace(m.Groups["p"].Value, @"\\(.)", e => e.Groups[1].Value switch
        {
            "n" => "\n", "t" => "\t", var c => c,
        }) : null;
    }

    // Inside a Jinja string literal: '<|im_start|>system\n...<|im_end|>' with no quote in between.
    [GeneratedRegex(@"<\|im_start\|>system\\n(?<p>(?:[^'""\\]|\\.)*?)<\|im_end\|>")]
    private static partial Regex LiteralSystemTurn();
}
