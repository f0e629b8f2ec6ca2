#!/usr/bin/env python3
"""make_long_audio.py - the long-form test input `long_mix`: real clips from shared/data joined by exact
silences (~2.6 minutes at 16 kHz mono). Only the recipe is committed
(tests/fixtures/decoding/long_mix.json); the audio is rebuilt from ../shared at test time.

  python3 tests/reference/make_long_audio.py --shared ../shared                 # (re)write the recipe JSON
  python3 tests/reference/make_long_audio.py --shared ../shared --wav /tmp/long_mix.wav   # also a float32 WAV

Semantics of the recipe (what a C builder must do; see tests/fixtures/README.md):
  out = empty float32 array
  for piece in recipe["pieces"], in order:
    {"source": REL, "start_sample": S, "n_samples": N}: pcm = 16 kHz mono pcm of shared/data/REL exactly as
        refaudio.load_16k / uzw_audio_load_16k gives it; append pcm[S : S+N] (S+N <= len(pcm) always holds)
    {"silence_seconds": T, "n_samples": N}: append N samples of exactly 0.0f (N = T * 16000, an integer)
  The result has recipe["total_samples"] samples; the SHA-256 of its little-endian float32 bytes is
  recipe["sha256_f32le"]. No resampling, gain, dithering or fading happens at the joins.
"""
import argparse
import hashlib
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import refaudio  # noqa: E402

RATE = 16000
UZ = [f"uz/usc/{n}.wav" for n in ("1126542829_1_33727_1", "1131474547_2_29207_1", "1131474547_2_29208_1",
                                  "1131474547_2_29209_1", "1131474547_2_29210_1")]
# (source, start_sample, n_samples or None = to the end) or a silence length in seconds.
PLAN = [(UZ[0], 0, None), 2.0, ("ru/deepspeech_ru.wav", 0, None), 3.5, ("en/jfk.flac", 0, None), 1.0,
        (UZ[1], 0, None), 1.5, (UZ[2], 0, None), 1.5, (UZ[3], 0, None), 1.5, (UZ[4], 0, None), 1.5,
        ("multi/en_de.mp3", 0, None), 2.5,
        ("en/jfk.flac", 80000, None), 0.75, ("ru/deepspeech_ru.wav", 0, None), 4.0,
        ("multi/en_de.mp3", 0, 320000), 1.0]


def make_recipe(shared):
    cache, pieces = {}, []
    for p in PLAN:
        if isinstance(p, float):
            n = round(p * RATE)
            if n != p * RATE:
                raise ValueError(f"silence {p} s is not a whole number of samples")
            pieces.append({"silence_seconds": p, "n_samples": n})
            continue
        src, start, n = p
        if src not in cache:
            cache[src] = refaudio.load_16k(os.path.join(shared, "data", src))[0]
        total = len(cache[src])
        n = total - start if n is None else n
        if start < 0 or n <= 0 or start + n > total:
            raise ValueError(f"{src}: [{start}, {start + n}) outside 0..{total}")
        pieces.append({"source": src, "start_sample": start, "n_samples": n, "source_n_samples_16k": total})
    return pieces


def build(recipe_or_pieces, shared):
    """The float32 pcm of a recipe (a dict with "pieces" or the list itself)."""
    pieces = recipe_or_pieces["pieces"] if isinstance(recipe_or_pieces, dict) else recipe_or_pieces
    cache, parts = {}, []
    for p in pieces:
        if "source" in p:
            if p["source"] not in cache:
                cache[p["source"]] = refaudio.load_16k(os.path.join(shared, "data", p["source"]))[0]
            seg = cache[p["source"]][p["start_sample"]:p["start_sample"] + p["n_samples"]]
            if len(seg) != p["n_samples"]:
                raise ValueError(f"{p['source']}: only {len(seg)} of {p['n_samples']} samples")
            parts.append(seg.astype(np.float32))
        else:
            parts.append(np.zeros(p["n_samples"], dtype=np.float32))
    return np.concatenate(parts).astype(np.float32)


def sha256_f32le(pcm):
    return hashlib.sha256(np.ascontiguousarray(pcm, dtype="<f4").tobytes()).hexdigest()


def load(recipe_path, shared, verify=True):
    """Build the pcm from a committed recipe JSON and check its length and hash."""
    with open(recipe_path, encoding="utf-8") as f:
        recipe = json.load(f)
    pcm = build(recipe, shared)
    if verify and (len(pcm) != recipe["total_samples"] or sha256_f32le(pcm) != recipe["sha256_f32le"]):
        raise ValueError(f"{recipe_path}: rebuilt pcm does not match (len {len(pcm)}, sha {sha256_f32le(pcm)})")
    return pcm, recipe


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", required=True, help="the shared folder (holds data/)")
    ap.add_argument("--out", default="tests/fixtures/decoding/long_mix.json")
    ap.add_argument("--wav", help="also write the pcm as a 16 kHz mono float32 WAV here (not committed)")
    a = ap.parse_args()
    pieces = make_recipe(a.shared)
    pcm = build(pieces, a.shared)
    offsets, at = [], 0
    for p in pieces:
        offsets.append(at)
        at += p["n_samples"]
    for p, o in zip(pieces, offsets):
        p["out_offset"] = o
    recipe = {
        "generator": "tests/reference/make_long_audio.py",
        "sample_rate": RATE, "channels": 1,
        "semantics": "concatenate pieces in order; source piece = refaudio.load_16k(shared/data/source)"
                     "[start_sample:start_sample+n_samples]; silence piece = n_samples exact 0.0f; out_offset = "
                     "index of the piece's first sample in the result",
        "pieces": pieces,
        "total_samples": int(len(pcm)), "duration_seconds": len(pcm) / RATE,
        "sha256_f32le": sha256_f32le(pcm),
        "stats": {"max_abs": float(np.max(np.abs(pcm))), "sum_f64": float(np.sum(pcm, dtype=np.float64)),
                  "sum_sq_f64": float(np.sum(np.square(pcm, dtype=np.float64)))},
        "versions": refaudio.versions(),
    }
    os.makedirs(os.path.dirname(a.out) or ".", exist_ok=True)
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump(recipe, f, indent=1)
        f.write("\n")
    print(f"{a.out}: {len(pieces)} pieces, {len(pcm)} samples ({len(pcm) / RATE:.3f} s), "
          f"sha256 {recipe['sha256_f32le']}")
    if a.wav:
        import soundfile
        soundfile.write(a.wav, pcm, RATE, subtype="FLOAT")
        back, _ = soundfile.read(a.wav, dtype="float32")
        if not np.array_equal(back, pcm):
            sys.exit(f"{a.wav}: float WAV did not round-trip")
        print(f"{a.wav}: {os.path.getsize(a.wav)} bytes")


if __name__ == "__main__":
    main()
