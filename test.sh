#!/usr/bin/env bash
# The README's test command: installs what the tests need that NuGet cannot bring (a Chromium for the labeling
# app's browser test, Open MPI for the data-parallel tests), then runs the whole suite. Arguments go to `dotnet test`
# (e.g. --filter Name).
set -euo pipefail
cd "$(dirname "$0")"

have_browser() {
  [[ -n "${RLHF_CHROMIUM:-}" && -x "${RLHF_CHROMIUM}" ]] && return 0
  command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || command -v google-chrome >/dev/null 2>&1
}

# Open MPI 4 (Debian 12's): mpirun for the tests and libmpi.so.40, which the library binds at run time.
have_mpi() {
  command -v mpirun >/dev/null 2>&1 && ldconfig -p 2>/dev/null | grep -q 'libmpi\.so\.40'
}

missing=()
have_browser || missing+=(chromium)
have_mpi || missing+=(openmpi-bin libopenmpi-dev)

if (( ${#missing[@]} > 0 )); then
  echo "test.sh: installing ${missing[*]} with apt-get (needed by the tests)" >&2
  if [[ $(id -u) -eq 0 ]]; then sudo=()
  elif command -v sudo >/dev/null 2>&1; then sudo=(sudo)
  else echo "test.sh: not root and no sudo: install ${missing[*]} yourself (or set RLHF_CHROMIUM to a Chromium binary)" >&2; exit 1
  fi
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# `./test.sh --setup-only` stops here (CI installs first, then runs the same `dotnet test` line itself).
if [[ "${1:-}" == "--setup-only" ]]; then exit 0; fi

exec dotnet test RlhfSharp.sln "$@"
