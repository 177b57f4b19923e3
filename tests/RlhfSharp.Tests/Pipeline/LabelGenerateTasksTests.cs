using RlhfSharp.Labeling;
using RlhfSharp.Tests.Infrastructure;
using RlhfSharp.Tests.TrainerCli;
using Xunit;

namespace RlhfSharp.Tests.Pipeline;

/// <summary>`rlhf label generate-tasks`: K sampled responses per prompt from a fixture model land in the store as tasks.</summary>
public sealed class LabelGenerateTasksTests
{
    [Fact]
    public void GeneratesOneTaskPerPromptWithKResponses()
    {
        using var dir = new TempDir();
        var db = dir.File("store.db");
        var prompts = dir.File("prompts.jsonl");
        File.WriteAllLines(prompts, ["\"Name a colour.\"", """{"prompt":"Say hello."}""", """{"text":"Count to three."}"""]);
        Assert.Equal(0, Rlhf.Run("label", "init", "--db", db).Code);

        var r = Rlhf.Run("label", "generate-tasks", "--db", db, "--model", SharedPaths.Fixture("gpt2-tiny"), "--prompts", prompts,
            "-k", "4", "--max-new-tokens", "6", "--seed", "5", "--batch-size", "2");
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("added 3 tasks with 4 responses each", r.Err);

        var store = LabelStore.Open(db);
        Assert.Equal(3, store.CountTasks());
        var tasks = r.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(id => store.GetTask(id.Trim())!).ToList();
        Assert.Equal(["Name a colour.", "Say hello.", "Count to three."], tasks.Select(t => t.Prompt));
        Assert.All(tasks, t => Assert.Equal(4, t.Responses.Count));

        var bad = Rlhf.Run("label", "generate-tasks", "--db", db, "--model", SharedPaths.Fixture("gpt2-tiny"), "--prompts", prompts, "--k", "1");
        Assert.Equal(2, bad.Code);
        Assert.Equal("error: --k must be 2..26; got 1", bad.Err.Trim());
    }
}
