using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace RlhfSharp.Tests.Training.Core;

/// <summary>
/// Reads TensorBoard event files by hand, independently of the writer: TFRecord framing (uint64 length, masked CRC-32C
/// of the length, data, masked CRC-32C of the data; both CRCs are checked) around <c>Event</c> protobufs, decoded just
/// far enough to find the file version and each scalar summary's (step, tag, simple_value).
/// </summary>
public static class TfEventReader
{
    public sealed record Scalar(long Step, string Tag, float Value);
    public sealed record Contents(List<string> FileVersions, List<Scalar> Scalars);

    public static Contents Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var result = new Contents([], []);
        int pos = 0;
        while (pos < bytes.Length)
        {
            if (bytes.Length - pos < 12) throw new InvalidDataException($"{path}: truncated record header at byte {pos}");
            var lengthBytes = bytes.AsSpan(pos, 8);
            ulong length = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
            if (BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(pos + 8, 4)) != MaskedCrc(lengthBytes))
                throw new InvalidDataException($"{path}: length CRC mismatch at byte {pos}");
            int start = pos + 12;
            if ((ulong)(bytes.Length - start) < length + 4) throw new InvalidDataException($"{path}: truncated record at byte {pos}");
            var data = bytes.AsSpan(start, (int)length);
            if (BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(start + (int)length, 4)) != MaskedCrc(data))
                throw new InvalidDataException($"{path}: data CRC mismatch at byte {pos}");
            ReadEvent(data, result);
            pos = start + (int)length + 4;
        }
        return result;
    }

    // event.proto: Event { double wall_time = 1; int64 step = 2; oneof { string file_version = 3; ...; Summary summary = 5; } }
    static void ReadEvent(ReadOnlySpan<byte> data, Contents into)
    {
        long step = 0;
        var summaries = new List<byte[]>();
        foreach (var f in Fields(data))
        {
            if (f.Number == 2) step = (long)f.Varint;
            else if (f.Number == 3) into.FileVersions.Add(Encoding.UTF8.GetString(f.Bytes));
            else if (f.Number == 5) summaries.Add(f.Bytes);
        }
        // summary.proto: Summary { repeated Value value = 1; } Value { string tag = 1; float simple_value = 2; ... }
        foreach (var summary in summaries)
            foreach (var v in Fields(summary).Where(f => f.Number == 1))
            {
                string? tag = null; float? value = null;
                foreach (var g in Fields(v.Bytes))
                {
                    if (g.Number == 1) tag = Encoding.UTF8.GetString(g.Bytes);
                    else if (g.Number == 2 && g.WireType == 5) value = BitConverter.UInt32BitsToSingle((uint)g.Varint);
                }
                if (tag is not null && value is float x) into.Scalars.Add(new Scalar(step, tag, x));
            }
    }

    /// <summary>One protobuf field: varint and fixed values in <see cref="Varint"/>, length-delimited ones in <see cref="Bytes"/>.</summary>
    readonly record struct Field(int Number, int WireType, ulong Varint, byte[] Bytes);

    static List<Field> Fields(ReadOnlySpan<byte> data)
    {
        var fields = new List<Field>();
        int pos = 0;
        while (pos < data.Length)
        {
            ulong key = ReadVarint(data, ref pos);
            int number = (int)(key >> 3), wire = (int)(key & 7);
            switch (wire)
            {
                case 0: fields.Add(new(number, wire, ReadVarint(data, ref pos), [])); break;
                case 1: fields.Add(new(number, wire, BinaryPrimitives.ReadUInt64LittleEndian(data[pos..]), [])); pos += 8; break;
                case 5: fields.Add(new(number, wire, BinaryPrimitives.ReadUInt32LittleEndian(data[pos..]), [])); pos += 4; break;
                case 2:
                    int length = checked((int)ReadVarint(data, ref pos));
                    fields.Add(new(number, wire, 0, data.Slice(pos, length).ToArray()));
                    pos += length;
                    break;
                default: throw new InvalidDataException($"unsupported protobuf wire type {wire} (field {number})");
            }
        }
        return fields;
    }

    static ulong ReadVarint(ReadOnlySpan<byte> data, ref int pos)
    {
        ulong value = 0;
        for (int shift = 0; ; shift += 7)
        {
            byte b = data[pos++];
            value |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80) return value;
        }
    }

    /// <summary>TFRecord's masked CRC-32C: rotate right by 15 and add a constant.</summary>
    public static uint MaskedCrc(ReadOnlySpan<byte> data)
    {
        uint crc = Crc32C(data);
        return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
    }

    public static uint Crc32C(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFFu;
        foreach (var b in data) crc = BitOperations.Crc32C(crc, b);
        return ~crc;
    }
}
