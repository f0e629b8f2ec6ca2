#!/usr/bin/env bash
# fuzz.sh - build every libFuzzer target (tests/fuzz/fuzz_*.c) with clang into build-fuzz and run
# each for a bounded time. Usage: tools/fuzz.sh [seconds per target, default 60]
# A target's seeds come from tests/fuzz/corpus_<name>/ (name = the part after "fuzz_"); they are
# copied to a temporary folder so the repository is not modified. Crash inputs go to fuzz-out/.
# Exits non-zero if the build fails or any target finds a crash, leak or timeout.
set -euo pipefail

secs="${1:-60}"
case "$secs" in ''|*[!0-9]*) echo "fuzz.sh: seconds must be a number, got '$secs'" >&2; exit 2 ;; esac
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$root/build-fuzz"
out="$root/fuzz-out"
jobs="$(nproc 2>/dev/null || echo 2)"

command -v clang >/dev/null || { echo "fuzz.sh: clang not found (libFuzzer needs clang)" >&2; exit 2; }
shopt -s nullglob
srcs=("$root"/tests/fuzz/fuzz_*.c)
if [ ${#srcs[@]} -eq 0 ]; then echo "fuzz.sh: no tests/fuzz/fuzz_*.c targets" >&2; exit 2; fi

CC=clang cmake -S "$root" -B "$build" -DUZW_FUZZ=ON -DUZW_CUDA=OFF -DUZW_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
targets=()
for src in "${srcs[@]}"; do targets+=("$(basename "$src" .c)"); done
cmake --build "$build" -j "$jobs" --target "${targets[@]}"

mkdir -p "$out"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
failed=()
for t in "${targets[@]}"; do
  corpus="$tmp/corpus_${t#fuzz_}"
  mkdir -p "$corpus"
  seeds="$root/tests/fuzz/corpus_${t#fuzz_}"
  if [ -d "$seeds" ]; then cp -r "$seeds"/. "$corpus"/; fi
  echo "== $t: ${secs}s, $(ls "$corpus" | wc -l) seeds"
  if "$build/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
       -artifact_prefix="$out/${t}-" "$corpus" > "$out/$t.log" 2>&1; then
    echo "   ok: $(grep -E '^stat::number_of_executed_units' "$out/$t.log" | awk '{print $2}') runs, no crash"
  else
    echo "   FAILED: see $out/$t.log"; tail -n 30 "$out/$t.log"
    failed+=("$t")
  fi
done
if [ ${#failed[@]} -ne 0 ]; then echo "fuzz.sh: failures in: ${failed[*]}" >&2; exit 1; fi
echo "fuzz.sh: all ${#targets[@]} targets clean"
