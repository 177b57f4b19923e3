using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using RlhfSharp.Checkpoints;
using RlhfSharp.Generation;
using RlhfSharp.Models;
using RlhfSharp.Models.Lora;

namespace RlhfSharp.Training.Rl;

/// <summary>How the trainer hands the policy to a server: a folder writer, and whether it writes a PEFT LoRA adapter
/// (loaded with <c>/v1/load_lora_adapter</c>) or a full HF model folder (<c>/v1/load_weights</c>).</summary>
/// <param name="Save">writes the policy as it is now into the (new, empty) folder it is given.</param>
/// <param name="IsAdapter">true: <paramref name="Save"/> writes a PEFT adapter; false: a full model folder.</param>
public sealed record PolicySnapshot(Action<string> Save, bool IsAdapter)
{
    /// <summary>The policy's snapshot: its LoRA adapter when it has one (PEFT folder, base = <paramref name="baseFolder"/>),
    /// else the whole model as an HF folder with <paramref name="baseFolder"/>'s tokenizer.</summary>
    public static PolicySnapshot Of(CausalLM policy, LoraAdapters? adapters, string baseFolder) => adapters is not null
        ? new(folder => AdapterFolder.Save(adapters, folder, Path.GetFullPath(baseFolder), baseFolder), IsAdapter: true)
        : new(folder => HfModelSaver.Save(policy, folder, baseFolder), IsAdapter: false);
}

/// <summary>The inference server failed or is unreachable: one message naming its URL (a user error, exit code 2).</summary>
public sealed class RolloutServerError(string message, Exception? inner = null) : UserError(message, inner);

/// <summary>
/// Generates rollouts on an OpenAI-compatible server (vLLM, <c>rlhf serve</c>). Each row is one
/// <c>POST /v1/completions</c> whose prompt is the row's token ids (OpenAI's API takes a prompt as a list of ints), with
/// vLLM's <c>return_tokens_as_token_ids</c>, so the tokens come back as "token_id:N" strings in
/// <c>choices[0].logprobs.tokens</c> and are never re-tokenized (vLLM serving_engine's <c>_get_decoded_token</c>). The
/// response end id is the one stop token (<c>stop_token_ids</c>, with <c>ignore_eos</c> so the model's own EOS does not
/// also stop it: vLLM's scheduler checks stop_token_ids apart from ignore_eos), as local sampling stops there.
/// Requests run concurrently, so vLLM batches them.
/// <para>
/// Weights: a fresh run assumes the server starts out serving the starting policy. Before the rollout of iteration i,
/// when the last sync was at least <see cref="RolloutEngineSettings.SyncEvery"/> iterations ago (and always first
/// after a resume), the policy is written to <c>syncFolder/iteration-i</c> and the server is told to load it; the
/// previous folder (and adapter) is then dropped.
/// </para>
/// </summary>
public sealed class OpenAiRolloutEngine : IRolloutEngine
{
    /// <summary>Requests in flight at once.</summary>
    const int MaxConcurrentRequests = 32;

    readonly HttpClient http;
    readonly string baseUrl;
    readonly RolloutEngineSettings settings;
    readonly PolicySnapshot snapshot;
    readonly string syncFolder;
    readonly Action<string> log;
    readonly string runTag = Guid.NewGuid().ToString("N")[..6];   // adapter names differ between processes, so a resume never collides with a name the server still holds
    string? baseModel, servedModel, servedFolder;
    int? syncedIteration;

    /// <param name="settings">the URL, served model name and sync interval.</param>
    /// <param name="snapshot">how to write the policy for the server.</param>
    /// <param name="syncFolder">where the synced weights are written (the server must be able to read it: same machine or a shared disk).</param>
    /// <param name="log">progress messages (each sync).</param>
    /// <param name="timeout">longest wait for one response; default 10 minutes.</param>
    public OpenAiRolloutEngine(RolloutEngineSettings settings, PolicySnapshot snapshot, string syncFolder, Action<string>? log = null, TimeSpan? timeout = null)
    {
        if (!settings.UsesServer || settings.Url is null) throw new ArgumentException("the openai rollout engine needs rollout_engine openai and a rollout_url");
        (this.settings, this.snapshot, this.syncFolder, this.log) = (settings, snapshot, Path.GetFullPath(syncFolder), log ?? (_ => { }));
        var url = settings.Url.TrimEnd('/');
        baseUrl = url.EndsWith("/v1", StringComparison.Ordinal) ? url[..^3] : url;
        http = new HttpClient { Timeout = timeout ?? TimeSpan.FromMinutes(10) };
        baseModel = settings.Model;
    }

    /// <summary>The name requests use now: the starting policy's, or the last synced adapter's.</summary>
    public string? ServedModel => servedModel ?? baseModel;

    /// <inheritdoc/>
    public GenerationResult Generate(CausalLM policy, IReadOnlyList<IReadOnlyList<int>> prompts, RolloutSampling options, int iteration)
    {
        baseModel ??= FirstListedModel();
        if (syncedIteration is null && iteration == 0) syncedIteration = 0;   // a fresh run: the server serves the starting policy
        if (syncedIteration is null || iteration - syncedIteration >= settings.SyncEvery) Sync(iteration);

        var rows = Wait(Task.WhenAll(Enumerable.Range(0, prompts.Count).Select(row => Complete(prompts[row], options, row, iteration))), $"generating iteration {iteration + 1}'s rollout");
        var responses = rows.Select(r => r.Ids).ToList();
        bool allStopped = responses.All(r => r.Length > 0 && r[^1] == options.EosId);
        int width = Sampler.ResponseWidth(responses.Select(r => r.Length).ToList(), allStopped, options.MaxNewTokens);
        return GenerationResult.FromResponses(prompts, responses, rows.Select(r => r.LogProbs).ToList(), width, options.PadId, policy.Device);
    }

    readonly SemaphoreSlim inFlight = new(MaxConcurrentRequests);

    async Task<(int[] Ids, float[] LogProbs)> Complete(IReadOnlyList<int> prompt, RolloutSampling options, int row, int iteration)
    {
        var body = new JsonObject
        {
            ["model"] = ServedModel,
            ["prompt"] = new JsonArray(prompt.Select(id => (JsonNode)id).ToArray()),
            ["max_tokens"] = options.MaxNewTokens,
            ["temperature"] = options.Greedy ? 0.0 : options.Temperature,
            ["top_p"] = 1.0,
            ["n"] = 1,
            ["seed"] = options.Seed + row,                                // one draw per row, a pure function of (seed, iteration, row)
            ["logprobs"] = 1,
            ["return_tokens_as_token_ids"] = true,
            ["stop_token_ids"] = new JsonArray(options.EosId),
            ["ignore_eos"] = true,
        };
        await inFlight.WaitAsync();
        JsonNode reply;
        try { reply = await Post("/v1/completions", body); }
        finally { inFlight.Release(); }
        try { return ParseChoice(reply, options, row); }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw Bad($"row {row}: a malformed reply to /v1/completions ({e.Message})");
        }
    }

    (int[] Ids, float[] LogProbs) ParseChoice(JsonNode reply, RolloutSampling options, int row)
    {
        var choice = reply["choices"]?.AsArray().FirstOrDefault()
            ?? throw Bad($"row {row}: the reply to /v1/completions has no choices");
        var tokens = choice["logprobs"]?["tokens"]?.AsArray()
            ?? throw Bad($"row {row}: the reply has no logprobs.tokens (the server must honour logprobs and return_tokens_as_token_ids, as vLLM does)");
        var ids = new int[tokens.Count];
        for (int i = 0; i < ids.Length; i++)
        {
            var text = tokens[i]?.GetValue<string>() ?? "";
            ids[i] = text.StartsWith("token_id:", StringComparison.Ordinal) && int.TryParse(text.AsSpan(9), NumberStyles.Integer, CultureInfo.InvariantCulture, out var id) ? id
                : throw Bad($"row {row}: token {i} is '{text}', not 'token_id:N' (the server ignored return_tokens_as_token_ids)");
        }
        var logProbs = choice["logprobs"]?["token_logprobs"]?.AsArray().Select(v => v is null ? 0f : (float)v.GetValue<double>()).ToArray() ?? [];

        // The response must end as local sampling ends it: at the response end id, or at the token limit.
        int eosAt = Array.IndexOf(ids, options.EosId);
        if (eosAt >= 0 && eosAt != ids.Length - 1) throw Bad($"row {row}: the response continues after the stop token {options.EosId} (the server ignored stop_token_ids)");
        if (ids.Length > options.MaxNewTokens) throw Bad($"row {row}: {ids.Length} tokens, more than max_tokens {options.MaxNewTokens}");
        if (eosAt < 0 && ids.Length < options.MaxNewTokens)
            throw Bad($"row {row}: the response stopped after {ids.Length} tokens without the stop token {options.EosId} (finish_reason {choice["finish_reason"]?.ToJsonString() ?? "null"}); " +
                      "the server must stop only at stop_token_ids (send ignore_eos) or the token limit");
        return (ids, logProbs);
    }

    /// <summary>Writes the policy and has the server load it.</summary>
    void Sync(int iteration)
    {
        var folder = Path.Combine(syncFolder, $"iteration-{iteration}");
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        Directory.CreateDirectory(folder);
        snapshot.Save(folder);
        string? previousAdapter = servedModel;
        if (snapshot.IsAdapter)
        {
            // vLLM's dynamic LoRA endpoint (VLLM_ALLOW_RUNTIME_LORA_UPDATING=True); later requests name the adapter.
            string name = $"{baseModel}-rlhf-{runTag}-it{iteration}";
            Wait(Post("/v1/load_lora_adapter", new JsonObject { ["lora_name"] = name, ["lora_path"] = folder }), $"loading the policy's adapter {folder}");
            servedModel = name;
            if (previousAdapter is not null)
            {
                // Best effort: a server that cannot unload only holds one more adapter.
                try { Wait(Post("/v1/unload_lora_adapter", new JsonObject { ["lora_name"] = previousAdapter }), "unloading the previous adapter"); }
                catch (RolloutServerError e) { log($"note: {e.Message}"); }
            }
        }
        else Wait(Post("/v1/load_weights", new JsonObject { ["model_path"] = folder }), $"loading the policy's weights {folder}");
        if (servedFolder is not null && servedFolder != folder && Directory.Exists(servedFolder)) Directory.Delete(servedFolder, recursive: true);
        servedFolder = folder;
        syncedIteration = iteration;
        log($"rollout server {baseUrl}: serving the policy of iteration {iteration} ({(snapshot.IsAdapter ? "adapter " + servedModel : "full weights")})");
    }

    string FirstListedModel()
    {
        var reply = Wait(Get("/v1/models"), "listing its models");
        return reply["data"]?.AsArray().FirstOrDefault()?["id"]?.GetValue<string>()
            ?? throw Bad("GET /v1/models lists no model; name the policy's served model with rollout_model");
    }

    async Task<JsonNode> Post(string path, JsonObject body)
    {
        using var response = await Send(() => http.PostAsync(baseUrl + path, new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json")), path);
        return await Read(response, path);
    }

    async Task<JsonNode> Get(string path)
    {
        using var response = await Send(() => http.GetAsync(baseUrl + path), path);
        return await Read(response, path);
    }

    async Task<HttpResponseMessage> Send(Func<Task<HttpResponseMessage>> send, string path)
    {
        try { return await send(); }
        catch (HttpRequestException e) { throw Down($"cannot reach it ({e.Message})", e); }
        catch (TaskCanceledException e) { throw Down($"no answer to {path} within {http.Timeout.TotalSeconds:0} s", e); }
    }

    async Task<JsonNode> Read(HttpResponseMessage response, string path)
    {
        string text;
        try { text = await response.Content.ReadAsStringAsync(); }
        catch (Exception e) when (e is HttpRequestException or IOException) { throw Down($"the connection broke while reading the answer to {path} ({e.Message})", e); }
        JsonNode? json = null;
        try { json = JsonNode.Parse(text); } catch (JsonException) { }
        if (!response.IsSuccessStatusCode)
        {
            // OpenAI's error body {"error": {"message"}}, vLLM's {"message"} or {"detail"}, or the raw text.
            var message = json?["error"]?["message"]?.ToString() ?? json?["message"]?.ToString() ?? json?["detail"]?.ToString() ?? text;
            throw Bad($"{path} answered {(int)response.StatusCode}: {message}");
        }
        return json ?? (path.Contains("lora") || path.Contains("weights") ? new JsonObject() : throw Bad($"{path} answered with something that is not JSON: {text[..Math.Min(200, text.Length)]}"));
    }

    T Wait<T>(Task<T> task, string doing)
    {
        try { return task.GetAwaiter().GetResult(); }
        catch (RolloutServerError e) { throw new RolloutServerError($"{e.Message} (while {doing})", e.InnerException); }
    }

    RolloutServerError Down(string problem, Exception inner) =>
        new($"rollout server {baseUrl}: {problem}; start it again and rerun with --resume (the run continues from its last checkpoint)", inner);

    RolloutServerError Bad(string problem) => new($"rollout server {baseUrl}: {problem}");

    /// <summary>Frees the HTTP client (the server and the last synced folder stay).</summary>
    public void Dispose()
    {
        http.Dispose();
        inFlight.Dispose();
    }
}
