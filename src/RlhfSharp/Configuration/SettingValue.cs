using System.Globalization;
using System.Text.Json.Nodes;

namespace RlhfSharp.Configuration;

/// <summary>
/// Reads and writes one value type of a setting: from command-line text, from a JSON recipe value, and back to text
/// for help and docs. Returns null with a problem when the input is not of the type.
/// </summary>
public static class SettingValue
{
    static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>The short word help and errors use for the type ("an integer", "a number").</summary>
    public static string Describe(Type type)
    {
        var t = Nullable.GetUnderlyingType(type) ?? type;
        return t == typeof(int) || t == typeof(long) || t == typeof(ulong) ? "an integer"
            : t == typeof(double) ? "a number"
            : t == typeof(bool) ? "true or false"
            : "a string";
    }

    /// <summary>Parses command-line text (invariant culture) as int, long, ulong, double, bool or string; a nullable type also takes <c>none</c> / <c>null</c>. False when the text is not of the type.</summary>
    public static bool TryParse<TValue>(string text, out TValue value)
    {
        var type = typeof(TValue);
        var inner = Nullable.GetUnderlyingType(type) ?? type;
        value = default!;
        if (Nullable.GetUnderlyingType(type) is not null && text.Trim().ToLowerInvariant() is "none" or "null")
            return true;
        object? parsed = null;
        if (inner == typeof(int) && int.TryParse(text, NumberStyles.Integer, Invariant, out var i)) parsed = i;
        else if (inner == typeof(long) && long.TryParse(text, NumberStyles.Integer, Invariant, out var l)) parsed = l;
        else if (inner == typeof(ulong) && ulong.TryParse(text, NumberStyles.Integer, Invariant, out var u)) parsed = u;
        else if (inner == typeof(double) && double.TryParse(text, NumberStyles.Float, Invariant, out var d)) parsed = d;
        else if (inner == typeof(bool) && bool.TryParse(text, out var b)) parsed = b;
        else if (inner == typeof(string)) parsed = text;
        if (parsed is null) return false;
        value = (TValue)parsed;
        return true;
    }

    /// <summary>Reads a recipe JSON value; integers must be whole numbers in range, and JSON null is accepted only for nullable and reference types. False when the value is not of the type.</summary>
    public static bool TryRead<TValue>(JsonNode? node, out TValue value)
    {
        value = default!;
        var type = typeof(TValue);
        if (node is null) return Nullable.GetUnderlyingType(type) is not null || !type.IsValueType;
        if (node is not JsonValue json) return false;
        var inner = Nullable.GetUnderlyingType(type) ?? type;
        if (inner == typeof(string)) return json.TryGetValue(out string? s) && Assign(s, out value);
        if (inner == typeof(bool)) return json.TryGetValue(out bool b) && Assign(b, out value);
        if (!json.TryGetValue(out double number)) return false;
        if (inner == typeof(double)) return Assign(number, out value);
        // Integers: a JSON number without a fraction, inside the type's range.
        if (number != Math.Floor(number)) return false;
        if (inner == typeof(int)) return number is >= int.MinValue and <= int.MaxValue && Assign((int)number, out value);
        if (inner == typeof(long)) return Math.Abs(number) < 9e15 && Assign((long)number, out value);
        if (inner == typeof(ulong)) return number is >= 0 and < 9e15 && Assign((ulong)number, out value);
        return false;
    }

    /// <summary>Text for help and docs: <c>none</c> for null, invariant-culture numbers, <c>true</c>/<c>false</c>.</summary>
    public static string Format(object? value) => value switch
    {
        null => "none",
        double d => d.ToString("G", Invariant),
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, Invariant),
        _ => value.ToString() ?? "",
    };

    static bool Assign<TValue>(object? raw, out TValue value)
    {
        value = (TValue)raw!;
        return true;
    }
}
