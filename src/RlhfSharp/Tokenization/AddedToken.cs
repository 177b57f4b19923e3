namespace RlhfSharp.Tokenization;

/// <summary>An entry of tokenizer.json's added_tokens: matched in the text before any BPE, never split.</summary>
public sealed record AddedToken(int Id, string Content, bool Special, bool LStrip = false, bool RStrip = false, bool SingleWord = false);
