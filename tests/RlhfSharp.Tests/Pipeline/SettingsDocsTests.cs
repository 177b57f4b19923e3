using RlhfSharp.Pipeline;
using RlhfSharp.Tests.Infrastructure;
using Xunit;

namespace RlhfSharp.Tests.Pipeline;

/// <summary>docs/pipeline.md's hyperparameter tables are the schemas' own: a new or changed setting fails this test until
/// the docs are regenerated (run it with RLHF_WRITE_DOCS=1 to rewrite them).</summary>
public class SettingsDocsTests
{
    [Fact]
    public void PipelineDocs_HoldTheTablesGeneratedFromTheSchemas()
    {
        var path = Path.Combine(SharedPaths.RepoRoot, "docs", "pipeline.md");
        var current = File.ReadAllText(path);
        var expected = SettingsDocs.ReplaceIn(current);
        if (Environment.GetEnvironmentVariable("RLHF_WRITE_DOCS") == "1") File.WriteAllText(path, expected);
        else Assert.Equal(expected, current);
        // Every setting appears once as a recipe key and as its option.
        foreach (var key in new[] { "`kl_coef` | `--kl-coef`", "`warmup_ratio` | `--warmup-ratio`", "`group_rankings` | `--group-rankings` | true", "`max_grad_norm` | `--max-grad-norm`" })
            Assert.Contains(key, expected);
    }
}
