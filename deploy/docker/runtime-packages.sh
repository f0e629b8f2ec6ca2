#!/bin/sh
# runtime-packages.sh - the Debian/Ubuntu packages a runtime image needs for one binary: for each
# shared library the binary names directly (its DT_NEEDED entries), the package that owns the file
# the dynamic linker resolves it to. Both Dockerfiles run it in their build stage and install its
# output in the runtime stage, so the package names (which differ between Debian 12 and Ubuntu
# 24.04: libssl3 / libssl3t64, libwebsockets17 / libwebsockets19t64, ...) are never written by hand.
#
# Left out: libraries under /usr/local (the CUDA toolkit of the nvidia/cuda images; the matching
# runtime image ships the same libraries) and libcuda.so.1 (the driver's, mounted into the container
# by the NVIDIA container toolkit at run time). Anything else that is not found, or that belongs to
# no package, is an error: the image build stops instead of producing a binary that cannot start.
#
# Usage: runtime-packages.sh BINARY > packages.txt   (one package a line, sorted)
set -eu
bin=${1:?usage: runtime-packages.sh BINARY}
[ -x "$bin" ] || { echo "runtime-packages: $bin is not an executable" >&2; exit 1; }

owner() { # path -> the package owning it, or nothing
    dpkg-query -S "$1" 2>/dev/null | awk -F': ' 'NR == 1 { print $1 }' | sed 's/,.*//; s/:.*//'
}

resolved=$(ldd "$bin")
status=0
pkgs=""
for so in $(objdump -p "$bin" | awk '$1 == "NEEDED" { print $2 }'); do
    path=$(printf '%s\n' "$resolved" | awk -v s="$so" '$1 == s && $2 == "=>" { print $3; exit }')
    case "$path" in
        ""|"not") # "not found"
            [ "$so" = libcuda.so.1 ] && continue
            echo "runtime-packages: $so (needed by $bin) is not found" >&2; status=1; continue ;;
        /usr/local/*) continue ;;
    esac
    real=$(readlink -f "$path")
    pkg=""
    # dpkg records a file under the directory its package ships it in; on merged-/usr systems the
    # linker may report /lib/... for a file dpkg knows as /usr/lib/... (or the other way round)
    for c in "$path" "$real" "/usr${path#/usr}" "/usr${real#/usr}" "${path#/usr}" "${real#/usr}"; do
        pkg=$(owner "$c")
        [ -n "$pkg" ] && break
    done
    if [ -z "$pkg" ]; then
        echo "runtime-packages: $so ($path) belongs to no package" >&2; status=1; continue
    fi
    pkgs="$pkgs$pkg
"
done
[ "$status" -eq 0 ] || exit 1
printf '%s' "$pkgs" | sort -u
