namespace RlhfSharp.Tokenization;

/// <summary>Chooses the tokenizer implementation for a folder or a name.</summary>
public static class TokenizerLoader
{
    /// <summary>"gpt2" (GPT-2's tiktoken vocabulary), "bytes" (a fresh <see cref="ByteTokenizer"/>), or a folder.</summary>
    public static ITextTokenizer Load(string nameOrFolder) => nameOrFolder switch
    {
        "gpt2" when !Directory.Exists(nameOrFolder) => new Gpt2Tokenizer(),
        "bytes" when !Directory.Exists(nameOrFolder) => new ByteTokenizer(),
        _ => FromFolder(nameOrFolder),
    };

    /// <summary>The tokenizer in an HF folder. A folder that <see cref="ByteTokenizer.Save"/> wrote loads as
    /// <see cref="ByteTokenizer"/> (same ids, no BPE work); any other tokenizer.json as <see cref="HfTokenizer"/>.</summary>
    public static ITextTokenizer FromFolder(string dir)
    {
        if (!Directory.Exists(dir)) throw new UserError($"{dir}: tokenizer folder not found");
        var file = Path.Combine(dir, TokenizerConfigFile.TokenizerJson);
        if (!File.Exists(file)) throw new UserError($"{dir}: no tokenizer.json in this folder (only HF fast tokenizers are supported)");
        var hf = HfTokenizer.Load(dir);
        return ByteTokenizer.IsSavedLayout(hf) ? new ByteTokenizer() : hf;
    }
}
