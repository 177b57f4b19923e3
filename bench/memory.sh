#!/usr/bin/env bash
# The memory table (README, "Fitting bigger models"): peak RSS of one SFT step and one PPO-ptx iteration at the
# GPT-2-small and Qwen2-0.5B shapes, for fp32, bf16, LoRA and LoRA + bf16 + gradient checkpointing. Each line runs in a
# fresh process, because the peak is the process's high-water mark. CPU only (TorchSharp 0.107 has no CUDA allocator
# statistics). Usage: bench/memory.sh [SHAPE...]   (default: gpt2-small qwen2-0.5b); extra fits: FITS="fp32 ckpt".
set -euo pipefail
cd "$(dirname "$0")/.."
shapes=("$@"); [[ ${#shapes[@]} -eq 0 ]] && shapes=(gpt2-small qwen2-0.5b)
fits=(${FITS:-fp32 bf16 lora lora-bf16-ckpt})
dotnet build -c Release bench/RlhfSharp.Bench -v q -nologo >/dev/null
bench=bench/RlhfSharp.Bench/bin/Release/net10.0/RlhfSharp.Bench.dll
echo "| shape | phase | fit | trained parameters | RSS after loading (GB) | peak RSS (GB) | wall (s) |"
echo "|---|---|---|---|---|---|---|"
for shape in "${shapes[@]}"; do
  for phase in sft ppo; do
    for fit in "${fits[@]}"; do
      line=$(dotnet "$bench" --only memory --shape "$shape" --phase "$phase" --fit "$fit" 2>&1 | grep '^memory ' || true)
      if [[ -z "$line" ]]; then echo "| $shape | $phase | $fit | failed (out of memory?) | | | |"; continue; fi
      if [[ "$line" == *"not run"* ]]; then echo "| $shape | $phase | $fit | not run: ${line#*: } | | | |"; continue; fi
      # memory SHAPE PHASE FIT: trained parameters N, RSS after loading X GB, peak RSS Y GB, Z s (sizes)
      params=$(sed -E 's/.*trained parameters ([0-9,]*[0-9]).*/\1/' <<<"$line")
      loaded=$(sed -E 's/.*RSS after loading ([0-9.]+) GB.*/\1/' <<<"$line")
      peak=$(sed -E 's/.*peak RSS ([0-9.]+) GB.*/\1/' <<<"$line")
      secs=$(sed -E 's/.*, ([0-9]+) s \(.*/\1/' <<<"$line")
      echo "| $shape | $phase | $fit | $params | $loaded | $peak | $secs |"
    done
  done
done
