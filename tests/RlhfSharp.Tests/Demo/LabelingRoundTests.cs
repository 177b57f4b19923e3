using RlhfSharp.Demo;
using RlhfSharp.Models;
using RlhfSharp.Tests.Infrastructure;
using RlhfSharp.Tests.Training.Core;
using RlhfSharp.Tokenization;
using TorchSharp;
using Xunit;

namespace RlhfSharp.Tests.Demo;

/// <summary>The demo's simulated labeling round on a tiny untrained model, whose samples are diverse enough that every
/// question reaches its K within a few sampling rounds.</summary>
[Collection(GlobalRngCollection.Name)]
public class LabelingRoundTests
{
    const int MaxNewTokens = 8;

    [Fact]
    public void EveryTaskRanksItsKDistinctResponses_PairsAreTheRankingsExpanded_AndARerunIsIdentical()
    {
        using var dir = new TempDir();
        var world = FactWorld.Create(knownEntities: 4, unknownEntities: 4, seed: 5);
        BpeTrainer.Train(world.PretrainingCorpus(repeats: 2, seed: 5).Concat(["<|user|>\nI don't know.\n<|assistant|>\n"]), 320).Save(dir.Path);
        var tokenizer = TokenizerLoader.FromFolder(dir.Path);
        int eos = tokenizer.EosId!.Value, pad = tokenizer.PadId!.Value;
        torch.manual_seed(3);
        using var model = ModelFactory.Create(TransformerConfig.SmallGpt2(tokenizer.VocabSize, layers: 1, dim: 16, heads: 2, ctx: 64)
            with { EosTokenId = eos, PadTokenId = pad, BosTokenId = eos });
        var evaluator = new DemoEvaluator(tokenizer, ChatFormats.FromTokenizerConfig(dir.Path), torch.CPU, MaxNewTokens, eos, pad);
        // One question asked twice: each listing is its own task, on fresh samples.
        var questions = world.Questions.Take(3).Append(world.Questions[0]).ToList();

        var round = LabelingRound.Run(model, evaluator, questions, torch.CPU, eos, pad, MaxNewTokens, seed: 9, temperature: 1.0);

        Assert.Equal(questions.Count, round.Tasks.Count);
        for (int t = 0; t < round.Tasks.Count; t++)
        {
            var task = round.Tasks[t];
            Assert.Same(questions[t], task.Question);
            Assert.InRange(task.Responses.Count, 4, 9);                      // K is drawn from 4..9 and every K was reached
            Assert.Equal(task.Responses.Count, task.Responses.Distinct().Count());
            Assert.All(task.Responses, r => Assert.NotEqual("", r));
            Assert.Equal(task.Responses.Select(r => FactWorld.Gold(task.Question, r)), task.Gold);
            Assert.Equal(Enumerable.Range(0, task.Responses.Count), task.Ranking.Order());
            Assert.Equal(Enumerable.Range(0, task.Responses.Count), task.SecondRanking.Order());
        }
        Assert.NotEqual(round.Tasks[0].Responses, round.Tasks[3].Responses);

        // The pairs are each first-labeler ranking's C(K,2) pairs, best first, grouped by task.
        var expected = round.Tasks.SelectMany(task => Enumerable.Range(0, task.Ranking.Length)
            .SelectMany(better => task.Ranking.Skip(better + 1).Select(worse => (task.Question.Prompt, task.Responses[task.Ranking[better]], task.Responses[worse]))));
        Assert.Equal(expected, round.Pairs.Select(p => (p.Prompt, p.Chosen, p.Rejected)));
        Assert.Equal(round.Tasks.Count, round.Pairs.Select(p => p.GroupId).Distinct().Count());
        Assert.InRange(round.MeasuredAgreement, 0, 1);

        var again = LabelingRound.Run(model, evaluator, questions, torch.CPU, eos, pad, MaxNewTokens, seed: 9, temperature: 1.0);
        Assert.Equal(round.Tasks.Select(t => t.Responses), again.Tasks.Select(t => t.Responses));
        Assert.Equal(round.Pairs.Select(p => (p.Chosen, p.Rejected)), again.Pairs.Select(p => (p.Chosen, p.Rejected)));
    }

    [Fact]
    public void CollectDistinct_SamplesOnlyQuestionsShortOfK_SkipsEmptyAndRepeated_AndGivesUpAfterTheRoundLimit()
    {
        var requested = new List<int[]>();
        // Question 0 answers anew every round, question 1 has only two answers in it, question 2 starts with an empty one;
        // every answer names its question, so a response filed under the wrong question would show.
        var distinct = LabelingRound.CollectDistinct([2, 4, 3], (pending, round) =>
        {
            requested.Add(pending.ToArray());
            return pending.Select(i => i switch
            {
                0 => $"q0-{round}",
                1 => $"q1-{round % 2}",
                _ => round == 0 ? "" : $"q2-{round}",
            }).ToList();
        });

        Assert.Equal(["q0-0", "q0-1"], distinct[0]);
        Assert.Equal(["q1-0", "q1-1"], distinct[1]);                 // short of its K = 4 after every round: kept as it is
        Assert.Equal(["q2-1", "q2-2", "q2-3"], distinct[2]);
        Assert.Equal(LabelingRound.MaxSamplingRounds, requested.Count);
        Assert.Equal([[0, 1, 2], [0, 1, 2], [1, 2], [1, 2]], requested.Take(4));
        Assert.All(requested.Skip(4), pending => Assert.Equal([1], pending));

        Assert.Throws<InvalidOperationException>(() => LabelingRound.CollectDistinct([2, 2], (pending, _) => ["only one"]));
    }
}
