using System.Text.Json;
using System.Text.Json.Nodes;
using RlhfSharp.Checkpoints;
using RlhfSharp.Training.Core;
using RlhfSharp.Training.Losses;
using TorchSharp;

namespace RlhfSharp.Training.Ppo;

public sealed partial class PpoTrainer
{
    /// <summary>Writes a checkpoint: policy, value model or head, both optimizers, KL controller, samplers, iteration, RNG.</summary>
    public string SaveCheckpoint(CheckpointStore store)
    {
        var data = new CheckpointData
        {
            Step = Iteration,
            DataPosition = promptSampler.Position,
            TrainerState = new JsonObject
            {
                ["kl_controller"] = JsonSerializer.SerializeToNode(kl.GetState()),
                ["ptx_position"] = ptxSampler is null ? null : JsonSerializer.SerializeToNode(ptxSampler.Position),
            },
        };
        data.Models["policy"] = models.PolicyAdapters is { } lora ? dir => AdapterFolder.Save(lora, dir, null) : dir => HfModelSaver.Save(models.Policy, dir);
        if (models.Value is not null && valueOpt is not null)
            data.Models["value"] = models.ValueAdapters is { } valueLora ? dir => AdapterFolder.Save(valueLora, dir, null) : dir => HfModelSaver.Save(models.Value, dir);
        if (valueHeadModule is not null) data.AddModule("value_head", valueHeadModule);
        data.Optimizers["policy"] = policyOpt;
        if (valueOpt is not null) data.Optimizers["value"] = valueOpt;
        return store.Save(data);
    }

    /// <summary>Restores the latest checkpoint in <paramref name="store"/>, if any. Returns whether one was found.</summary>
    public bool TryResume(CheckpointStore store)
    {
        var ckpt = store.LoadLatest();
        if (ckpt is null) return false;
        if (models.PolicyAdapters is { } lora) AdapterFolder.LoadWeights(lora, ckpt.ModelFolder("policy"));
        else HfModelLoader.LoadWeightsInto(models.Policy, ckpt.ModelFolder("policy"));
        if (valueOpt is not null)
        {
            if (models.ValueAdapters is { } valueLora) AdapterFolder.LoadWeights(valueLora, ckpt.ModelFolder("value"));
            else HfModelLoader.LoadWeightsInto(models.Value!, ckpt.ModelFolder("value"));
        }
        if (valueHeadModule is not null) ckpt.LoadModule("value_head", valueHeadModule);
        ckpt.LoadOptimizer("policy", policyOpt);
        if (valueOpt is not null) ckpt.LoadOptimizer("value", valueOpt);
        if (ckpt.DataPosition is { } pos) promptSampler.Skip(pos);
        if (ckpt.TrainerState["kl_controller"] is JsonNode klNode)
            kl.LoadState(klNode.Deserialize<KlControllerState>() ?? throw new UserError($"{ckpt.Folder}: unreadable KL controller state"));
        if (ptxSampler is not null && ckpt.TrainerState["ptx_position"] is JsonNode p)
            ptxSampler.Skip(p.Deserialize<SamplerPosition>()!);
        ckpt.RestoreTorchRng();
        Iteration = (int)ckpt.Step;
        return true;
    }
}
