#!/usr/bin/env bash
# The README's test command: installs what the tests need that NuGet cannot bring (a Chromium for the labeling
# app's browser test), then runs the whole suite. Arguments go to `dotnet test` (e.g. --filter Name).
set -euo pipefail
cd "$(dirname "$0")"

have_browser() {
  [[ -n "${RLHF_CHROMIUM:-}" && -x "${RLHF_CHROMIUM}" ]] && return 0
  command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || command -v google-chrome >/dev/null 2>&1
}

if ! have_browser; then
  echo "test.sh: no Chromium found; installing Debian's chromium with apt-get" >&2
  if [[ $(id -u) -eq 0 ]]; then sudo=()
  elif command -v sudo >/dev/null 2>&1; then sudo=(sudo)
  else echo "test.sh: not root and no sudo: install chromium yourself (or set RLHF_CHROMIUM to a Chromium binary)" >&2; exit 1
  fi
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

# `./test.sh --setup-only` stops here (CI installs first, then runs the same `dotnet test` line itself).
if [[ "${1:-}" == "--setup-only" ]]; then exit 0; fi

exec dotnet test RlhfSharp.sln "$@"
