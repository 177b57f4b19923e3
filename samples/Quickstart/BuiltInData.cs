using RlhfSharp.Data;

/// <summary>
/// Everything the quickstart trains on, generated here from a handful of simple facts (our own words), so the sample
/// needs no files and no downloads: sentences to pretrain on, questions with model answers for SFT, and a synthetic
/// preference (a polite, short answer that ends with a period beats a rude, rambling or unfinished one).
/// </summary>
static class BuiltInData
{
    static readonly (string Thing, string Color)[] Colors =
    [
        ("sky", "blue"), ("grass", "green"), ("snow", "white"), ("coal", "black"), ("sun", "yellow"), ("sea", "blue"),
        ("leaf", "green"), ("milk", "white"), ("night", "dark"), ("rose", "red"), ("lemon", "yellow"), ("crow", "black"),
        ("cloud", "gray"), ("carrot", "orange"), ("plum", "purple"), ("tomato", "red"),
    ];

    static readonly (string Animal, string Sound)[] Sounds =
    [
        ("cat", "meow"), ("dog", "woof"), ("cow", "moo"), ("duck", "quack"), ("sheep", "baa"), ("owl", "hoot"),
        ("frog", "croak"), ("horse", "neigh"), ("lion", "roar"), ("mouse", "squeak"), ("bee", "buzz"), ("goat", "bleat"),
    ];

    static readonly string[] ColorSentences = ["The {0} is {1}.", "Look, the {0} is {1}.", "We all know the {0} is {1}.", "Today the {0} is {1}."];
    static readonly string[] SoundSentences = ["A {0} says {1}.", "The {0} says {1}.", "Listen, a {0} says {1}.", "Every {0} says {1}."];

    /// <summary>The questions (with their polite answers); the last few of each kind are held out of SFT and the
    /// reward model's training pairs, so the reward model's accuracy is measured on prompts it never saw.</summary>
    public static IReadOnlyList<(string Question, string Answer)> Questions { get; } =
        Colors.Select(c => ($"What color is the {c.Thing}?", $"The {c.Thing} is {c.Color}."))
            .Concat(Sounds.Select(s => ($"What does a {s.Animal} say?", $"A {s.Animal} says {s.Sound}.")))
            .ToList();

    static bool HeldOut(int index) => index % 7 == 6;

    public static IEnumerable<(string Question, string Answer)> TrainQuestions => Questions.Where((_, i) => !HeldOut(i));
    public static IEnumerable<(string Question, string Answer)> HeldOutQuestions => Questions.Where((_, i) => HeldOut(i));

    /// <summary>Simple true sentences in varied wording, drawn with a fixed seed.</summary>
    public static IReadOnlyList<string> Sentences(int count, int seed)
    {
        var random = new Random(seed);
        string Pick(string[] options) => options[random.Next(options.Length)];
        return Enumerable.Range(0, count).Select(_ =>
        {
            if (random.Next(2) == 0) { var (thing, color) = Colors[random.Next(Colors.Length)]; return string.Format(Pick(ColorSentences), thing, color); }
            var (animal, sound) = Sounds[random.Next(Sounds.Length)];
            return string.Format(Pick(SoundSentences), animal, sound);
        }).ToList();
    }

    /// <summary>A demonstration per training question: the short polite answer.</summary>
    public static IReadOnlyList<Demonstration> Demonstrations() =>
        TrainQuestions.Select(q => Demonstration.FromPair(q.Question, q.Answer)).ToList();

    /// <summary>For every question, the polite answer beats each kind of bad answer (none of which ends with a period).</summary>
    public static IReadOnlyList<Comparison> Preferences(IEnumerable<(string Question, string Answer)> questions) =>
        questions.SelectMany(q => BadAnswers(q.Answer).Select(bad => new Comparison(q.Question, q.Answer, bad))).ToList();

    static IEnumerable<string> BadAnswers(string answer)
    {
        var unfinished = answer.TrimEnd('.');
        yield return unfinished.ToLowerInvariant();                              // careless, no period
        yield return $"Ugh, why ask me that. {unfinished}";                      // rude
        yield return $"{unfinished} and {unfinished.ToLowerInvariant()} and so on and on and"; // rambling
    }
}
