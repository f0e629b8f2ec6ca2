#!/usr/bin/env python3
"""check_eval_sets.py - verify the sets make_eval_sets.py wrote.

  python3 bench/sets/check_eval_sets.py [--out DIR]

For every manifest line: the fields and their types, a known language, the audio path resolving from
the manifest folder, and the duration agreeing with the file header. For every mixed file:
  - it is 16-bit mono 16 kHz, 8-40 s, and its duration is its sample count / 16000;
  - segments are in order and do not overlap; each switch is at the start of the next segment, from the
    previous segment's language to a different one; the text is the segment texts joined by spaces;
  - each segment's samples are EXACTLY the source utterance put through the same load/trim/level/fade
    steps and 16-bit rounding (so the switch sample is where piece 2's audio begins);
  - independently of the trim rule's code: everything outside the segments is quiet (<= -55 dBFS RMS),
    and scanning the mixed file from each switch in 20 ms frames, the first frame within 35 dB of that
    segment's loudest frame starts no later than 70 ms after the switch (margin 50 ms + one frame).
The CI lines must each equal a line of their own set. Exit status 1 and a list of problems on failure.
"""
import argparse
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "reference"))
sys.path.insert(0, HERE)

import codeswitch_mix as mix  # noqa: E402
import speech_sources as src  # noqa: E402

LANGS = {"uz", "ru", "en", "mixed"}


def load_manifest(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(l) for l in f if l.strip()]


def check_line(d, mdir, where, problems):
    for key, typ in (("id", str), ("audio", str), ("text", str), ("language", str)):
        if not isinstance(d.get(key), typ) or not d[key]:
            problems.append(f"{where}: missing or empty {key!r}")
            return None
    if d["language"] not in LANGS:
        problems.append(f"{where}: language {d['language']!r}")
    path = os.path.normpath(os.path.join(mdir, d["audio"]))
    if not os.path.isfile(path):
        problems.append(f"{where}: audio does not resolve: {path}")
        return None
    frames, rate = src.audio_info(path)
    if rate <= 0 or frames <= 0:
        problems.append(f"{where}: unreadable audio {path}")
    elif abs(frames / rate - d.get("duration", -1)) > 1e-3:
        problems.append(f"{where}: duration {d.get('duration')} but the file has {frames / rate:.4f} s")
    if any(c in d["text"] for c in "[]<>"):
        problems.append(f"{where}: bracket left in text {d['text']!r}")
    return path


def frame_db(x):
    n = len(x) // mix.FRAME
    e = (x[:n * mix.FRAME].astype(np.float64).reshape(n, mix.FRAME) ** 2).mean(axis=1)
    return 10 * np.log10(e + 1e-20)


def check_mixed(d, mdir, wav_path, where, problems, cache):
    pcm = mix.read_wav_pcm16(wav_path)
    x = pcm.astype(np.float64) / 32767.0
    n = len(pcm)
    if abs(d["duration"] - mix.seconds(n)) > 0:
        problems.append(f"{where}: duration {d['duration']} != {mix.seconds(n)}")
    if not 8.0 <= n / mix.RATE <= 40.0:
        problems.append(f"{where}: {n / mix.RATE:.2f} s is outside 8-40 s")
    segs, sws = d.get("segments", []), d.get("switches", [])
    if len(segs) < 2 or len(sws) != len(segs) - 1:
        problems.append(f"{where}: {len(segs)} segments, {len(sws)} switches")
        return 0
    if d["text"] != " ".join(s["text"] for s in segs):
        problems.append(f"{where}: text is not the segment texts joined")
    quiet = np.ones(n, dtype=bool)
    prev_end = 0
    for i, s in enumerate(segs):
        a, b = int(round(s["start"] * mix.RATE)), int(round(s["end"] * mix.RATE))
        if mix.seconds(a) != s["start"] or mix.seconds(b) != s["end"] or not prev_end <= a < b <= n:
            problems.append(f"{where}: segment {i} [{s['start']}, {s['end']}] not sample-exact or out of order")
            return 0
        prev_end = b
        quiet[a:b] = False
        srcpath = os.path.normpath(os.path.join(mdir, s["source"]))
        if srcpath not in cache:
            cache[srcpath] = mix.to_pcm16(mix.prepare_piece(srcpath)[0])
        want = cache[srcpath]
        if len(want) != b - a or not np.array_equal(want, pcm[a:b]):
            problems.append(f"{where}: segment {i} samples differ from {s['source']} prepared")
        if i > 0:
            sw = sws[i - 1]
            if sw["time"] != s["start"] or sw["from"] != segs[i - 1]["language"] or sw["to"] != s["language"] \
                    or sw["from"] == sw["to"]:
                problems.append(f"{where}: switch {i - 1} {sw} does not match segment {i}")
            # independent onset check on the mixed signal itself
            seg_db = frame_db(x[a:b])
            first = np.nonzero(seg_db >= seg_db.max() - mix.TRIM_DB)[0]
            if len(first) == 0 or first[0] * mix.FRAME > mix.MARGIN + mix.FRAME:
                problems.append(f"{where}: speech starts {first[:1] * mix.FRAME} samples after switch {i - 1}")
    if quiet.any():
        rms = 10 * np.log10(np.mean(x[quiet] ** 2) + 1e-20)
        if rms > -55.0:
            problems.append(f"{where}: non-speech stretches at {rms:.1f} dBFS")
    if np.abs(pcm.astype(np.int32)).max() >= 32767:
        problems.append(f"{where}: clipped")
    return len(sws)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(REPO, "build", "eval"))
    args = ap.parse_args(argv)
    problems, cache, sets = [], {}, {}
    for name in ("uz", "ru", "en", "mixed", "ci"):
        mpath = os.path.join(args.out, name, "manifest.jsonl")
        if not os.path.isfile(mpath):
            print(f"{name}: no manifest (not built)")
            continue
        lines = load_manifest(mpath)
        sets[name] = lines
        mdir = os.path.dirname(mpath)
        ids, n_sw = set(), 0
        for k, d in enumerate(lines, 1):
            where = f"{name}/manifest.jsonl:{k}"
            if d.get("id") in ids:
                problems.append(f"{where}: duplicate id {d.get('id')}")
            ids.add(d.get("id"))
            path = check_line(d, mdir, where, problems)
            if path and d["language"] == "mixed":
                n_sw += check_mixed(d, mdir, path, where, problems, cache)
            elif path and name not in ("ci",) and d["language"] != name:
                problems.append(f"{where}: language {d['language']} in the {name} set")
        print(f"{name}: {len(lines)} lines checked, {n_sw} switches checked")
    for d in sets.get("ci", []):
        home = "mixed" if d["language"] == "mixed" else d["language"]
        match = [m for m in sets.get(home, []) if m["id"] == d["id"]]
        if not match or match[0]["text"] != d["text"] or match[0].get("switches") != d.get("switches"):
            problems.append(f"ci: {d['id']} is not a line of the {home} set")
    for p in problems:
        print("PROBLEM " + p)
    print("OK" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
