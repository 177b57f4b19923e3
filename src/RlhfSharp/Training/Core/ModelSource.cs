using RlhfSharp.Checkpoints;
using RlhfSharp.Models;
using RlhfSharp.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Core;

/// <summary>
/// Where a phase's model starts: an HF model folder (a Hub checkpoint or an earlier phase's output), or a config to
/// train from scratch with a tokenizer ("bytes", "gpt2", or an HF folder holding tokenizer.json).
/// </summary>
public sealed record ModelSource
{
    /// <summary>An HF model folder; null when training from scratch.</summary>
    public string? Folder { get; init; }
    /// <summary>The model to create when <see cref="Folder"/> is null.</summary>
    public TransformerConfig? ScratchConfig { get; init; }
    /// <summary>With <see cref="ScratchConfig"/>: "bytes" (a byte tokenizer saved into the output), "gpt2" (tiktoken; no
    /// files written) or a folder with tokenizer.json.</summary>
    public string Tokenizer { get; init; } = "bytes";
    /// <summary>A tokenizer already loaded: with <see cref="Folder"/>, for folders saved without tokenizer files (GPT-2's
    /// tiktoken); from scratch, the one <see cref="Tokenizer"/> names, so it is not loaded twice.</summary>
    public ITextTokenizer? TokenizerOverride { get; init; }

    /// <summary>Start from an HF model folder.</summary>
    public static ModelSource FromFolder(string folder) => new() { Folder = folder };

    /// <summary>Start from fresh weights of <paramref name="config"/> with the named tokenizer.</summary>
    public static ModelSource FromScratch(TransformerConfig config, string tokenizer = "bytes") =>
        new() { ScratchConfig = config, Tokenizer = tokenizer };

    /// <summary>From scratch with a hand-written config.json, read strictly (an unknown key is an error naming it).</summary>
    public static ModelSource FromScratchFile(string configPath, string tokenizer = "bytes")
    {
        var loaded = TokenizerLoader.Load(tokenizer);
        return FromScratch(ScratchConfigFile.Read(configPath, loaded), tokenizer) with { TokenizerOverride = loaded };
    }

    /// <summary>The tokenizer, chat format, and the folder whose tokenizer files travel into the output.</summary>
    public OpenedSource Open()
    {
        if (Folder is not null)
        {
            var folder = ModelFolder.Open(Folder, TokenizerOverride);
            return new OpenedSource(this, folder.Tokenizer, folder.ChatFormat, Folder, folder.Config);
        }
        if (ScratchConfig is null) throw new UserError("model: give a model folder or a config to train from scratch");
        var tokenizer = TokenizerOverride ?? TokenizerLoader.Load(Tokenizer);
        string? tokenizerDir = Directory.Exists(Tokenizer) ? Tokenizer : null;
        IChatFormat format = tokenizerDir is not null ? ChatFormats.FromTokenizerConfig(tokenizerDir) : new DefaultChatFormat();
        return new OpenedSource(this, tokenizer, format, tokenizerDir, ScratchConfigFile.WithTokenizer(ScratchConfig, tokenizer, "model config"));
    }
}
