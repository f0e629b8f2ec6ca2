#!/usr/bin/env bash
# gpu_run.sh - the whole GPU run in one device call (see scripts/gpu_pack.sh): kernel checks
# against the CPU references, the CUDA forward pass against the CPU one, then the benchmarks:
# every kernel against the measured ceilings, `uzwhisper bench --device cuda` at the six real
# shapes against transformers on the same GPU, and the INT8 models (w8a16, w8a8) against fp16 at
# the large shapes. Logs and reports go to $OUT (device tool): 8 files at most, so the INT8 runs
# append to bench_shapes.md (their tables) and bench_shapes.log (their output and JSON).
# Usage (on the device machine, repository root): scripts/gpu_run.sh [quick|int8]
#   quick: the tests only; int8: the tests, then only the INT8 benchmarks
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
# The INT8 shape benchmark of one scheme, fp16 measured beside it in the same run (--quant-compare):
# its Markdown appended to bench_shapes.md, its output and JSON to bench_shapes.log.
bench_int8() { # scheme
    local q=$1 md=$G/int8_$1.md js=$G/int8_$1.json
    echo "== bench_int8 $q"
    rm -f "$md" "$js"
    { echo; echo "== bench --quant $q --quant-compare"; } >> "$OUT/bench_shapes.log"
    $B/uzwhisper bench --device cuda --shapes large-v3,large-v3-turbo --quant "$q" --quant-compare \
        --json "$js" --md "$md" >> "$OUT/bench_shapes.log" 2>&1
    local rc=$?
    [ -f "$md" ] && { echo; cat "$md"; } >> "$OUT/bench_shapes.md"
    [ -f "$js" ] && { echo "== bench_int8 $q: JSON"; cat "$js"; } >> "$OUT/bench_shapes.log"
    [ -f "$md" ] && cat "$md"
    echo "== bench_int8 $q: exit $rc"
}
run gelu $B/gpu_test_cuda_gelu --verbose
run kernels $B/gpu_test_kernels --verbose
run forward $B/gpu_test_gpu_forward --verbose
[ "${1:-}" = quick ] && exit 0
if [ "${1:-}" != int8 ]; then
    run bench_kernels $B/bench_kernels --reps 20
    run bench_shapes $B/uzwhisper bench --device cuda --shapes tiny,base,small,medium,large-v3,large-v3-turbo \
        --compare transformers --json "$OUT/bench_shapes.json" --md "$OUT/bench_shapes.md"
fi
bench_int8 w8a16
bench_int8 w8a8
