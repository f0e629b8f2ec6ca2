#!/usr/bin/env bash
# gpu_run.sh - the whole GPU run in one device call (see scripts/gpu_pack.sh): kernel checks
# against the CPU references, the CUDA forward pass against the CPU one, then the benchmarks:
# every kernel against the measured ceilings, and `uzwhisper bench --device cuda` at the six real
# shapes against transformers on the same GPU. Logs and reports go to $OUT (device tool).
# Usage (on the device machine, repository root): scripts/gpu_run.sh [quick]
set -uo pipefail
OUT=${OUT:-/tmp/uzw-gpu-out}
mkdir -p "$OUT"
ROOT=$(pwd)
G=/tmp/uzw-gpu
mkdir -p "$G" && tar -C "$G" -xJf .gpu/pack.tar.xz || { echo "gpu_run: no .gpu/pack.tar.xz (run scripts/gpu_pack.sh, carry .gpu)"; exit 1; }
# the programs were built in /work/main with ../shared beside it: give them the same paths
if [ "$ROOT" != /work/main ]; then mkdir -p /work && ln -sfn "$ROOT" /work/main; fi
[ -e /work/shared ] || ln -sfn "$G/shared" /work/shared
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.mem --format=csv | tee "$OUT/gpu.txt"
B=$G/bin
run() { # name, command...
    local name=$1; shift
    echo "== $name"
    ( "$@" ) > "$OUT/$name.log" 2>&1
    local rc=$?
    tail -n 25 "$OUT/$name.log"
    echo "== $name: exit $rc"
}
run gelu $B/gpu_test_cuda_gelu --verbose
run kernels $B/gpu_test_kernels --verbose
run forward $B/gpu_test_gpu_forward --verbose
[ "${1:-}" = quick ] && exit 0
run bench_kernels $B/bench_kernels --reps 20
run bench_shapes $B/uzwhisper bench --device cuda --shapes tiny,base,small,medium,large-v3,large-v3-turbo \
    --compare transformers --json "$OUT/bench_shapes.json" --md "$OUT/bench_shapes.md"
