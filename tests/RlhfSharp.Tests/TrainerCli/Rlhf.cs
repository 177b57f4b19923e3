using System.Diagnostics;
using Xunit;

namespace RlhfSharp.Tests.TrainerCli;

/// <summary>Runs the rlhf.dll built beside the test assembly as a child process, as a user would.</summary>
public static class Rlhf
{
    public static ProcessStartInfo StartInfo(params string[] args)
    {
        var psi = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h ? h : "dotnet")
        { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "rlhf.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        return psi;
    }

    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        using var p = Process.Start(StartInfo(args))!;
        var err = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(180_000), "rlhf did not finish in 3 minutes");
        return (p.ExitCode, output, err.Result);
    }

    /// <summary>A tiny GPT-2 config.json for training from scratch with the byte tokenizer.</summary>
    public static string TinyConfig(string dir, string extra = "")
    {
        var path = Path.Combine(dir, "model.json");
        File.WriteAllText(path, $$"""{"model_type":"gpt2","vocab_size":258,"n_embd":32,"n_layer":2,"n_head":2,"n_positions":32{{extra}}}""");
        return path;
    }
}
