using RlhfSharp.Evaluation;
using System.Text.RegularExpressions;

namespace RlhfSharp.Demo;

/// <summary>
/// One kind of fact the world holds about every entity, e.g. where it lives. The answer refers to the person as "they"
/// rather than repeating the name: a tiny model copies made-up names badly, and a miscopied name drags a wrong value in.
/// </summary>
/// <param name="Name">short name of the attribute, e.g. "city".</param>
/// <param name="Question">format of the question; {0} is the entity.</param>
/// <param name="Answer">format of the correct answer; {1} is the value.</param>
/// <param name="Paraphrases">formats of the statements in the pretraining corpus; {0} is the entity, {1} the value.</param>
/// <param name="Values">the values an entity can have; generated names never equal one.</param>
public sealed record WorldAttribute(string Name, string Question, string Answer, string[] Paraphrases, string[] Values);

/// <summary>The value one entity has for one attribute.</summary>
/// <param name="Entity">the person's made-up name.</param>
/// <param name="Attribute">the kind of fact.</param>
/// <param name="Value">the true value, one of the attribute's <see cref="WorldAttribute.Values"/>.</param>
/// <param name="Known">whether the pretraining corpus states it (a known person) or never names the person (an unknown one).</param>
public sealed record Fact(string Entity, WorldAttribute Attribute, string Value, bool Known);

/// <summary>Which phase a question serves.</summary>
public enum QuestionSplit
{
    /// <summary>Demonstrations for supervised finetuning.</summary>
    Sft,
    /// <summary>Prompts for labeling (the reward model's comparisons) and PPO.</summary>
    Rl,
    /// <summary>Held out: evaluation of every stage and the reward model's held-out pairs.</summary>
    Eval
}

/// <summary>A question about one fact, and the split it belongs to.</summary>
/// <param name="Fact">the fact asked about.</param>
/// <param name="Split">the phase that uses the question.</param>
public sealed record WorldQuestion(Fact Fact, QuestionSplit Split)
{
    /// <summary>The question, e.g. "Where does {entity} live?".</summary>
    public string Prompt => string.Format(Fact.Attribute.Question, Fact.Entity);
    /// <summary>The correct answer, plainly stated, e.g. "They live in Oslo.".</summary>
    public string CorrectAnswer => string.Format(Fact.Attribute.Answer, Fact.Entity, Fact.Value);
}

/// <summary>
/// The demo's synthetic world: made-up people with a home city, a favourite colour and a pet.
/// The pretraining corpus states the facts of the "known" people and never names the "unknown" ones, so a model
/// trained on it can know the first and cannot know the second. Demonstrations answer questions about both,
/// correctly, as a labeler who sees the whole world would: cloning them teaches confident guessing on what the model
/// lacks, which is the hallucination story the demo measures.
/// </summary>
public sealed class FactWorld
{
    /// <summary>What the world holds about every person: home city, favourite colour and pet, 8 values each.</summary>
    public static readonly WorldAttribute[] Attributes =
    [
        new("city", "Where does {0} live?", "They live in {1}.",
            ["{0} lives in {1}.", "{0} has a home in {1}.", "In {1} you can meet {0}."],
            ["Oslo", "Lima", "Rome", "Kyiv", "Cairo", "Quito", "Dakar", "Hanoi"]),
        new("color", "What is the favorite color of {0}?", "Their favorite color is {1}.",
            ["The favorite color of {0} is {1}.", "{0} likes the color {1} most.", "{0} loves the color {1}."],
            ["red", "blue", "green", "pink", "gray", "gold", "teal", "plum"]),
        new("pet", "What pet does {0} have?", "They have a pet {1}.",
            ["{0} has a pet {1}.", "The pet of {0} is a {1}.", "{0} walks a {1} every day."],
            ["cat", "dog", "fox", "owl", "frog", "goat", "duck", "crab"]),
    ];

    /// <summary>The abstention; the gold reward scores it 0.</summary>
    public const string DontKnowAnswer = "I don't know.";

    /// <summary>The people whose facts the pretraining corpus states.</summary>
    public IReadOnlyList<string> KnownEntities { get; }
    /// <summary>The people the pretraining corpus never names.</summary>
    public IReadOnlyList<string> UnknownEntities { get; }
    /// <summary>One question per person and attribute, each in its split (see <see cref="Create"/>).</summary>
    public IReadOnlyList<WorldQuestion> Questions { get; }

    FactWorld(List<string> known, List<string> unknown, List<WorldQuestion> questions)
    {
        KnownEntities = known; UnknownEntities = unknown; Questions = questions;
    }

    /// <summary>
    /// Known facts are split by question: half for demonstrations, a quarter for RL prompts, a quarter held out.
    /// Unknown people are split by person (40/30/30), so held-out unknown people appear nowhere in training.
    /// </summary>
    public static FactWorld Create(int knownEntities, int unknownEntities, int seed)
    {
        var rng = new Random(seed);
        var names = Names(knownEntities + unknownEntities, rng);
        var known = names.Take(knownEntities).ToList();
        var unknown = names.Skip(knownEntities).ToList();
        var questions = new List<WorldQuestion>();

        var knownFacts = known.SelectMany(e => Attributes.Select(a => new Fact(e, a, a.Values[rng.Next(a.Values.Length)], true))).ToList();
        Shuffle(knownFacts, rng);
        for (int i = 0; i < knownFacts.Count; i++)
            questions.Add(new(knownFacts[i], i < knownFacts.Count / 2 ? QuestionSplit.Sft : i < knownFacts.Count * 3 / 4 ? QuestionSplit.Rl : QuestionSplit.Eval));

        for (int i = 0; i < unknown.Count; i++)
        {
            var split = i < unknown.Count * 4 / 10 ? QuestionSplit.Sft : i < unknown.Count * 7 / 10 ? QuestionSplit.Rl : QuestionSplit.Eval;
            foreach (var a in Attributes) questions.Add(new(new Fact(unknown[i], a, a.Values[rng.Next(a.Values.Length)], false), split));
        }
        return new FactWorld(known, unknown, questions);
    }

    /// <summary>
    /// Documents of shuffled statements about known people only: every fact in each paraphrase, <paramref name="repeats"/>
    /// times, plus the question-and-answer line, so the model can both complete and answer about what it knows.
    /// </summary>
    public List<string> PretrainingCorpus(int repeats, int seed, int sentencesPerDocument = 8)
    {
        var rng = new Random(seed);
        var sentences = new List<string>();
        foreach (var q in Questions.Where(q => q.Fact.Known))
            for (int r = 0; r < repeats; r++)
            {
                foreach (var p in q.Fact.Attribute.Paraphrases) sentences.Add(string.Format(p, q.Fact.Entity, q.Fact.Value));
                sentences.Add($"Q: {q.Prompt} A: {q.CorrectAnswer}");
            }
        Shuffle(sentences, rng);
        return sentences.Chunk(sentencesPerDocument).Select(c => string.Join(" ", c)).ToList();
    }

    /// <summary>
    /// A labeler's demonstration: the correct answer, mostly stated plainly, sometimes hedged or declined — labelers'
    /// styles differ, and without some abstentions in the data no policy would ever sample one to be rewarded for.
    /// </summary>
    public static string Demonstration(WorldQuestion q, Random rng, double hedgeRate = 0.1, double dontKnowRate = 0.1)
    {
        double u = rng.NextDouble();
        if (u < dontKnowRate) return DontKnowAnswer;
        if (u < dontKnowRate + hedgeRate) return Hedge(q.CorrectAnswer);
        return q.CorrectAnswer;
    }

    /// <summary>The answer hedged: "I think " in front, its first letter lowercased.</summary>
    public static string Hedge(string answer) => "I think " + char.ToLowerInvariant(answer[0]) + answer[1..];

    /// <summary>Whether the response names exactly the true value (and no other value of that attribute).</summary>
    public static bool IsCorrect(WorldQuestion q, string response)
    {
        var named = q.Fact.Attribute.Values.Where(v => Regex.IsMatch(response, $@"\b{Regex.Escape(v)}\b", RegexOptions.IgnoreCase)).ToList();
        return named.Count == 1 && named[0] == q.Fact.Value;
    }

    /// <summary>The gold labeler: Schulman's hedging reward of the response. The models never see it.</summary>
    public static double Gold(WorldQuestion q, string response) => HedgingReward.Score(HedgingReward.Classify(response), IsCorrect(q, response));

    static List<string> Names(int count, Random rng)
    {
        const string consonants = "bdfgklmnprstvz", vowels = "aeiou";
        var taken = new HashSet<string>(Attributes.SelectMany(a => a.Values), StringComparer.OrdinalIgnoreCase);
        var names = new List<string>();
        while (names.Count < count)
        {
            var n = $"{char.ToUpperInvariant(consonants[rng.Next(14)])}{vowels[rng.Next(5)]}{consonants[rng.Next(14)]}{vowels[rng.Next(5)]}{consonants[rng.Next(14)]}";
            if (taken.Add(n)) names.Add(n);
        }
        return names;
    }

    static void Shuffle<T>(IList<T> list, Random rng)
    {
        for (int i = list.Count - 1; i > 0; i--) { int j = rng.Next(i + 1); (list[i], list[j]) = (list[j], list[i]); }
    }
}
