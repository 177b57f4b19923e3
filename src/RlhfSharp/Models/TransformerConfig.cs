namespace RlhfSharp.Models;

/// <summary>
/// Normalised view of an HF <c>config.json</c> for the GPT-2 and Llama families.
/// (Placeholder contract: the Models work fills in JSON binding for both config layouts.)
/// </summary>
public sealed record TransformerConfig
{
    public string ModelType { get; init; } = "llama";       // gpt2 | llama | qwen2 | mistral
    public int VocabSize { get; init; }
    public int HiddenSize { get; init; }
    public int NumLayers { get; init; }
    public int NumHeads { get; init; }
    public int NumKvHeads { get; init; }
    public int HeadDim { get; init; }
    public int IntermediateSize { get; init; }
    public int MaxPositions { get; init; }
    public double NormEps { get; init; } = 1e-5;
    public double RopeTheta { get; init; } = 10000.0;
    public bool TieWordEmbeddings { get; init; }
    public bool AttentionBias { get; init; }
    public int? BosTokenId { get; init; }
    public int? EosTokenId { get; init; }
    public int? PadTokenId { get; init; }
}
