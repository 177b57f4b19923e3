namespace RlhfSharp.Data;

/// <summary>Where a record came from, printed as <c>path:12</c> (JSONL line or text line),
/// <c>path:row 12</c> (Parquet) or <c>path:item 12</c> (element of a JSON array); numbers start at 1.</summary>
public sealed record RecordLocation(string Path, long Number, string Unit = "")
{
    /// <summary><c>path:{Unit}{Number}</c>, e.g. <c>data.jsonl:12</c> or <c>data.parquet:row 12</c>.</summary>
    public override string ToString() => $"{Path}:{Unit}{Number}";

    /// <summary>A user error whose one-line message starts with this location.</summary>
    public UserError Error(string message) => new($"{this}: {message}");
}
