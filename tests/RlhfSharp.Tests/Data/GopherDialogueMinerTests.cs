using RlhfSharp.Data;
using Xunit;

namespace RlhfSharp.Tests.Data;

public class GopherDialogueMinerTests
{
    static string Doc(params string[] paragraphs) => string.Join("\n\n", paragraphs);

    static string[] Alternate(string a, string b, int n) =>
        Enumerable.Range(0, n).Select(i => (i % 2 == 0 ? a : b) + $"turn {i}").ToArray();

    [Theory]
    [InlineData("Gopher: ", "User: ")]
    [InlineData("Dr Smith - ", "Mr Jones - ")]
    [InlineData("Q. ", "A. ")]
    [InlineData("Dr. Smith: ", "Nurse: ")]
    public void SixAlternatingParagraphsAreADialogue(string a, string b)
    {
        var d = Assert.Single(GopherDialogueMiner.Mine(Doc(Alternate(a, b, 6))));
        Assert.Equal(a.TrimEnd().TrimEnd(':', '-', '.').Trim(), d.FirstSpeaker);
        Assert.Equal(Enumerable.Range(0, 6).Select(i => $"turn {i}"), d.Turns);
        var demo = d.ToDemonstration();
        Assert.Equal(ChatRole.User, demo.Messages[0].Role);
        Assert.Equal(ChatRole.Assistant, demo.Messages[5].Role);
        Assert.Equal(d.SecondSpeaker, (string)demo.Metadata["speakers"]![1]!);
    }

    [Fact]
    public void FiveParagraphsAreTooFew() => Assert.Empty(GopherDialogueMiner.Mine(Doc(Alternate("A: ", "B: ", 5))));

    [Fact]
    public void IdenticalPrefixesAreNotADialogue() => Assert.Empty(GopherDialogueMiner.Mine(Doc(Alternate("Note: ", "Note: ", 8))));

    [Fact]
    public void ThreeSpeakersRotatingAreNotADialogue() =>
        Assert.Empty(GopherDialogueMiner.Mine(Doc(Enumerable.Range(0, 9).Select(i => $"{"ABC"[i % 3]}: hi {i}").ToArray())));

    [Fact]
    public void AThirdSpeakerBreaksTheRun()
    {
        // A B A C A B A B A: no run of 6 alternating two speakers.
        var speakers = "ABACABABA";
        Assert.Empty(GopherDialogueMiner.Mine(Doc(speakers.Select((s, i) => $"{s}: t{i}").ToArray())));
        // ...but A B A C A B A B A B A has A B A B A B A (7) at the end.
        var longer = "ABACABABABA";
        var d = Assert.Single(GopherDialogueMiner.Mine(Doc(longer.Select((s, i) => $"{s}: t{i}").ToArray())));
        Assert.Equal(4, d.FirstParagraph);
        Assert.Equal(7, d.Turns.Count);
    }

    [Fact]
    public void ALongRunInTheMiddleOfProseIsFound()
    {
        var prose = "It was a dark and stormy night, and the interview began late.";
        var text = Doc([prose, "Host: ok so", .. Alternate("Interviewer: ", "Dr Who - ", 10), "The end came soon after.", "Moral: be brief."]);
        var d = Assert.Single(GopherDialogueMiner.Mine(text));
        Assert.Equal(("Interviewer", "Dr Who"), (d.FirstSpeaker, d.SecondSpeaker));
        Assert.Equal(10, d.Turns.Count);
        Assert.Equal(2, d.FirstParagraph);
    }

    [Fact]
    public void ParagraphsSplitOnBlankLinesAndKeepInnerLines()
    {
        var text = "A: one\r\nstill one\r\n\r\n   \r\nB: two\n\nA: three\n\nB: four\n\nA: five\n\nB: six\n";
        var d = Assert.Single(GopherDialogueMiner.Mine(text));
        Assert.Equal("one\nstill one", d.Turns[0]);
    }

    [Theory]
    [InlineData("Gopher: hello", "Gopher", ":", "hello")]
    [InlineData("Dr Smith - hello", "Dr Smith", " -", "hello")]
    [InlineData("Q. What?", "Q", ".", "What?")]
    [InlineData("Dr. Smith: hi", "Dr. Smith", ":", "hi")]
    [InlineData("Jean-Luc Picard: Engage.", "Jean-Luc Picard", ":", "Engage.")]
    public void PrefixesAreRecognised(string paragraph, string name, string sep, string content)
    {
        var (prefix, text) = SpeakerPrefix.Parse(paragraph)!.Value;
        Assert.Equal((name, sep, content), (prefix.Name, prefix.Separator, text));
    }

    [Theory]
    [InlineData("It was a dark and stormy night.")]            // sentence: "." only after 5+ words
    [InlineData("The five words are here: more text")]         // 5 words before the colon
    [InlineData("Gopher:no space")]                              // separator must be followed by a space
    [InlineData("Gopher: ")]                                     // and by text
    [InlineData("A-very-long-speaker-name-that-goes-on: hi")]    // over 30 characters
    [InlineData("- bullet item")]                                // no name
    [InlineData("Well -maybe not")]                              // dash separator needs a space after it
    public void NonPrefixesAreRejected(string paragraph) => Assert.Null(SpeakerPrefix.Parse(paragraph));
}
