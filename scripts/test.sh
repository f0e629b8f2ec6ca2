#!/usr/bin/env bash
# The whole test suite: unit, reference-parity and CLI tests (ctest, label cpu; the gpu label runs
# and skips with a message where there is no GPU), then the parser and loader tests again under
# ASan/UBSan, then every libFuzzer target for a bounded time.
# Usage: scripts/test.sh [FUZZ_SECONDS_PER_TARGET]   (default 45)
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZ_SECONDS=${1:-45}
NPROC=$(nproc)

echo "== unit, parity and CLI tests"
ctest --test-dir build --output-on-failure -j"$NPROC"

echo "== sanitizer build (ASan + UBSan)"
cmake -B build-asan -DUZW_SANITIZE=ON -DUZW_CUDA=OFF -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-asan -j"$NPROC" >/dev/null
# the slow real-model parity test runs once, in the optimised build above
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j"$NPROC" -L cpu -E 'test_real_model'

echo "== fuzzing (${FUZZ_SECONDS} s per target)"
bash scripts/fuzz.sh "$FUZZ_SECONDS"
echo "== all tests passed"
