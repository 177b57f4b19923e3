using Xunit;

namespace RlhfSharp.Tests.Training.Core;

/// <summary>
/// Tests that seed or read torch's global generator (dropout, manual_seed, get_rng_state) must not run
/// beside other tests, which draw from the same process-wide generator.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GlobalRngCollection { public const string Name = "torch global RNG"; }
