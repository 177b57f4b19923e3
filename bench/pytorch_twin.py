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

  logprobs: (only with --only logprobs) the per-token log-prob op alone, as the C# bench's LogProbsBench.

Usage: python bench/pytorch_twin.py --device cuda --layers 12 --dim 768 --heads 12 --vocab 50257 --batch 8 --seq 1024 --dtype bf16
"""
import argparse
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

    def forward(self, ids, caches=None, start=0):
        # ids [B,T] -> logits [B,T,V] in float32 (as RlhfSharp: the projection in the weights' dtype, then upcast)
        T = ids.shape[1]
        pos = torch.arange(start, start + T, device=ids.device)
        x = self.wte(ids) + self.wpe(pos)
        for i, block in enumerate(self.h):
            x = block(x, None if caches is None else caches[i])
        return F.linear(self.ln_f(x), self.wte.weight).float()  # tied head


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
    p.add_argument("--only", choices=["all", "gen", "train", "logprobs"], default="all")
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
            del model, opt

    if args.only == "logprobs":
        print(f"logprobs  logits [{args.batch},{args.seq},{args.vocab}] float32, forward + backward, best of {args.steps} (range)")
        for name, rows, best, worst in bench_logprobs(args, device):
            print(f"logprobs  {rows:<9} {name:<24}: {best:8.1f} ms ({best:.1f}-{worst:.1f})")


if __name__ == "__main__":
    main()
