namespace RlhfSharp.Data;

/// <summary>How a data file is stored. <see cref="Auto"/> decides from the extension (see <see cref="RecordSource"/>).</summary>
public enum RecordFileType
{
    /// <summary>Decide from the extension (and, for .json, the first character).</summary>
    Auto,
    /// <summary>One JSON value per line (<c>.jsonl</c>, <c>.ndjson</c>, <c>.json</c> not starting with '[').</summary>
    Jsonl,
    /// <summary>One JSON array whose elements are the records (<c>.json</c> starting with '[').</summary>
    JsonArray,
    /// <summary>Parquet: one record per row (<c>.parquet</c>).</summary>
    Parquet,
    /// <summary>Plain text (<c>.txt</c>, <c>.text</c>, <c>.md</c>).</summary>
    Text,
}
