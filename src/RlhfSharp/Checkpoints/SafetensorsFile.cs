using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Checkpoints;

/// <summary>
/// The safetensors format (huggingface/safetensors): 8-byte little-endian header length N, N bytes of JSON
/// <c>{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}</c>, then the raw little-endian data.
/// Our own reader/writer (rather than PyBridge) so that bf16/f16 round-trip, and so a truncated or corrupt file is
/// one clear error naming the file and tensor.
/// </summary>
public static class SafetensorsFile
{
    static readonly Dictionary<string, (ScalarType type, int size)> Dtypes = new()
    {
        ["F32"] = (ScalarType.Float32, 4), ["F16"] = (ScalarType.Float16, 2), ["BF16"] = (ScalarType.BFloat16, 2),
        ["F64"] = (ScalarType.Float64, 8), ["I64"] = (ScalarType.Int64, 8), ["I32"] = (ScalarType.Int32, 4),
        ["I16"] = (ScalarType.Int16, 2), ["I8"] = (ScalarType.Int8, 1), ["U8"] = (ScalarType.Byte, 1), ["BOOL"] = (ScalarType.Bool, 1),
    };

    /// <summary>One tensor's header entry.</summary>
    public sealed record Entry(string Name, string Dtype, long[] Shape, long Begin, long End);

    /// <summary>Reads just the header: names, dtypes, shapes (cheap: no tensor data).</summary>
    public static IReadOnlyList<Entry> ReadHeader(string path)
    {
        using var f = Open(path);
        return ReadHeader(f, path).entries;
    }

    /// <summary>Reads every tensor (CPU, dtype as on disk).</summary>
    public static Dictionary<string, Tensor> Load(string path)
    {
        using var f = Open(path);
        var (entries, dataStart) = ReadHeader(f, path);
        var result = new Dictionary<string, Tensor>();
        try
        {
            foreach (var e in entries)
            {
                var bytes = new byte[e.End - e.Begin];
                f.Position = dataStart + e.Begin;
                f.ReadExactly(bytes);
                var t = torch.empty(e.Shape, Dtypes[e.Dtype].type);
                if (bytes.Length > 0) t.bytes = bytes;
                result[e.Name] = t;
            }
        }
        catch
        {
            foreach (var t in result.Values) t.Dispose();
            throw;
        }
        return result;
    }

    static FileStream Open(string path)
    {
        try { return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20); }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        { throw new UserError($"{path}: file not found"); }
    }

    static (List<Entry> entries, long dataStart) ReadHeader(FileStream file, string path)
    {
        long fileLen = file.Length;
        Span<byte> lenBytes = stackalloc byte[8];
        if (fileLen < 8 || file.Read(lenBytes) != 8) throw new UserError($"{path}: not a safetensors file (shorter than its 8-byte header length)");
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(lenBytes);
        if (n == 0 || n > 100_000_000 || (long)n > fileLen - 8)
            throw new UserError($"{path}: corrupt or truncated safetensors file (header length {n}, file {fileLen} bytes)");
        var header = new byte[n];
        file.ReadExactly(header);
        JsonObject root;
        try { root = JsonNode.Parse(Encoding.UTF8.GetString(header)) as JsonObject ?? throw new JsonException("not an object"); }
        catch (JsonException e) { throw new UserError($"{path}: corrupt safetensors header ({e.Message.Split('\n')[0]})"); }

        long dataStart = 8 + (long)n, dataLen = fileLen - dataStart;
        var entries = new List<Entry>();
        foreach (var (name, node) in root)
        {
            if (name == "__metadata__") continue;
            try
            {
                var dtype = node!["dtype"]!.GetValue<string>();
                var shape = node["shape"]!.AsArray().Select(x => x!.GetValue<long>()).ToArray();
                var off = node["data_offsets"]!.AsArray().Select(x => x!.GetValue<long>()).ToArray();
                if (!Dtypes.TryGetValue(dtype, out var dt)) throw new UserError($"{path}: tensor '{name}' has unsupported dtype {dtype}");
                long need = shape.Aggregate(1L, (a, b) => a * b) * dt.size;
                if (off.Length != 2 || off[1] - off[0] != need || off[0] < 0)
                    throw new UserError($"{path}: tensor '{name}' has data_offsets [{string.Join(",", off)}] that do not fit its shape [{string.Join(",", shape)}] {dtype}");
                if (off[1] > dataLen)
                    throw new UserError($"{path}: truncated: tensor '{name}' needs bytes up to {off[1]} but the file holds {dataLen} data bytes");
                entries.Add(new Entry(name, dtype, shape, off[0], off[1]));
            }
            catch (Exception e) when (e is not UserError)
            { throw new UserError($"{path}: corrupt safetensors header entry '{name}'"); }
        }
        return (entries, dataStart);
    }

    /// <summary>
    /// Writes tensors (any device/dtype; copied to CPU) in name order with metadata <c>{"format": "pt"}</c> as
    /// transformers does. The header is padded with spaces to a multiple of 8 bytes (safetensors' alignment).
    /// </summary>
    public static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var names = tensors.Keys.OrderBy(k => k, StringComparer.Ordinal).ToList();
        var header = new JsonObject { ["__metadata__"] = new JsonObject((metadata ?? new Dictionary<string, string> { ["format"] = "pt" })
            .Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))) };
        long offset = 0;
        var cpu = new List<Tensor>();
        using var scope = torch.NewDisposeScope();   // frees the CPU copies
        {
            foreach (var name in names)
            {
                var t = tensors[name].detach().to(torch.CPU).contiguous();
                cpu.Add(t);
                var code = Dtypes.First(d => d.Value.type == t.dtype).Key;
                long len = t.numel() * Dtypes[code].size;
                header[name] = new JsonObject
                {
                    ["dtype"] = code, ["shape"] = new JsonArray(t.shape.Select(s => (JsonNode)s).ToArray()),
                    ["data_offsets"] = new JsonArray(offset, offset + len),
                };
                offset += len;
            }
            var json = Encoding.UTF8.GetBytes(header.ToJsonString());
            int pad = (8 - json.Length % 8) % 8;
            using var f = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
            Span<byte> len8 = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(len8, (ulong)(json.Length + pad));
            f.Write(len8);
            f.Write(json);
            for (int i = 0; i < pad; i++) f.WriteByte((byte)' ');
            foreach (var t in cpu) if (t.numel() > 0) f.Write(t.bytes);
        }
    }
}
