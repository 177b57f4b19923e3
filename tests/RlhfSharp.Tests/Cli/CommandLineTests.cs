using RlhfSharp.Cli;
using RlhfSharp.Cli.CommandLine;
using RlhfSharp.Configuration;
using RlhfSharp.Tests.Infrastructure;
using RlhfSharp.Training.Core;
using RlhfSharp.Training.Dpo;
using RlhfSharp.Training.Ppo;
using RlhfSharp.Training.RewardModeling;
using Xunit;

namespace RlhfSharp.Tests.Cli;

/// <summary>The command line: help everywhere, strict parsing, errors in the user's terms, bugs kept apart.</summary>
public class CommandLineTests
{
    static (int Code, string Out, string Err) Run(CommandGroup root, params string[] args)
    {
        var (output, errors) = (new StringWriter(), new StringWriter());
        int code = new CliRunner(root, output, errors).Run(args);
        return (code, output.ToString(), errors.ToString());
    }

    public static TheoryData<string> EveryCommand()
    {
        var data = new TheoryData<string>();
        foreach (var (path, _) in RlhfApp.Commands.AllCommands()) data.Add(path);
        return data;
    }

    [Theory, MemberData(nameof(EveryCommand))]
    public void Help_OfEveryCommand_ExitsZeroAndListsEveryOption(string path)
    {
        var command = RlhfApp.Commands.AllCommands().Single(c => c.Path == path).Command;
        var (code, output, errors) = Run(RlhfApp.Commands, [.. path.Split(' '), "--help"]);
        Assert.True(code == 0, errors);
        Assert.StartsWith($"rlhf {path}: ", output);
        foreach (var option in command.Options) Assert.Contains(option.Name, output);
    }

    [Fact]
    public void Help_AsAUserRunsIt_ExitsZeroForTheCommandsThatCrashedBefore()
    {
        foreach (var path in new[] { "ppo", "generate", "label import", "label generate-tasks" })
        {
            var r = RlhfProcess.Run([.. path.Split(' '), "--help"]);
            Assert.True(r.ExitCode == 0, $"rlhf {path} --help: {r.Stderr}");
            Assert.Contains("Usage: rlhf " + path, r.Stdout);
        }
    }

    [Fact]
    public void UnknownOption_ExitsTwoAndNamesIt_WithANearbySuggestion()
    {
        var r = RlhfProcess.Run("ppo", "--max-steps", "3");
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("error: rlhf ppo: unknown option '--max-steps' (see rlhf ppo --help)", r.Stderr.Trim());

        var (code, _, errors) = Run(RlhfApp.Commands, "sft", "--modle", "x");
        Assert.Equal(2, code);
        Assert.Contains("unknown option '--modle'; did you mean '--model'?", errors);
    }

    [Fact]
    public void StrayArgumentsAndRepeatedOptions_AreErrors()
    {
        Assert.Contains("unexpected argument 'extra'", Run(RlhfApp.Commands, "label", "init", "--db", "x.db", "extra").Err);
        Assert.Contains("--db is given twice", Run(RlhfApp.Commands, "label", "init", "--db", "x.db", "--db", "y.db").Err);
        Assert.Contains("--db needs a value", Run(RlhfApp.Commands, "label", "init", "--db").Err);
        Assert.Contains("unknown command 'labl'; did you mean 'label'?", Run(RlhfApp.Commands, "labl", "init").Err);
    }

    [Fact]
    public void SchemaOptions_ApplyTypedValuesAndNameTheOptionWhenARuleBreaks()
    {
        var options = SchemaOptions.For(PpoConfig.Schema);
        var args = ParsedArgs.Parse("ppo", ["--kl-coef", "0.05", "--no-whiten-advantages", "--kl-target", "6"], options);
        var config = SchemaOptions.Apply(PpoConfig.Schema, new PpoConfig(), args);
        Assert.Equal(0.05, config.KlCoef);
        Assert.False(config.WhitenAdvantages);
        Assert.Equal(6.0, config.KlTarget);

        var bad = ParsedArgs.Parse("ppo", ["--kl-coef", "-1"], options);
        Assert.Equal("--kl-coef must be >= 0, got -1", Assert.Throws<UsageError>(() => SchemaOptions.Apply(PpoConfig.Schema, new PpoConfig(), bad)).Message);
        var notNumber = ParsedArgs.Parse("ppo", ["--kl-coef", "lots"], options);
        Assert.Equal("--kl-coef must be a number, got 'lots'", Assert.Throws<UsageError>(() => SchemaOptions.Apply(PpoConfig.Schema, new PpoConfig(), notNumber)).Message);
    }

    [Fact]
    public void GroupRankings_IsOnByDefault_AndHasASwitchToTurnItOff()
    {
        Assert.True(new RewardConfig().GroupRankings);
        var args = ParsedArgs.Parse("reward", ["--no-group-rankings"], SchemaOptions.For(RewardConfig.Schema));
        Assert.False(SchemaOptions.Apply(RewardConfig.Schema, new RewardConfig(), args).GroupRankings);
    }

    [Fact]
    public void OneNamePerConcept_AcrossEveryCommand()
    {
        var names = RlhfApp.Commands.AllCommands().SelectMany(c => c.Command.Options).Select(o => o.Name).ToHashSet();
        Assert.DoesNotContain("--grad-clip", names);
        Assert.Contains("--max-grad-norm", names);
        // Gradient clipping is --max-grad-norm in PPO and in every supervised phase.
        foreach (var path in new[] { "ppo", "pretrain", "sft", "reward", "dpo" })
            Assert.Contains(RlhfApp.Commands.AllCommands().Single(c => c.Path == path).Command.Options, o => o.Name == "--max-grad-norm");
    }

    sealed class ThrowingCommand(Exception error) : CliCommand
    {
        public override string Description => "throws";
        public override IReadOnlyList<CliOption> Options => [];
        public override int Execute(ParsedArgs args, CancellationToken cancellation) => throw error;
    }

    [Fact]
    public void ABug_IsOneLineThatSaysSo_WithTheStackTraceInALogFile()
    {
        var root = new CommandGroup("test").Add("boom", new ThrowingCommand(new InvalidOperationException("index out of range in the sampler")));
        var (code, _, errors) = Run(root, "boom");
        Assert.Equal(CliRunner.BugExit, code);
        var line = Assert.Single(errors.Trim().Split('\n'));
        Assert.Contains("internal error (a bug", line);
        var log = line[(line.LastIndexOf("stack trace in ", StringComparison.Ordinal) + "stack trace in ".Length)..].Trim();
        Assert.Contains("ThrowingCommand.Execute", File.ReadAllText(log));
        File.Delete(log);
    }

    [Fact]
    public void ConfigErrorsFromTheLibrary_NameTheCommandsOption()
    {
        var root = new CommandGroup("test").Add("ppo", new ThrowingCommand(new ConfigError("ppo", "ptx_coef", "is > 0, which needs pretraining documents")));
        var (code, _, errors) = Run(root, "ppo");
        Assert.Equal(2, code);
        // The throwing command has no options, so the key stays a key; a real command maps it (next assertion).
        Assert.Contains("ppo: ptx_coef: is > 0", errors);
        Assert.Equal("--ptx-coef", new RlhfSharp.Cli.Commands.PpoCommand().OptionFor("ptx_coef"));
    }

    [Fact]
    public void WarmupRatio_ScalesWithTheRun_SoShortRunsNeverFail()
    {
        var dpo = new DpoConfig().Training;
        Assert.Null(dpo.WarmupSteps);
        Assert.Equal(2, dpo.WarmupFor(20));
        Assert.Equal(15, dpo.WarmupFor(150));
        dpo.LrScheduleFor(1).Validate();   // even a one-step run: warmup 0
        Assert.Equal(7, (dpo with { WarmupSteps = 7 }).WarmupFor(150));
    }

    [Fact]
    public void PpoRefusesTruncatedSampling_NamingTheKey()
    {
        var error = Assert.Throws<ConfigError>(() => new PpoConfig { TopK = 5 }.Validate());
        Assert.Equal("top_k", error.Key);
        Assert.Contains("full distribution", error.Problem);
        Assert.Equal("top_p", Assert.Throws<ConfigError>(() => new PpoConfig { TopP = 0.9 }.Validate()).Key);
    }

    [Fact]
    public void PpoResponseLength_FitsAShortContext_AndSaysSo()
    {
        var notes = new List<string>();
        IReadOnlyList<int>[] prompts = [new int[20], new int[12]];
        Assert.Equal(44, PpoPhase.ResponseLength(new PpoConfig(), 64, prompts, notes.Add));
        Assert.Contains("max_new_tokens 44", Assert.Single(notes));
        Assert.Equal(64, PpoPhase.ResponseLength(new PpoConfig(), 1024, prompts, notes.Add));
        Assert.Equal(32, PpoPhase.ResponseLength(new PpoConfig(), 64, [new int[50]], notes.Add));   // at least half the context
        Assert.Equal(8, PpoPhase.ResponseLength(new PpoConfig { MaxNewTokens = 8 }, 64, prompts, notes.Add));
        Assert.Equal("max_new_tokens", Assert.Throws<ConfigError>(() => PpoPhase.ResponseLength(new PpoConfig { MaxNewTokens = 64 }, 64, prompts, notes.Add)).Key);
    }
}
