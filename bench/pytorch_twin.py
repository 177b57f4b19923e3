#!/usr/bin/env python3
"""PyTorch twin of bench/RlhfSharp.Bench: the same GPT-2-shaped model, the same shapes, the same measurements.

Model (as RlhfSharp's gpt2 CausalLM / HF GPT2LMHeadModel): token + learned position embeddings, per block
LayerNorm -> causal SDPA attention (fused qkv Linear with bias, output projection with bias) -> residual,
LayerNorm -> MLP 4C with tanh-GELU -> residual; final LayerNorm; LM head tied to the token embedding.
Weights N(0, 0.02), biases 0. No dropout.

Measurements (same definitions as the C# bench):
  generate: random prompts of --prompt-len tokens, --new-tokens sampled tokens (temperature 1, no EOS), own KV-cache
            loop, best of 3 runs after a warm-up; tokens/s = batch * new_tokens / seconds (prefill included).
  train:    forward + cross-entropy on random tokens [batch, seq] + backward + AdamW step + zero_grad, one .item()
            per step; --warmup steps, then the mean over --steps; tokens/s = batch * seq / step time.
            AdamW variants: foreach (PyTorch's default), per-parameter loop (foreach=False), fused (CUDA).

  ppo:      (only with --only ppo) whole PPO-ptx iterations as the C# bench's PpoBench: policy, frozen reference,
            reward and value models of the same shape (value and reward: the trunk plus a Linear(C, 1) score head);
            rollout of --batch prompts of --prompt-len tokens with --new-tokens sampled (temperature 1, no EOS), the
            policy's and the reference's log-probs, values and the reward at the last token, per-token KL penalty
            (beta 0.2) with the score at the last token, GAE (gamma 1, lambda 0.95); then 2 epochs of 2 minibatches,
            each: policy and value forward, whitened advantages, clipped policy loss, clipped value loss (vf 0.1),
            ptx cross-entropy on 8 blocks of --seq tokens (coef 1), backward, gradient clipping at 1, AdamW steps
            (lr 1.41e-5, no weight decay). --warmup iterations, then the mean of --steps; seconds per iteration.

  logprobs: (only with --only logprobs) the per-token log-prob op alone, as the C# bench's LogProbsBench.

Every measurement is also printed as `RESULT {"line", "value", "unit"}` with the same line names as the C# bench, so
bench/gpu/run.sh can put both in one table.

Usage: python bench/pytorch_twin.py --device cuda --layers 12 --dim 768 --heads 12 --vocab 50257 --batch 8 --seq 1024 --dtype bf16
"""
import argparse
import copy
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def attention(q, k, v, attn_mask, is_causal):
    """softmax(q k^T / sqrt(D) + mask) v; PyTorch's fused kernel where it exists (2.0+), else the same maths
    spelled out, so the twin also runs on older installs such as Debian 12's python3-torch 1.13."""
    if hasattr(F, "scaled_dot_product_attention"):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, is_causal=is_causal)
    scores = (q @ k.transpose(-2, -1)) / math.sqrt(q.shape[-1])  # [B,H,T,S]
    if is_causal:
        attn_mask = torch.ones(q.shape[-2], k.shape[-2], dtype=torch.bool, device=q.device).tril()
    if attn_mask is not None:
        scores = scores.masked_fill(~attn_mask, float("-inf"))
    return scores.softmax(dim=-1) @ v


class Block(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.ln_1 = nn.LayerNorm(dim, eps=1e-5)
        self.c_attn = nn.Linear(dim, 3 * dim)
        self.c_proj = nn.Linear(dim, dim)
        self.ln_2 = nn.LayerNorm(dim, eps=1e-5)
        self.c_fc = nn.Linear(dim, 4 * dim)
        self.mlp_proj = nn.Linear(4 * dim, dim)

    def forward(self, x, cache=None):
        # x [B,T,C]; cache: None (training / no cache) or a dict holding this layer's "k", "v" [B,H,S,D]
        B, T, C = x.shape
        H, D = self.heads, C // self.heads
        q, k, v = self.c_attn(self.ln_1(x)).split(C, dim=-1)
        q, k, v = (t.view(B, T, H, D).transpose(1, 2) for t in (q, k, v))  # [B,H,T,D]
        if cache is not None:
            if "k" in cache:
                k = torch.cat([cache["k"], k], dim=2)
                v = torch.cat([cache["v"], v], dim=2)
            cache["k"], cache["v"] = k, v
        S = k.shape[2]
        if T == 1:
            attn_mask, causal = None, False        # one new query sees every cached key
        elif S == T:
            attn_mask, causal = None, True         # plain causal (training and prefill)
        else:                                      # several new queries after a cache: offset causal mask
            attn_mask = torch.ones(T, S, dtype=torch.bool, device=x.device).tril(diagonal=S - T)
            causal = False
        y = attention(q, k, v, attn_mask, causal)
        x = x + self.c_proj(y.transpose(1, 2).reshape(B, T, C))
        x = x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))
        return x


class Gpt2(nn.Module):
    def __init__(self, vocab, layers, dim, heads, ctx):
        super().__init__()
        self.wte = nn.Embedding(vocab, dim)
        self.wpe = nn.Embedding(ctx, dim)
        self.h = nn.ModuleList(Block(dim, heads) for _ in range(layers))
        self.ln_f = nn.LayerNorm(dim, eps=1e-5)
        for name, p in self.named_parameters():
            if name.endswith("bias"):
                nn.init.zeros_(p)
            elif p.dim() >= 2:
                nn.init.normal_(p, 0.0, 0.02)

    def hidden(self, ids, caches=None, start=0):
        # ids [B,T] -> final-normed hidden states [B,T,C] in the weights' dtype
        T = ids.shape[1]
        pos = torch.arange(start, start + T, device=ids.device)
        x = self.wte(ids) + self.wpe(pos)
        for i, block in enumerate(self.h):
            x = block(x, None if caches is None else caches[i])
        return self.ln_f(x)

    def forward(self, ids, caches=None, start=0):
        # ids [B,T] -> logits [B,T,V] in float32 (as RlhfSharp: the projection in the weights' dtype, then upcast)
        return F.linear(self.hidden(ids, caches, start), self.wte.weight).float()  # tied head


class ScalarHead(nn.Module):
    """Reward / value model: the same trunk with a Linear(C, 1) score head (HF *ForSequenceClassification)."""

    def __init__(self, vocab, layers, dim, heads, ctx):
        super().__init__()
        self.trunk = Gpt2(vocab, layers, dim, heads, ctx)
        self.score = nn.Linear(dim, 1, bias=False)
        nn.init.normal_(self.score.weight, 0.0, 0.02)

    def forward(self, ids):
        # ids [B,T] -> per-token scalars [B,T] in float32
        return self.score(self.trunk.hidden(ids)).squeeze(-1).float()


def result(line, value, unit):
    """The machine-readable twin of each printed figure (bench/gpu/run.sh reads these)."""
    print("RESULT " + json.dumps({"line": line, "value": round(value, 4), "unit": unit}), flush=True)


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def seconds(device, fn):
    sync(device)
    t0 = time.perf_counter()
    fn()
    sync(device)
    return time.perf_counter() - t0


@torch.no_grad()
def generate(model, prompts, new_tokens, generator):
    # KV-cache sampling loop: prefill the prompt, then one token per step; no host sync inside the loop.
    caches = [dict() for _ in model.h]
    logits = model(prompts, caches, 0)[:, -1]                   # [B,V]
    P = prompts.shape[1]
    out, logps = [], []
    for step in range(new_tokens):
        probs = torch.softmax(logits, dim=-1)
        nxt = torch.multinomial(probs, 1, generator=generator)  # [B,1]
        out.append(nxt)
        # the sampled tokens' log-probs, as RlhfSharp's Sampler returns them (PPO needs them)
        logps.append(torch.log_softmax(logits, dim=-1).gather(-1, nxt))
        if step == new_tokens - 1:
            break
        logits = model(nxt, caches, P + step)[:, -1]
    return torch.cat(out, dim=1), torch.cat(logps, dim=1)


def bench_generate(model, args, batch, device, dtype):
    g = torch.Generator(device=device).manual_seed(1234)
    prompts = torch.randint(0, args.vocab, (batch, args.prompt_len), device=device, generator=g)
    sample_gen = torch.Generator(device=device).manual_seed(1)
    generate(model, prompts, args.new_tokens, sample_gen)      # warm-up
    best = min(seconds(device, lambda: generate(model, prompts, args.new_tokens, sample_gen)) for _ in range(3))
    return batch * args.new_tokens / best


def bench_train(model, opt, args, device):
    model.train()
    g = torch.Generator(device=device).manual_seed(42)
    ids = torch.randint(0, args.vocab, (args.batch, args.seq + 1), device=device, generator=g)
    x, y = ids[:, :-1].contiguous(), ids[:, 1:].contiguous()
    last = [0.0]

    def step():
        logits = model(x)                                                       # [B,T,V] float32
        loss = F.cross_entropy(logits.reshape(-1, args.vocab), y.reshape(-1))
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=False)
        last[0] = loss.item()                                                   # one host sync per step

    for _ in range(args.warmup):
        step()
    s = seconds(device, lambda: [step() for _ in range(args.steps)])
    model.eval()
    return s * 1000 / args.steps, args.batch * args.seq / (s / args.steps), last[0]


PTX_BATCH = 8  # as the C# PpoBench


def ppo_line(args):
    return (f"ppo iteration, rollout {args.batch} x {args.prompt_len}+{args.new_tokens} tokens, "
            f"2 epochs x 2 minibatches, ptx {PTX_BATCH}x{args.seq}")


def bench_ppo(args, device, dtype, ctx):
    """Seconds per PPO-ptx iteration; the same work per iteration as RlhfSharp's PpoTrainer.Step (see the docstring)."""
    B, P, N, T, V = args.batch, args.prompt_len, args.new_tokens, args.seq, args.vocab
    M = max(1, B // 2)
    beta, gamma, lam, clip, vclip, vf_coef, ptx_coef, lr = 0.2, 1.0, 0.95, 0.2, 0.2, 0.1, 1.0, 1.41e-5
    torch.manual_seed(0)
    policy = Gpt2(V, args.layers, args.dim, args.heads, ctx).to(device=device, dtype=dtype)
    reference = copy.deepcopy(policy).eval().requires_grad_(False)
    reward = ScalarHead(V, args.layers, args.dim, args.heads, ctx).to(device=device, dtype=dtype).eval().requires_grad_(False)
    value = ScalarHead(V, args.layers, args.dim, args.heads, ctx).to(device=device, dtype=dtype)
    policy_opt = torch.optim.AdamW(policy.parameters(), lr=lr, weight_decay=0.0)
    value_opt = torch.optim.AdamW(value.parameters(), lr=lr, weight_decay=0.0)
    g = torch.Generator().manual_seed(0)
    prompts = torch.randint(1, V, (4 * B, P), generator=g).to(device)
    ptx = torch.randint(1, V, (64, T + 1), generator=g).to(device)
    sample_gen = torch.Generator(device=device).manual_seed(1)
    cursor = [0, 0]

    def response_logp(model, seq):
        # the log-probs of the response tokens under the model, [B,N] float32; the LM head on the N positions only
        h = model.hidden(seq)[:, P - 1:-1]
        logits = F.linear(h, model.wte.weight).float()
        return logits, torch.log_softmax(logits, -1).gather(-1, seq[:, P:].unsqueeze(-1)).squeeze(-1)

    def iteration():
        rows = torch.arange(cursor[0], cursor[0] + B, device=device) % prompts.shape[0]
        cursor[0] += B
        seq_resp, _ = generate(policy, prompts[rows], N, sample_gen)
        seq = torch.cat([prompts[rows], seq_resp], 1)                             # [B,P+N]
        with torch.no_grad():
            _, old_logp = response_logp(policy, seq)                              # [B,N]
            old_values = value(seq)[:, P - 1:-1]                                  # [B,N]
            _, ref_logp = response_logp(reference, seq)
            score = reward(seq)[:, -1]                                            # [B]
            kl = old_logp - ref_logp
            rewards = -beta * kl
            rewards[:, -1] += score
            last, next_v, cols = torch.zeros(B, device=device), torch.zeros(B, device=device), [None] * N
            for t in range(N - 1, -1, -1):
                delta = rewards[:, t] + gamma * next_v - old_values[:, t]
                last = delta + gamma * lam * last
                next_v, cols[t] = old_values[:, t], last
            adv_all = torch.stack(cols, 1)
            returns = adv_all + old_values
        stats = []
        for _ in range(2):
            order = torch.randperm(B, device=device)
            for start in range(0, B, M):
                mb = order[start:start + M]
                s = seq[mb]
                logits, new_logp = response_logp(policy, s)
                v = value(s)[:, P - 1:-1]
                adv = adv_all[mb]
                adv = (adv - adv.mean()) * torch.rsqrt(adv.var() + 1e-8)
                ratio = torch.exp(new_logp - old_logp[mb])
                pg = torch.max(-adv * ratio, -adv * ratio.clamp(1 - clip, 1 + clip)).mean()
                ov = old_values[mb]
                v_clipped = ov + (v - ov).clamp(-vclip, vclip)
                v_loss = 0.5 * torch.max((v - returns[mb]) ** 2, (v_clipped - returns[mb]) ** 2).mean()
                rows_ptx = torch.arange(cursor[1], cursor[1] + PTX_BATCH, device=device) % ptx.shape[0]
                cursor[1] += PTX_BATCH
                blocks = ptx[rows_ptx]
                ptx_loss = F.cross_entropy(policy(blocks[:, :-1]).reshape(-1, V), blocks[:, 1:].reshape(-1))
                loss = pg + vf_coef * v_loss + ptx_coef * ptx_loss
                policy_opt.zero_grad(set_to_none=False)
                value_opt.zero_grad(set_to_none=False)
                loss.backward()
                grad_norm = torch.nn.utils.clip_grad_norm_(policy.parameters(), 1.0)
                torch.nn.utils.clip_grad_norm_(value.parameters(), 1.0)
                policy_opt.step()
                value_opt.step()
                with torch.no_grad():
                    lp = torch.log_softmax(logits.detach(), -1)
                    entropy = -(lp.exp() * lp).sum(-1).mean()
                stats.append(torch.stack([pg.detach(), v_loss.detach(), entropy, ptx_loss.detach(), grad_norm.float()]))
        return torch.stack(stats).mean(0).cpu()                                   # one host sync per iteration

    policy.eval()   # no dropout in this model anyway; as PpoTrainer
    for _ in range(args.warmup):
        iteration()
    s = seconds(device, lambda: [iteration() for _ in range(args.steps)])
    return s / args.steps


def bench_logprobs(args, device):
    # The per-token log-prob op alone (twin of LogProbsBench.cs): forward + backward on float32 logits [batch, seq, vocab],
    # ordinary rows (N(0, 2^2)) and peaked ones (every logit near -120 but the target's 0); best and worst of --steps.
    B, T, V = args.batch, args.seq, args.vocab
    ops = [
        ("log_softmax+gather", lambda z, y: z.log_softmax(-1).gather(-1, y.unsqueeze(-1)).squeeze(-1)),
        ("gather-logsumexp", lambda z, y: z.gather(-1, y.unsqueeze(-1)).squeeze(-1) - z.logsumexp(-1)),
        ("old floor (max-80)", lambda z, y: (lambda f: f.gather(-1, y.unsqueeze(-1)).squeeze(-1) - f.logsumexp(-1))(
            torch.maximum(z, z.detach().amax(-1, keepdim=True) - 80.0))),
    ]
    for rows in ("ordinary", "peaked"):
        torch.manual_seed(1234)
        targets = torch.randint(0, V, (B, T), device=device)
        logits = torch.randn(B, T, V, device=device) * 2.0
        if rows == "peaked":
            logits = (logits - 120.0).scatter_(-1, targets.unsqueeze(-1), 0.0)
        for name, fn in ops:
            def step():
                z = logits.detach().requires_grad_(True)
                fn(z, targets).sum().backward()
                z.grad.sum().item()                       # one host sync, as a training step has
            for _ in range(args.warmup):
                step()
            times = [seconds(device, step) * 1000 for _ in range(args.steps)]
            yield name, rows, min(times), max(times)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cpu")
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--dim", type=int, default=256)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--vocab", type=int, default=512)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--seq", type=int, default=128)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--dtype", choices=["f32", "bf16"], default="f32")
    p.add_argument("--prompt-len", type=int, default=16)
    p.add_argument("--new-tokens", type=int, default=64)
    p.add_argument("--gen-batches", default="1,32")
    p.add_argument("--optimizer", choices=["foreach", "loop", "fused", "all"], default="all")
    p.add_argument("--only", choices=["all", "gen", "train", "ppo", "logprobs"], default="all")
    args = p.parse_args()
    if args.dim % args.heads:
        p.error("--dim must be a multiple of --heads")

    device = torch.device(args.device)
    dtype = torch.bfloat16 if args.dtype == "bf16" else torch.float32
    ctx = max(args.seq, args.prompt_len + args.new_tokens)

    def new_model():
        torch.manual_seed(0)
        return Gpt2(args.vocab, args.layers, args.dim, args.heads, ctx).to(device=device, dtype=dtype)

    where = f"{torch.cuda.get_device_name(device)}" if device.type == "cuda" else f"{torch.get_num_threads()} threads"
    print(f"device {device} ({where}), torch {torch.__version__}, dtype {args.dtype}")
    print(f"model gpt2 layers={args.layers} dim={args.dim} heads={args.heads} vocab={args.vocab} ctx={ctx}")

    if args.only in ("all", "gen"):
        model = new_model().eval()
        for b in (int(s) for s in args.gen_batches.split(",")):
            tps = bench_generate(model, args, b, device, dtype)
            print(f"generate  batch={b:<3} prompt={args.prompt_len} new={args.new_tokens}: {tps:10.1f} tokens/s")
            result(f"generate B={b}, {args.prompt_len}+{args.new_tokens} tokens", tps, "tokens/s")
        del model

    if args.only in ("all", "train"):
        kinds = ["foreach", "loop", "fused"] if args.optimizer == "all" else [args.optimizer]
        if device.type != "cuda" and "fused" in kinds and args.optimizer == "all":
            kinds.remove("fused")
        for kind in kinds:
            model = new_model()
            flags = {"foreach": dict(foreach=True), "loop": dict(foreach=False), "fused": dict(fused=True)}[kind]
            opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01, **flags)
            ms, tps, loss = bench_train(model, opt, args, device)
            name = f"AdamW {kind}"
            print(f"train     batch={args.batch} seq={args.seq} {name:<22}: {ms:8.1f} ms/step {tps:10.0f} tokens/s (loss {loss:.3f})")
            shape = f"train B={args.batch}x{args.seq}"
            if kind == "foreach":
                result(f"{shape}, default AdamW (TorchSharp optim.AdamW; PyTorch foreach)", ms, "ms")
            elif kind == "fused":
                result(f"{shape}, fastest AdamW (RlhfSharp flat; PyTorch fused)", ms, "ms")
            del model, opt

    if args.only == "ppo":
        sec = bench_ppo(args, device, dtype, ctx)
        print(f"ppo       rollout={args.batch} prompt={args.prompt_len} new={args.new_tokens} ptx_seq={args.seq}: {sec:8.2f} s/iteration")
        result(ppo_line(args), sec, "s")

    if args.only == "logprobs":
        print(f"logprobs  logits [{args.batch},{args.seq},{args.vocab}] float32, forward + backward, best of {args.steps} (range)")
        for name, rows, best, worst in bench_logprobs(args, device):
            print(f"logprobs  {rows:<9} {name:<24}: {best:8.1f} ms ({best:.1f}-{worst:.1f})")


if __name__ == "__main__":
    main()
