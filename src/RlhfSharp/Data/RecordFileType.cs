namespace RlhfSharp.Data;

/// <summary>How a data file is stored. <see cref="Auto"/> decides from the extension (see <see cref="RecordSource"/>).</summary>
public enum RecordFileType { Auto, Jsonl, JsonArray, Parquet, Text }
