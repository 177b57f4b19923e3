namespace RlhfSharp.Demo;

/// <summary>
/// Sizes of the built-in demo. <see cref="Default"/> fits in under 5 minutes on 2 CPU cores, <see cref="Quick"/> in
/// well under one (for tests: it shows the plumbing, not the effect). Learning rates are far above the paper's because the
/// models are tiny and trained from scratch.
/// </summary>
public sealed record DemoOptions
{
    /// <summary>People whose facts the pretraining corpus states (one fact per attribute of <see cref="FactWorld.Attributes"/>), so a model can know them.</summary>
    public int KnownEntities { get; init; } = 40;
    /// <summary>People the pretraining corpus never names, so a model cannot know their facts and any answer about them is a guess.</summary>
    public int UnknownEntities { get; init; } = 40;
    /// <summary>Times each known fact is stated (in every paraphrase) in the pretraining corpus.</summary>
    public int CorpusRepeats { get; init; } = 12;
    /// <summary>Vocabulary size asked of the BPE trainer (total entries, the 256 bytes and the two special tokens included).</summary>
    public int VocabSize { get; init; } = 1024;
    /// <summary>Demonstrations written per SFT question, each in an independently drawn style.</summary>
    public int DemonstrationsPerQuestion { get; init; } = 4;
    /// <summary>Share of demonstrations that hedge ("I think ...") or decline ("I don't know.") whatever the question.</summary>
    public double HedgeRate { get; init; } = 0.1;
    /// <summary>Share of demonstrations that decline ("I don't know.") whatever the question; see <see cref="HedgeRate"/>.</summary>
    public double DontKnowRate { get; init; } = 0.1;

    /// <summary>Transformer layers of the GPT-2-shaped model trained from scratch.</summary>
    public int Layers { get; init; } = 4;
    /// <summary>Hidden size of the model; the MLP is 4 times as wide.</summary>
    public int Dim { get; init; } = 128;
    /// <summary>Attention heads; each is <see cref="Dim"/> / <see cref="Heads"/> wide.</summary>
    public int Heads { get; init; } = 4;
    /// <summary>The model's context length in tokens (its maximum positions); pretraining blocks are this long.</summary>
    public int Context { get; init; } = 64;

    /// <summary>Optimizer steps of pretraining from scratch (the first 50 warm up), each on <see cref="BatchSize"/> blocks.</summary>
    public int PretrainSteps { get; init; } = 700;
    /// <summary>Peak learning rate of pretraining.</summary>
    public double PretrainLr { get; init; } = 3e-3;
    /// <summary>About 37 epochs of the demonstrations at a gentle rate. Measured on seed 1 (forced choice among the 8
    /// values on held-out known facts after the chat prompt; the pretrained model: 25/30): lr 1e-3 for 400 steps erodes
    /// recall (17/30; answers then repeated the name); 1e-3 for 100 steps keeps it (25/30) but most sampled abstentions come out garbled ("I't know.",
    /// scored as confidently wrong), which teaches the reward model that abstaining is bad; 3e-4 for 300 steps still
    /// garbles a third; 3e-4 for 500 steps keeps recall (25/30) and samples "I don't know." cleanly.</summary>
    public int SftSteps { get; init; } = 500;
    /// <summary>Peak learning rate of SFT; the measurements behind it are under <see cref="SftSteps"/>.</summary>
    public double SftLr { get; init; } = 3e-4;
    /// <summary>Steps of <see cref="RewardBatchSize"/> whole rankings: about 3.5 epochs of the ~950 rankings that
    /// <see cref="RankingsPerPrompt"/> gives. With 9 rankings per prompt, mean of 2 reward-model seeds, held-out accuracy
    /// against gold (4 rankings per held-out prompt): 200 / 300 steps gave 0.807 / 0.781 on seed 3 and 0.796 / 0.800 on
    /// seed 2 (docs/demo-results.md, round 6), within the noise between draws; 200 is the cheaper.</summary>
    public int RewardSteps { get; init; } = 200;
    /// <summary>Rankings per reward-model step; each ranking's C(K,2) pairs share one batch element (InstructGPT 3.5).</summary>
    public int RewardBatchSize { get; init; } = 16;
    /// <summary>
    /// Ranking tasks per labeled prompt, each on fresh samples. The labelers are calibrated to InstructGPT's 73%
    /// agreement, so each pair carries little signal, and with 3 rankings per prompt (~300) the reward model learned
    /// neither to check facts nor to spot unknown people reliably. Mean of 4 / 2 / 2 reward-model seeds, held-out accuracy
    /// against gold, 3 rankings (100 steps) / 6 (200) / 9 (200): seed 3 0.710 / 0.769 / 0.807, seed 2 0.744 / 0.775 / 0.796, against
    /// agreements of 0.72-0.74 (docs/demo-results.md, round 6). The labeling phase then takes 28-39 s on 2 cores.
    /// </summary>
    public int RankingsPerPrompt { get; init; } = 9;
    /// <summary>Ranking tasks per held-out prompt, which only measure the reward model against gold: with one (about 300
    /// pairs whose gold differs) the measured accuracy of the same model moved by up to 0.06 between draws.</summary>
    public int HeldOutRankingsPerPrompt { get; init; } = 4;
    /// <summary>
    /// Also rank answers to the SFT split's known-fact questions (on top of the RL prompts), so the reward model's
    /// comparisons cover 90 distinct known facts instead of 30. With the RL prompts alone it memorises its 30 facts
    /// (training pairs "correct &gt; confidently wrong" 1.00, held-out 0.56). Seed 3, same SFT model, mean of 4
    /// reward-model training seeds: held-out accuracy against gold 0.591 -&gt; 0.712, known-fact pairs 0.51 -&gt; 0.70
    /// (docs/demo-results.md, round 5). Only known facts are added: the model memorised the SFT split's unknown people
    /// from their demonstrations. PPO, GRPO and RLOO still train on the RL prompts alone.
    /// </summary>
    public bool RankSftKnownFacts { get; init; } = true;
    /// <summary>Peak learning rate of the reward model.</summary>
    public double RewardLr { get; init; } = 3e-4;
    /// <summary>PPO iterations (rollout + update).</summary>
    public int PpoIterations { get; init; } = 40;
    /// <summary>Prompts sampled per PPO iteration; each of the 2 PPO epochs updates on minibatches of half of them.</summary>
    public int PpoRolloutBatch { get; init; } = 32;
    /// <summary>Learning rate of both the policy and the value model in PPO.</summary>
    public double PpoLr { get; init; } = 1e-4;
    /// <summary>Coefficient beta of PPO's per-token KL penalty to the SFT model; fixed, as the demo sets no KL target.</summary>
    public double PpoKlCoef { get; init; } = 0.2;
    /// <summary>GRPO iterations against the same reward model, each on <see cref="GrpoPromptsPerIteration"/> × <see cref="GrpoGroupSize"/> responses.</summary>
    public int GrpoIterations { get; init; } = 40;
    /// <summary>Prompts per GRPO iteration; with the group size, as many responses as a PPO rollout.</summary>
    public int GrpoPromptsPerIteration { get; init; } = 4;
    /// <summary>Responses per prompt in GRPO (TRL's num_generations 8).</summary>
    public int GrpoGroupSize { get; init; } = 8;
    /// <summary>Weight of GRPO's k3 KL term in the loss: PPO's and RLOO's KL coefficient, not DeepSeekMath's 0.04 (Shao et
    /// al. 2024, §4.1) nor TRL's current 0, because the demo optimises a learned reward model that can be over-optimised.
    /// Seeds 1 / 2 / 3, same reward model, held-out gold reward (KL to SFT): β 0.04 gave -0.33 / -0.05 / -1.56 (6.1 / 1.9 /
    /// 9.7), with degenerate greedy answers ("I don't't't...") that the reward model scores like "I don't know."; β 0.2
    /// gave -0.02 / -0.43 / -0.09 (1.5 / 1.5 / 2.2). No std division (Dr. GRPO) at 0.04: -1.65 / -0.29 / -0.02; lr 3e-5
    /// at 0.04: -0.52 / -0.31 / -0.33 (docs/demo-results.md, round 6).</summary>
    public double GrpoBeta { get; init; } = 0.2;
    /// <summary>RLOO iterations against the same reward model, each on <see cref="RlooPromptsPerIteration"/> × <see cref="RlooGroupSize"/> responses.</summary>
    public int RlooIterations { get; init; } = 40;
    /// <summary>Prompts per RLOO iteration; with the group size, as many responses as a PPO rollout.</summary>
    public int RlooPromptsPerIteration { get; init; } = 8;
    /// <summary>Responses per prompt in RLOO (Ahmadian et al. 2024 use k = 4).</summary>
    public int RlooGroupSize { get; init; } = 4;
    /// <summary>Learning rate of GRPO and RLOO; PPO's, so the three on-policy methods differ only in their estimator.</summary>
    public double CriticFreeLr { get; init; } = 1e-4;
    /// <summary>Optimizer steps of DPO, the baseline trained on the same pairs without a reward model.</summary>
    public int DpoSteps { get; init; } = 150;
    /// <summary>Seed 1, 150 steps: lr 3e-4 drifted to KL 21.6 from SFT (gold -2.27), 1e-4 to KL 4.9 (gold -1.34), 3e-5 to
    /// KL 3.8 (gold -0.43), about PPO's KL; the best of the three is kept so the baseline is a fair one.</summary>
    public double DpoLr { get; init; } = 3e-5;
    /// <summary>Examples per optimizer step in pretraining (blocks), SFT (demonstrations) and DPO (pairs).</summary>
    public int BatchSize { get; init; } = 32;
    /// <summary>Longest response in tokens: labelers' candidates, PPO rollouts and evaluated answers.</summary>
    public int MaxNewTokens { get; init; } = 24;
    /// <summary>
    /// Sampling temperature for the labelers' candidates and for PPO rollouts: 1, the policy as it is (TRL's PPO default;
    /// lm-human-preferences used 0.7). Measured over seeds 1-3: at 0.7 the sharpened policy seldom samples an abstention
    /// on unknown people, so PPO found it on two seeds of three (seed 2: hallucination 0.89 -> 0.50, gold-reward interval
    /// overlapping SFT's); at 1 on all three.
    /// </summary>
    public double Temperature { get; init; } = 1.0;

    /// <summary>Seed of the run: the world, corpus, demonstrations, labeling, training and evaluation sampling all derive from it.</summary>
    public int Seed { get; init; } = 1;
    /// <summary>Where the models run: "cpu", "cuda" or "cuda:N".</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>The default sizes: under 5 minutes on 2 CPU cores (seeds 1-3 on this project's machine, docs/demo-results.md).</summary>
    public static DemoOptions Default => new();

    /// <summary>A smaller world, model and phases for tests (well under a minute on 2 CPU cores): it shows the plumbing, not the effect.</summary>
    public static DemoOptions Quick => new()
    {
        KnownEntities = 16, UnknownEntities = 16, CorpusRepeats = 6, VocabSize = 600,
        Layers = 2, Dim = 64, Heads = 2,
        PretrainSteps = 150, SftSteps = 50, RewardSteps = 20, PpoIterations = 6, PpoRolloutBatch = 16, DpoSteps = 30,
        GrpoIterations = 4, GrpoPromptsPerIteration = 2, RlooIterations = 4, RlooPromptsPerIteration = 4,
        BatchSize = 16, RankSftKnownFacts = false, RankingsPerPrompt = 3, HeldOutRankingsPerPrompt = 1,
    };

    /// <summary>On a GPU the same task runs with a larger model and longer phases (not yet run on a GPU by this project); the
    /// labeling and reward-model sizes are the defaults' (9 rankings per prompt, 200 reward steps).</summary>
    public static DemoOptions Cuda => new()
    {
        KnownEntities = 80, UnknownEntities = 80, Layers = 6, Dim = 256, Heads = 8,
        PretrainSteps = 2000, PpoIterations = 100, PpoRolloutBatch = 64, DpoSteps = 300,
        GrpoIterations = 100, GrpoPromptsPerIteration = 8, RlooIterations = 100, RlooPromptsPerIteration = 16,
        BatchSize = 64, Device = "cuda",
    };
}
