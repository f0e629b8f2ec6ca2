#!/usr/bin/env bash
# Install the build dependencies (Debian packages) and build uzwhisper into build/.
# Safe to re-run: apt-get skips what is installed, cmake rebuilds only what changed.
set -euo pipefail
cd "$(dirname "$0")/.."
PKGS="build-essential cmake pkg-config libfftw3-dev libsndfile1-dev libsamplerate0-dev libjansson-dev \
libpcre2-dev libopenblas-openmp-dev zlib1g-dev libssl-dev libcriterion-dev clang python3 python3-pip \
gnuplot-nox libwebsockets-dev libjwt-dev curl python3-venv yamllint shellcheck prometheus asterisk-core-sounds-ru asterisk-core-sounds-ru-wav pocketsphinx-testdata"
missing=""
for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    echo "bootstrap: installing$missing"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
fi
cmake -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"
echo "bootstrap: built build/uzwhisper"
