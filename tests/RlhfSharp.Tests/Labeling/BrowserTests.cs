using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using RlhfSharp.Labeling;
using Xunit;

namespace RlhfSharp.Tests.Labeling;

/// <summary>The labeler page in real headless Chromium (found by <see cref="Chromium"/>; never `playwright install`).</summary>
[Collection("labeling-heavy")]
public class BrowserTests
{
    const string Script = "<script>window.__pwned = true</script>Answer B";

    [Fact]
    public async Task LabelerRatesFlagsRanksAndSubmitsAndTheExportHoldsSixPairsInOrder()
    {
        using var f = new LabelingFixture();
        f.Store.AddTasks([
            new NewTask("browser-task", "Answer the <b>question</b>", ["Answer A", Script, "Answer C", "Answer D"]),
            new NewTask("second-task", "Another prompt", ["x", "y"]),
        ]);
        var token = f.Store.AddLabeler("browser-labeler", false);
        await using var server = await LabelingServer.StartAsync(f.DbPath, "127.0.0.1", 0, redundancy: 1);

        using var pw = await Playwright.CreateAsync();
        await using var browser = await pw.Chromium.LaunchAsync(new()
        {
            ExecutablePath = Chromium.Find(), Headless = true, Timeout = 30_000,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
        var page = await browser.NewPageAsync();
        page.SetDefaultTimeout(10_000);
        var scriptErrors = new List<string>(); // uncaught exceptions in the page's script (HTTP 401s from the bad token are expected)
        page.PageError += (_, e) => scriptErrors.Add(e);

        await page.GotoAsync(server.Url + "/");
        await page.FillAsync("#token", "not-a-token");
        await page.ClickAsync("#login-button");
        await Assertions.Expect(page.Locator("#login-error")).ToContainTextAsync("not accepted");
        await page.FillAsync("#token", token);
        await page.ClickAsync("#login-button");

        // The task, with untrusted text shown as text.
        await Assertions.Expect(page.Locator("#prompt")).ToHaveTextAsync("Answer the <b>question</b>");
        await Assertions.Expect(page.Locator("#progress")).ToHaveTextAsync("page 1 / 2");
        await Assertions.Expect(page.Locator("#text-1")).ToHaveTextAsync(Script);
        Assert.Equal(0, await page.EvaluateAsync<int>("document.querySelectorAll('#task script, #task b').length"));
        Assert.True(await page.EvaluateAsync<bool>("window.__pwned === undefined"));
        await Assertions.Expect(page.Locator("#elapsed")).ToHaveTextAsync(new Regex(@"^\d+:\d\d$"));

        // Submitting before rating everything is refused on the page.
        await page.ClickAsync("#submit");
        await Assertions.Expect(page.Locator("#message")).ToContainTextAsync("Please rate Output A");

        // Rate, flag, note.
        foreach (var (id, rating) in new[] { (0, 3), (1, 1), (2, 7), (3, 5) }) await page.CheckAsync($"#rating-{id}-{rating}");
        await page.CheckAsync("#flag-1-harmful_advice");
        await page.CheckAsync("#flag-1-fails_instruction");
        await page.CheckAsync("#flag-3-expresses_moral_judgment");
        await page.FillAsync("#notes-1", "contains a script tag");

        // Rank C > D > A > B: by drag and drop, by keyboard, and by button.
        await page.DragAndDropAsync("#rank-2", "#rank-0");                 // C onto A: C A B D
        Assert.Equal(new[] { 2, 0, 1, 3 }, await Order(page));
        await page.FocusAsync("#rank-3");
        await page.Keyboard.PressAsync("Alt+ArrowUp");                      // D up: C A D B
        Assert.Equal(new[] { 2, 0, 3, 1 }, await Order(page));
        Assert.Equal("rank-3", await page.EvaluateAsync<string>("document.activeElement.id")); // focus stays on the moved item
        await page.ClickAsync("#up-3");                                     // D up: C D A B
        Assert.Equal(new[] { 2, 3, 0, 1 }, await Order(page));
        await Assertions.Expect(page.Locator("#rank-status")).ToHaveTextAsync("Output D is now rank 2");

        await page.ClickAsync("#submit");
        await Assertions.Expect(page.Locator("#progress")).ToHaveTextAsync("page 2 / 2");
        await page.ClickAsync("#skip");
        await Assertions.Expect(page.Locator("#done")).ToBeVisibleAsync();
        Assert.Empty(scriptErrors);

        // The export: C(4,2) = 6 pairs, best-first order C>D>A>B.
        var sw = new StringWriter();
        Assert.Equal(6, LabelExport.Write(f.Store.Labels(), sw));
        var pairs = sw.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        string[] text = ["Answer A", Script, "Answer C", "Answer D"];
        (int, int)[] expected = [(2, 3), (2, 0), (2, 1), (3, 0), (3, 1), (0, 1)];
        Assert.Equal(expected.Select(e => (text[e.Item1], text[e.Item2])),
            pairs.Select(p => (p.GetProperty("chosen").GetString()!, p.GetProperty("rejected").GetString()!)));
        Assert.All(pairs, p => Assert.Equal("browser-labeler", p.GetProperty("labeler").GetString()));
        Assert.All(pairs, p => Assert.Equal("browser-task", p.GetProperty("task_id").GetString()));
        var cb = pairs[2]; // C over B
        Assert.Equal(7, cb.GetProperty("ratings").GetProperty("chosen").GetInt32());
        Assert.Equal(1, cb.GetProperty("ratings").GetProperty("rejected").GetInt32());
        Assert.Equal(["fails_instruction", "harmful_advice"], cb.GetProperty("flags").GetProperty("rejected").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["expresses_moral_judgment"], pairs[0].GetProperty("flags").GetProperty("rejected").EnumerateArray().Select(e => e.GetString()));
        Assert.Contains("contains a script tag", f.Store.Labels().Single().NotesJson);
        // The skipped task is not offered again.
        Assert.Null((await f.Store.NextTaskAsync(f.Store.Labelers().Single(l => l.Name == "browser-labeler").Id, 1)).Task);
    }

    static async Task<int[]> Order(IPage page) =>
        await page.EvaluateAsync<int[]>("[...document.querySelectorAll('#ranking li')].map(li => Number(li.dataset.id))");
}
