namespace RlhfSharp.Data;

/// <summary>Reads pretraining documents: a text file is one document; JSONL, JSON or Parquet records give one document
/// each from their text field (<c>"text"</c> unless told otherwise).</summary>
public static class PretrainingReader
{
    /// <summary>The documents in file order, lazily.</summary>
    public static IEnumerable<string> ReadDocuments(string path, string textField = "text", RecordFileType fileType = RecordFileType.Auto)
    {
        if (fileType == RecordFileType.Auto) fileType = RecordSource.Detect(path);
        var field = fileType == RecordFileType.Text ? "text" : textField;
        return RecordSource.Read(path, fileType).Select(r => r.RequireString(field));
    }
}
