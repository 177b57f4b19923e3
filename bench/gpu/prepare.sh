#!/usr/bin/env bash
# Builds what bench/gpu/run.sh carries to a GPU machine, on a machine with the .NET SDK (the GPU machine needs none):
#   bench/gpu/out/rlhfsharp-gpu.tar.xz  =  rlhfsharp-gpu/app/       a self-contained linux-x64 publish of
#                                                                  bench/RlhfSharp.Bench, built against the plain
#                                                                  TorchSharp package (-p:TorchBackend=cuda): no libtorch
#                                                                  inside; run.sh links the GPU machine's PyTorch libtorch
#                                                                  rlhfsharp-gpu/fixtures/  the transformers fixtures the parity
#                                                                  check reads (copied from ../shared; never committed)
# bench/gpu/out/ is git-ignored. The publish builds from a copy of the tree in bench/gpu/out/src, so the checkout's own
# bin/ and obj/ (restored against TorchSharp-cpu) are left alone.
#
#   bench/gpu/prepare.sh            # ~2-4 minutes on 2 cores; ~33 MB
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="$here/out"
shared="${RLHF_SHARED:-$repo/../shared}"
fixtures_src="$shared/fixtures/hf-tiny"
fixtures=(gpt2-tiny llama-tiny qwen2-tiny mistral-tiny)

command -v dotnet >/dev/null || { echo "prepare.sh: the .NET SDK is needed here (the GPU machine needs none)" >&2; exit 1; }
for f in "${fixtures[@]}"; do
  [[ -f "$fixtures_src/$f/reference.safetensors" ]] || { echo "prepare.sh: $fixtures_src/$f not found (set RLHF_SHARED)" >&2; exit 1; }
done

mkdir -p "$out"
src="$out/src"; stage="$out/rlhfsharp-gpu"
rm -rf "$src" "$stage"
mkdir -p "$src" "$stage/fixtures"
# The tree as git sees it (tracked and untracked-but-not-ignored files), without bin/ obj/ or out/.
(cd "$repo" && git ls-files -co --exclude-standard -z | grep -zv '^bench/gpu/out/' | tar --null -T - -cf -) | tar -xf - -C "$src"

echo "prepare.sh: dotnet publish (self-contained linux-x64, TorchSharp without libtorch)" >&2
dotnet publish "$src/bench/RlhfSharp.Bench/RlhfSharp.Bench.csproj" -c Release -r linux-x64 --self-contained \
  -p:TorchBackend=cuda -p:DebugType=none -p:GenerateDocumentationFile=false -o "$stage/app" -nologo -v quiet
[[ -x "$stage/app/RlhfSharp.Bench" && -f "$stage/app/libLibTorchSharp.so" ]] || { echo "prepare.sh: publish incomplete" >&2; exit 1; }
if ls "$stage/app" | grep -q '^libtorch_cpu'; then echo "prepare.sh: a libtorch came along; expected none" >&2; exit 1; fi

for f in "${fixtures[@]}"; do cp -r "$fixtures_src/$f" "$stage/fixtures/"; done
git -C "$repo" rev-parse HEAD > "$stage/COMMIT" 2>/dev/null || true
git -C "$repo" status --porcelain | grep -q . && echo "(with uncommitted changes)" >> "$stage/COMMIT" || true

echo "prepare.sh: xz" >&2
tar -C "$out" -cJf "$out/rlhfsharp-gpu.tar.xz.tmp" rlhfsharp-gpu
mv "$out/rlhfsharp-gpu.tar.xz.tmp" "$out/rlhfsharp-gpu.tar.xz"
rm -rf "$src" "$stage"
size=$(stat -c %s "$out/rlhfsharp-gpu.tar.xz")
echo "prepare.sh: $out/rlhfsharp-gpu.tar.xz ($((size / 1024 / 1024)) MiB; the device tool carries at most 64 MiB)"
(( size < 64 * 1024 * 1024 )) || { echo "prepare.sh: too large to carry" >&2; exit 1; }
