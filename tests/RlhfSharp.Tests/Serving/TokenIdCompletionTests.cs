using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Xunit;

namespace RlhfSharp.Tests.Serving;

/// <summary>
/// rlhf serve's /v1/completions with the fields an RL trainer (or any vLLM client) sends: the prompt as token ids,
/// logprobs with return_tokens_as_token_ids, stop_token_ids and ignore_eos; and the weight endpoints' bad input.
/// </summary>
public class TokenIdCompletionTests(ServedTinyServer served) : IClassFixture<ServedTinyServer>
{
    const string Text = "which response is better";

    async Task<(HttpStatusCode Status, JsonNode Body)> Post(string path, JsonObject body)
    {
        using var http = served.Http();
        var reply = await http.PostAsJsonAsync(path, body);
        var text = await reply.Content.ReadAsStringAsync();
        return (reply.StatusCode, JsonNode.Parse(text.StartsWith('{') ? text : "{}")!);
    }

    JsonObject Greedy(JsonNode prompt, int maxTokens = 10) => new()
    {
        ["model"] = served.Tiny.Model.Id, ["prompt"] = prompt, ["max_tokens"] = maxTokens, ["temperature"] = 0,
    };

    static JsonArray Ids(IEnumerable<int> ids) => new(ids.Select(i => (JsonNode)i).ToArray());

    static int[] TokenIds(JsonNode choice) =>
        choice["logprobs"]!["tokens"]!.AsArray().Select(t => int.Parse(t!.GetValue<string>()["token_id:".Length..])).ToArray();

    [Fact]
    public async Task TokenIdPrompt_AnswersAsTheSameTextPrompt_AndReturnsTheTokensAsIds()
    {
        var promptIds = served.Tiny.Model.EncodeRaw(Text);
        var (status, asText) = await Post("/v1/completions", Greedy(Text));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Null(asText["choices"]![0]!["logprobs"]);   // not asked for: left out, as before

        var body = Greedy(Ids(promptIds));
        body["logprobs"] = 1;
        body["return_tokens_as_token_ids"] = true;
        var (status2, asIds) = await Post("/v1/completions", body);
        Assert.Equal(HttpStatusCode.OK, status2);
        var choice = asIds["choices"]![0]!;
        Assert.Equal(asText["choices"]![0]!["text"]!.GetValue<string>(), choice["text"]!.GetValue<string>());
        Assert.Equal(asText["usage"]!.ToJsonString(), asIds["usage"]!.ToJsonString());
        var ids = TokenIds(choice);
        Assert.Equal(asIds["usage"]!["completion_tokens"]!.GetValue<int>(), ids.Length);
        Assert.Equal(choice["text"]!.GetValue<string>(), served.Tiny.Model.Folder.Tokenizer.Decode(ids, skipSpecialTokens: true));
        var logProbs = choice["logprobs"]!["token_logprobs"]!.AsArray().Select(v => v!.GetValue<double>()).ToList();
        Assert.Equal(ids.Length, logProbs.Count);
        Assert.All(logProbs, lp => Assert.True(lp < 0 && double.IsFinite(lp), $"log-prob {lp}"));
    }

    [Fact]
    public async Task StopTokenIds_EndTheResponseAtTheId_WhichIsKept()
    {
        var body = Greedy(Ids(served.Tiny.Model.EncodeRaw(Text)), 10);
        body["logprobs"] = 0;
        body["return_tokens_as_token_ids"] = true;
        body["ignore_eos"] = true;
        var free = TokenIds((await Post("/v1/completions", body)).Body["choices"]![0]!);
        Assert.Equal(10, free.Length);
        int stop = free[3];
        int cut = Array.IndexOf(free, stop);

        body["stop_token_ids"] = Ids([stop]);
        var choice = (await Post("/v1/completions", body)).Body["choices"]![0]!;
        Assert.Equal(free[..(cut + 1)], TokenIds(choice));
        Assert.Equal("stop", choice["finish_reason"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("[]", "empty list of token ids")]
    [InlineData("[99999]", "outside the vocabulary")]
    [InlineData("[[1, 2]]", "one list of token ids")]
    [InlineData("[1.5]", "one list of token ids")]
    public async Task BadTokenIdPrompts_Are400s(string prompt, string message)
    {
        var (status, body) = await Post("/v1/completions", Greedy(JsonNode.Parse(prompt)!));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains(message, body["error"]!["message"]!.GetValue<string>());
        Assert.Equal("prompt", body["error"]!["param"]!.GetValue<string>());
    }

    [Fact]
    public async Task WeightEndpoints_RefuseBadInput()
    {
        var (status, body) = await Post("/v1/unload_lora_adapter", new JsonObject { ["lora_name"] = "nope" });
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Contains("'nope' cannot be found", body["error"]!["message"]!.GetValue<string>());

        (status, body) = await Post("/v1/load_lora_adapter", new JsonObject { ["lora_name"] = "a", ["lora_path"] = "/no/such/adapter" });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("/no/such/adapter is not a folder", body["error"]!["message"]!.GetValue<string>());

        (status, body) = await Post("/v1/load_lora_adapter", new JsonObject { ["lora_name"] = served.Tiny.Model.Id, ["lora_path"] = served.Tiny.Dir });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("already been loaded", body["error"]!["message"]!.GetValue<string>());

        (status, body) = await Post("/v1/load_weights", new JsonObject());
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("model_path", body["error"]!["param"]!.GetValue<string>());
    }
}
