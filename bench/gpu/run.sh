#!/usr/bin/env bash
# Checks RlhfSharp on a GPU machine in one call, and prints one table (card, line, RlhfSharp, PyTorch, ratio):
#   1. smoke: every phase (pretrain, sft, reward, ppo, dpo) on CUDA on a tiny GPT-2, a few steps each, float32; every
#      output folder loads back onto the GPU (PPO also with its frozen models in bf16; bf16 training: a marked SKIP);
#   2. parity: CUDA against CPU on the transformers fixtures: greedy tokens identical, logits within 1e-4, a
#      training step's loss within 1e-4 relative;
#   3. resume on CUDA: pretraining and PPO interrupted and resumed against straight runs, and against a second
#      straight run (the card's own run-to-run determinism): says what is bitwise on this card;
#   4. the bench and the PyTorch twin (bench/pytorch_twin.py) at the GPT-2-small shape in bf16, one after the other
#      in this same call: training step, generation at batch 1 and 32, one PPO-ptx iteration.
#
# The GPU machine needs PyTorch with CUDA (its libtorch runs our TorchSharp) and no .NET: bench/gpu/prepare.sh,
# run on a machine with the .NET SDK, builds bench/gpu/out/rlhfsharp-gpu.tar.xz (a self-contained publish and the
# fixtures), which travels with the tree. Budget: a few minutes; at most 570 s (each step has a time limit).
#
#   bench/gpu/run.sh                # on the GPU machine
#   bench/gpu/run.sh --dry-run      # here, on CPU: the same steps with tiny shapes, the NuGet cache's libtorch 2.10
#                                   # standing in for PyTorch's (builds the tarball first if it is missing)
# Environment: PYTHON (the python with torch; default: the first of python3, /usr/bin/python3 that imports torch),
# RLHF_TORCH_LIB (a torch/lib folder to use instead), RLHF_GPU_WORK (scratch folder; default bench/gpu/out/work).
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="$here/out"
dry=0
case "${1:-}" in
  --dry-run) dry=1 ;;
  "") ;;
  -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
  *) echo "run.sh: unknown option $1 (use --dry-run or nothing)" >&2; exit 2 ;;
esac
start=$(date +%s)
work="${RLHF_GPU_WORK:-$out/work}"
results="$work/results"
rm -rf "$work"; mkdir -p "$results"
say() { echo "== run.sh: $*" >&2; }

# ---- the python with torch (the twin; on the GPU machine also the libtorch) ----
python=""
for p in ${PYTHON:-} python3 /usr/bin/python3; do
  if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import torch' >/dev/null 2>&1; then python="$p"; break; fi
done
table_python="$(command -v python3 || echo /usr/bin/python3)"

# ---- the app: unpack the publish and give it a libtorch ----
tarball="$out/rlhfsharp-gpu.tar.xz"
stale=""
if (( dry )) && [[ -f "$tarball" ]]; then   # here the sources are at hand: rebuild when any is newer than the tarball
  stale="$(cd "$repo" && find src bench/RlhfSharp.Bench Directory.Build.props Directory.Build.targets build \
             \( -name '*.cs' -o -name '*.csproj' -o -name '*.props' -o -name '*.targets' \) -newer "$tarball" \
             -not -path '*/bin/*' -not -path '*/obj/*' 2>/dev/null | head -1)"
fi
if [[ ! -f "$tarball" || -n "$stale" ]]; then
  if (( dry )) && command -v dotnet >/dev/null; then
    say "${stale:+$stale is newer than the tarball: }building $tarball (bench/gpu/prepare.sh)"; "$here/prepare.sh" || exit 1
  else echo "run.sh: $tarball missing: run bench/gpu/prepare.sh on a machine with the .NET SDK and carry it" >&2; exit 1; fi
fi
# tar's xz filter needs the xz program; Python's tarfile (lzma) is the fallback on an image without it.
tar -xJf "$tarball" -C "$work" 2>/dev/null \
  || "${python:-python3}" -c 'import sys,tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$tarball" "$work" \
  || { echo "run.sh: cannot unpack $tarball" >&2; exit 1; }
app="$work/rlhfsharp-gpu/app"; fixtures="$work/rlhfsharp-gpu/fixtures"
say "publish of commit $(head -c 12 "$work/rlhfsharp-gpu/COMMIT" 2>/dev/null || echo '?') $(sed -n 2p "$work/rlhfsharp-gpu/COMMIT" 2>/dev/null)"

if [[ -n "${RLHF_TORCH_LIB:-}" ]]; then torch_lib="$RLHF_TORCH_LIB"
elif (( dry )); then torch_lib="$(ls -d "${NUGET_PACKAGES:-$HOME/.nuget/packages}"/libtorch-cpu-linux-x64/2.10.*/runtimes/linux-x64/native 2>/dev/null | head -1)"
else torch_lib="$("$python" -c 'import torch,os;print(os.path.join(os.path.dirname(torch.__file__),"lib"))' 2>/dev/null)"
fi
[[ -n "$torch_lib" && -f "$torch_lib/libtorch_cpu.so" ]] || { echo "run.sh: no libtorch found (torch/lib: '${torch_lib}'); set RLHF_TORCH_LIB" >&2; exit 1; }
# The recipe that runs TorchSharp 0.107 on a PyTorch install: its .so files beside TorchSharp.dll, and its lib folders
# (torch/lib, and nvidia/*/lib for CUDA's own libraries) on the loader path; RLHF_LIBTORCH_DIR preloads them.
ln -sf "$torch_lib"/*.so* "$app/"
nvidia_libs="$(ls -d "$torch_lib"/../../nvidia/*/lib 2>/dev/null | tr '\n' ':')"
export LD_LIBRARY_PATH="$torch_lib:${nvidia_libs}${LD_LIBRARY_PATH:-}"
export RLHF_LIBTORCH_DIR="$torch_lib"
export DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1   # a bare GPU machine may have no ICU
export DOTNET_CLI_TELEMETRY_OPTOUT=1
say "libtorch from $torch_lib"

if (( dry )); then
  device=cpu
  cores=$(nproc)
  export OMP_NUM_THREADS=1   # both programs on one thread: a shared 2-core machine otherwise thrashes libtorch's pool
  card="CPU dry run ($cores cores, 1 thread)"
  shape=(--layers 2 --dim 64 --heads 4 --vocab 512)
  gen=(--prompt-len 8 --new-tokens 16 --gen-batches 1,8)
  train=(--batch 4 --seq 32 --steps 3 --warmup 1)
  ppo=(--batch 4 --prompt-len 8 --new-tokens 8 --seq 32 --steps 1 --warmup 1)
  dtype=f32
else
  device=cuda
  card="$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -1)"
  [[ -n "$card" ]] || card="$("$python" -c 'import torch;print(torch.cuda.get_device_name(0))' 2>/dev/null || echo 'unknown GPU')"
  shape=(--layers 12 --dim 768 --heads 12 --vocab 50257)                    # GPT-2 small
  gen=(--prompt-len 16 --new-tokens 256 --gen-batches 1,32)                # DESIGN.md's HF generate reference: 256 new tokens
  train=(--batch 8 --seq 1024 --steps 10 --warmup 3)
  ppo=(--batch 8 --prompt-len 64 --new-tokens 128 --seq 512 --steps 2 --warmup 1)
  dtype=bf16
fi
say "device $device, card: $card; python for the twin: ${python:-none}"

# Runs one step with a time limit; its stdout's RESULT lines go to the named results file, everything to a log.
step() {  # step NAME SECONDS RESULTFILE COMMAND...
  local name="$1" limit="$2" file="$3"; shift 3
  say "$name"
  local t0=$(date +%s)
  timeout "$limit" "$@" > "$work/$name.log" 2>&1
  local rc=$?
  grep '^RESULT ' "$work/$name.log" | sed 's/^RESULT //' >> "$results/$file"
  say "$name: exit $rc in $(( $(date +%s) - t0 )) s (log: $work/$name.log)"
  if (( rc != 0 )); then
    echo "{\"line\": \"$name\", \"status\": \"FAIL\", \"detail\": \"exit $rc$( ((rc == 124)) && echo ', timed out') - see the log\"}" >> "$results/$file"
    tail -n 15 "$work/$name.log" | sed 's/^/    /' >&2
  fi
  return 0
}
bench=("$app/RlhfSharp.Bench" --device "$device")
twin_step() {  # twin_step NAME SECONDS ARGS...: the twin, or a SKIP line that says why it cannot run
  local name="$1" limit="$2"; shift 2
  if [[ -z "$python" ]]; then
    say "$name: skipped, no python with torch"
    echo "{\"line\": \"$name (PyTorch twin)\", \"status\": \"SKIP\", \"detail\": \"no python with torch found (set PYTHON)\"}" >> "$results/twin.jsonl"
    return 0
  fi
  step "$name" "$limit" twin.jsonl "$python" "$repo/bench/pytorch_twin.py" "$@"
}

# Time limits per step sum to 570 s, so even a hung step leaves the whole call under the device tool's 600 s; a
# normal GPU run takes a few minutes (each process pays CUDA's start-up once).
# 1-3: the checks (one process: CUDA starts once)
step checks 180 ours.jsonl "${bench[@]}" --only checks --fixtures "$fixtures" --work "$work/checks"
# 4: the bench and the twin, each line one after the other on the same card
step bench-gen 75 ours.jsonl "${bench[@]}" --only gen "${shape[@]}" "${gen[@]}" --dtype "$dtype"
twin_step twin-gen 75 --device "$device" --only gen "${shape[@]}" "${gen[@]}" --dtype "$dtype"
step bench-train 60 ours.jsonl "${bench[@]}" --only train "${shape[@]}" "${train[@]}" --dtype "$dtype" --optimizer both
twin_step twin-train 60 --device "$device" --only train "${shape[@]}" "${train[@]}" --dtype "$dtype" --optimizer all
step bench-ppo 60 ours.jsonl "${bench[@]}" --only ppo "${shape[@]}" "${ppo[@]}" --dtype "$dtype"
twin_step twin-ppo 60 --device "$device" --only ppo "${shape[@]}" "${ppo[@]}" --dtype "$dtype"

elapsed=$(( $(date +%s) - start ))
label="$card"; (( dry )) || label="$card, $dtype"
twin_torch="$( [[ -n "$python" ]] && "$python" -c 'import torch;print("PyTorch", torch.__version__)' 2>/dev/null || echo 'no PyTorch')"
"$table_python" "$here/table.py" --card "$label" --ours "$results/ours.jsonl" --twin "$results/twin.jsonl" \
  --note "$( (( dry )) && echo 'Dry run: tiny shapes on CPU, f32, 1 thread; timings mean nothing.' || echo "GPT-2-small shape, $dtype.") Twin: $twin_torch. RlhfSharp: libtorch from $torch_lib. $(date -u +%Y-%m-%d), ${elapsed} s." \
  | tee "$out/table.md"
status=${PIPESTATUS[0]}
say "done in ${elapsed} s; table in $out/table.md"
exit "$status"
