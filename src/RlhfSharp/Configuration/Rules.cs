namespace RlhfSharp.Configuration;

/// <summary>Common rules, worded the same everywhere.</summary>
public static class Rules
{
    /// <summary>Finite and &gt; 0.</summary>
    public static Func<double, string?> Positive => v => v > 0 && double.IsFinite(v) ? null : $"must be > 0, got {SettingValue.Format(v)}";
    /// <summary>Finite and &gt;= 0.</summary>
    public static Func<double, string?> NonNegative => v => v >= 0 && double.IsFinite(v) ? null : $"must be >= 0, got {SettingValue.Format(v)}";
    /// <summary>In [0, 1).</summary>
    public static Func<double, string?> Fraction => v => v is >= 0 and < 1 ? null : $"must be in [0, 1), got {SettingValue.Format(v)}";
    /// <summary>In (0, 1].</summary>
    public static Func<double, string?> UnitInterval => v => v is > 0 and <= 1 ? null : $"must be in (0, 1], got {SettingValue.Format(v)}";
    /// <summary>&gt;= <paramref name="min"/>.</summary>
    public static Func<int, string?> AtLeast(int min) => v => v >= min ? null : $"must be >= {min}, got {v}";
    /// <summary>&gt;= <paramref name="min"/>.</summary>
    public static Func<long, string?> AtLeast(long min) => v => v >= min ? null : $"must be >= {min}, got {v}";
    /// <summary>Null (none), or finite and &gt; 0.</summary>
    public static Func<double?, string?> PositiveOrNone => v => v is null || (v > 0 && double.IsFinite(v.Value)) ? null : $"must be > 0 (or none), got {SettingValue.Format(v)}";
    /// <summary>Null (none), or &gt;= 0.</summary>
    public static Func<long?, string?> NonNegativeOrNone => v => v is null or >= 0 ? null : $"must be >= 0 (or none), got {v}";
    /// <summary>Exactly one of <paramref name="choices"/>.</summary>
    public static Func<string, string?> OneOf(params string[] choices) =>
        v => choices.Contains(v) ? null : $"must be one of {string.Join(", ", choices)}, got '{v}'";
}
