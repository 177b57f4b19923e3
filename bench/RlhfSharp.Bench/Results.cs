using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace RlhfSharp.Bench;

/// <summary>
/// Machine-readable result lines beside the human-readable ones: <c>RESULT {json}</c> on stdout. bench/gpu/run.sh
/// collects them from this program and from bench/pytorch_twin.py (which prints the same shape) into one table.
/// A measurement has a line name shared with the twin, a value and a unit (tokens/s: higher is better; ms, s: lower);
/// a check has a status (PASS, FAIL, SKIP) and a detail.
/// </summary>
public static class Results
{
    static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static void Measure(string line, double value, string unit) =>
        Console.WriteLine("RESULT " + JsonSerializer.Serialize(new { line, value = Math.Round(value, 4), unit }, Json));

    public static void Check(string line, string status, string detail) =>
        Console.WriteLine("RESULT " + JsonSerializer.Serialize(new { line, status, detail }, Json));

    public static void Check(string line, bool pass, string detail) => Check(line, pass ? "PASS" : "FAIL", detail);

    /// <summary>Runs one check; an exception is a FAIL with its first line, so the remaining checks still run.</summary>
    public static bool Guard(string line, Func<(bool Pass, string Detail)> body)
    {
        try
        {
            var (pass, detail) = body();
            Check(line, pass, detail);
            return pass;
        }
        catch (Exception e)
        {
            Check(line, "FAIL", $"{e.GetType().Name}: {e.Message.Split('\n')[0]}");
            Console.Error.WriteLine($"{line}: {e}");
            return false;
        }
    }

    public static string Sci(double x) => x.ToString("0.##E+0", CultureInfo.InvariantCulture);
}
