using System.Diagnostics;
using RlhfSharp.Checkpoints;
using RlhfSharp.Configuration;
using RlhfSharp.Data;
using RlhfSharp.Devices;
using RlhfSharp.Models;
using RlhfSharp.Training.Core;
using RlhfSharp.Training.Rl;

namespace RlhfSharp.Training.CriticFree;

/// <summary>
/// What <see cref="GrpoPhase"/> and <see cref="RlooPhase"/> share: open the policy folder, render the prompts, build the
/// weighted rewards (a reward model and/or verifiable rewards on the prompts' answers), load the policy and its frozen
/// reference, train, and write the policy as an HF folder.
/// </summary>
static class CriticFreePhase
{
    public static PhaseResult Run(CriticFreeSettings settings, CriticFreeObjective objective, CriticFreeSources sources, RunOptions run)
    {
        string phase = objective.Phase;
        if (run.Distributed != Distributed.DistributedMode.None && settings.RolloutEngine.UsesServer)
            throw new UserError($"{phase}: --rollout-engine openai cannot be combined with --distributed {run.Distributed.ToString().ToLowerInvariant()} " +
                "(the ranks would share one server); roll out locally on each rank, or use the server from one process");
        var (device, resume, group) = PhaseStart.CheckDataParallel(phase, run);
        using var current = Distributed.ProcessGroup.Use(group);
        // Rank 0 alone reports; the others train silently.
        if (!group.IsMain) run = run with { Progress = NullProgress.Instance };
        Ppo.PpoTrainer.CheckSplit(group, phase, "prompts_per_iteration", settings.PromptsPerIteration);
        if (group.Size > 1) run.Progress.Message($"{phase}: data-parallel over {group.Size} processes, {settings.PromptsPerIteration / group.Size} prompts each per iteration");
        var clock = Stopwatch.StartNew();
        var policyFolder = ModelFolder.Open(sources.PolicyFolder, sources.Tokenizer);
        if (sources.RewardFolder is { } rewardFolder) RlPrompts.CheckRewardFolder(rewardFolder, sources.PolicyFolder);
        var functions = settings.RewardFunctionKinds;
        var weights = RewardWeights(phase, settings, sources.RewardFolder is not null, functions);
        CheckAnswers(phase, sources.Prompts, functions);
        var notes = new List<string>();
        void Note(string text) { notes.Add(text); run.Progress.Message($"{phase}: {text}"); }

        var prompts = RlPrompts.Prepare(phase, sources.Prompts, policyFolder, settings.MaxNewTokens, Note);
        settings = settings with { MaxNewTokens = prompts.MaxNewTokens };

        var frozenDevice = sources.FrozenDevice is null ? device : DeviceSetup.Resolve(sources.FrozenDevice);
        var frozenDtype = ModelFolder.ParseDtype(settings.FrozenDtype);
        CausalLM? policy = null, reference = null;
        ScalarHeadModel? reward = null;
        try
        {
            policy = policyFolder.LoadCausalLM(device, Precision.Parse(settings.Dtype));
            // LoRA: the reference is the policy with its adapters off (no second copy of the weights).
            reference = settings.Lora.Enabled ? policy : policyFolder.LoadCausalLM(frozenDevice, frozenDtype);
            var terms = new List<RewardTerm>();
            if (sources.RewardFolder is not null)
            {
                reward = RlPrompts.LoadRewardModel(sources.RewardFolder, policyFolder, frozenDevice, frozenDtype);
                terms.Add(new RewardTerm("reward_model", new ModelRewardScorer(reward), weights[0]));
            }
            var answers = prompts.SourceIndex.Select(i => sources.Prompts[i].Answer ?? "").ToList();
            int endId = policyFolder.ResponseEndId;
            string Decode(int[] ids) => policyFolder.Tokenizer.Decode(ids.Length > 0 && ids[^1] == endId ? ids[..^1] : ids, skipSpecialTokens: true);
            foreach (var kind in functions)
                terms.Add(new RewardTerm(VerifiableRewards.Name(kind), new AnswerRewardScorer(kind, answers, Decode), weights[terms.Count]));

            run.Progress.Message($"{phase}: {prompts.PromptIds.Count} prompts, {settings.PromptsPerIteration} per iteration x {objective.GroupSize} responses, rewards " +
                                 string.Join(" + ", terms.Select(t => $"{t.Weight:G4} * {t.Name}")) + $", response end id {endId}, pad id {policyFolder.PadId}");
            using var adapters = settings.Lora.Attach(policy, phase, settings.Seed);
            var snapshot = PolicySnapshot.Of(policy, adapters, policyFolder.Path);
            using var engine = RolloutEngines.Open(settings.RolloutEngine, snapshot, run.Output, text => run.Progress.Message($"{phase}: {text}"));
            using var trainer = new CriticFreeTrainer(settings, objective, new CriticFreeModels(policy, reference, terms, adapters),
                prompts.PromptIds, endId, policyFolder.PadId)
            {
                ExtraMetrics = prompts.InSourceIndices(sources.RolloutMetrics), RolloutEngine = engine,
            };
            var last = trainer.Train(run.Output, policyFolder.Path, run.Progress, resume, run.Cancellation);
            return new PhaseResult
            {
                Phase = phase, OutputDir = Path.GetFullPath(run.Output), Steps = trainer.Iteration, StepUnit = "iterations", Seconds = clock.Elapsed.TotalSeconds,
                ResumedFromStep = trainer.ResumedFromIteration, Metrics = last, Notes = notes,
            };
        }
        finally
        {
            foreach (var model in new HfModel?[] { policy, ReferenceEquals(reference, policy) ? null : reference, reward }) model?.Dispose();
        }
    }

    /// <summary>One weight per reward (the reward model first, then the reward functions); all 1 when none are given.</summary>
    static IReadOnlyList<double> RewardWeights(string phase, CriticFreeSettings settings, bool hasRewardModel, IReadOnlyList<VerifiableRewardKind> functions)
    {
        var names = (hasRewardModel ? ["reward model"] : Array.Empty<string>()).Concat(functions.Select(VerifiableRewards.Name)).ToList();
        if (names.Count == 0)
            throw new ConfigError(phase, "reward_fn", "is none and no reward model is given: give a reward model folder, or verifiable rewards on the prompts' answers (exact, contains, regex, number)");
        var weights = settings.RewardWeightValues ?? Enumerable.Repeat(1.0, names.Count).ToList();
        if (weights.Count != names.Count)
            throw new ConfigError(phase, "reward_weights", $"gives {weights.Count} weight(s) for {names.Count} reward(s) ({string.Join(", ", names)})");
        return weights;
    }

    /// <summary>Every prompt needs an answer that each reward function can check; the first that does not is named.</summary>
    static void CheckAnswers(string phase, IReadOnlyList<Prompt> prompts, IReadOnlyList<VerifiableRewardKind> functions)
    {
        if (functions.Count == 0) return;
        foreach (var prompt in prompts)
        {
            var where = prompt.Source ?? phase;
            if (prompt.Answer is null)
                throw new UserError($"{where}: no \"{PromptReader.AnswerField}\" field, which reward_fn {VerifiableRewards.Name(functions[0])} compares responses with");
            foreach (var kind in functions)
                if (VerifiableRewards.AnswerProblem(kind, prompt.Answer) is { } problem)
                    throw new UserError($"{where}: field \"{PromptReader.AnswerField}\" cannot be checked by reward_fn {VerifiableRewards.Name(kind)}: {problem}");
        }
    }
}
