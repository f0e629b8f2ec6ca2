#!/usr/bin/env python3
"""make_eval_sets.py - build the evaluation sets `uzwhisper bench` reads, from real speech.

  python3 bench/sets/make_eval_sets.py [--out DIR] [--shared /work/shared] [--sets uz,ru,en,mixed,ci]

Writes OUT/{uz,ru,en,mixed,ci}/manifest.jsonl (JSONL, one utterance a line; format in docs/eval-sets.md).
uz/ru/en (and ci) point at the original audio with paths relative to the manifest, so nothing is
copied; mixed writes its code-switched 16 kHz WAV files to OUT/mixed/audio/. Deterministic: the same
sources give byte-identical output (fixed seeds, sorted inputs). `ci` also builds `mixed`, since two of
its lines are mixed files. Check the result with bench/sets/check_eval_sets.py.
"""
import argparse
import json
import os
import random
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "reference"))  # refaudio.py: audio loaded as the engine does
sys.path.insert(0, HERE)

import codeswitch_mix as mix  # noqa: E402
import speech_sources as src  # noqa: E402

SEED = 20240611
ALL_SETS = ("uz", "ru", "en", "mixed", "ci")
LEAD = TAIL = 4000                      # 0.25 s before the first and after the last piece
PAUSE_RANGE = (0.3, 0.8)                # seconds, drawn per pause
FILE_RANGE = (8.0, 40.0)                # seconds, every mixed file
MULTI_PATTERNS = (("uz", "ru", "uz"), ("ru", "uz", "ru"), ("uz", "ru", "uz", "ru"), ("ru", "uz", "ru", "uz"),
                  ("uz", "ru", "uz", "ru", "uz"), ("ru", "uz", "ru", "uz", "ru"))


# ----------------------------------------------------------------------------------------- manifests

def utterance_line(u, manifest_dir):
    return {"id": u.id, "audio": os.path.relpath(u.audio, manifest_dir), "text": u.text,
            "language": u.language, "duration": round(u.duration, 4)}


def write_manifest(folder, lines):
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "manifest.jsonl")
    with open(path, "w", encoding="utf-8") as f:
        for line in lines:
            f.write(json.dumps(line, ensure_ascii=False) + "\n")
    return path


# ------------------------------------------------------------------------------------- mixed planning

def plan_mixed():
    """The list of files to build: (pattern, per-junction pause flags, fill kind, label)."""
    plan, k = [], 0
    for clip in range(5):
        for order in (("uz", "ru"), ("ru", "uz")):
            for pause in (False, True):
                kind = "silence" if not pause else ("noise" if k % 2 else "silence")
                k += pause
                plan.append({"pattern": order, "pauses": (pause,), "kind": kind,
                             "label": "pause" if pause else "nogap", "uz_clip": clip})
    for i, pat in enumerate(MULTI_PATTERNS):
        plan.append({"pattern": pat, "pauses": (False,) * (len(pat) - 1), "kind": "silence", "label": "nogap"})
        plan.append({"pattern": pat, "pauses": tuple(j % 2 == 0 for j in range(len(pat) - 1)),
                     "kind": "noise" if i % 2 else "silence", "label": "mixedgaps"})
    return plan


class PieceCache:
    def __init__(self):
        self._d = {}

    def get(self, u):
        if u.audio not in self._d:
            self._d[u.audio] = mix.prepare_piece(u.audio)
        return self._d[u.audio]


def build_mixed(uz_utts, ru_utts, out_dir):
    """Write the mixed WAVs and return their manifest lines (audio relative to out_dir)."""
    rng = random.Random(SEED)
    cache = PieceCache()
    uz_sorted = sorted(uz_utts, key=lambda u: u.id)
    ru_pool = sorted([u for u in ru_utts if src.is_sentence_prompt(u)], key=lambda u: u.id)
    if len(ru_pool) < 10:
        raise src.SourceMissing(f"only {len(ru_pool)} Russian sentence prompts >= 1.5 s; need the "
                                "Debian package asterisk-core-sounds-ru-wav")
    deck, first_deck = [], True
    audio_dir = os.path.join(out_dir, "audio")
    os.makedirs(audio_dir, exist_ok=True)
    lines = []
    for idx, spec in enumerate(plan_mixed()):
        pattern = spec["pattern"]
        gaps = [int(round(rng.uniform(*PAUSE_RANGE) * mix.RATE)) if p else 0 for p in spec["pauses"]]
        if "uz_clip" in spec:
            uz_pick = [uz_sorted[spec["uz_clip"]]]
        else:
            uz_pick = rng.sample(uz_sorted, pattern.count("uz"))
        n_ru = pattern.count("ru")
        fixed = LEAD + TAIL + sum(gaps) + sum(len(cache.get(u)[0]) for u in uz_pick)
        ru_pick = []
        for j in range(n_ru):
            if not deck:
                deck = ru_pool[:]
                rng.shuffle(deck)
                if first_deck:   # the one Russian sentence from another speaker and channel goes first
                    deck.sort(key=lambda u: u.id != "ru-deepspeech")
                    first_deck = False
            last = j == n_ru - 1
            for d, cand in enumerate(deck):
                if cand in ru_pick:
                    continue
                if last:
                    total = (fixed + sum(len(cache.get(u)[0]) for u in ru_pick + [cand])) / mix.RATE
                    if not FILE_RANGE[0] <= total <= FILE_RANGE[1]:
                        continue
                ru_pick.append(deck.pop(d))
                break
            else:
                raise RuntimeError(f"mixed file {idx}: no Russian prompt fits {FILE_RANGE} s")
        order, ui, ri = [], iter(uz_pick), iter(ru_pick)
        for lang in pattern:
            order.append(next(ui) if lang == "uz" else next(ri))
        pieces = [cache.get(u)[0] for u in order]
        name = f"mix{idx:02d}-{'-'.join(pattern)}-{spec['label']}"
        samples, ranges = mix.assemble(pieces, gaps, LEAD, TAIL, spec["kind"], SEED + idx)
        mix.write_wav(os.path.join(audio_dir, name + ".wav"), samples)
        segs = [{"language": u.language, "start": mix.seconds(a), "end": mix.seconds(b), "text": u.text,
                 "source": os.path.relpath(u.audio, out_dir)} for u, (a, b) in zip(order, ranges)]
        switches = [{"time": mix.seconds(ranges[i][0]), "from": order[i - 1].language, "to": order[i].language}
                    for i in range(1, len(order))]
        lines.append({"id": name, "audio": f"audio/{name}.wav", "text": " ".join(u.text for u in order),
                      "language": "mixed", "duration": mix.seconds(len(samples)), "gap_fill": spec["kind"],
                      "segments": segs, "switches": switches})
    keep = {os.path.basename(l["audio"]) for l in lines}
    for fn in os.listdir(audio_dir):                   # stale files from an older plan
        if fn.endswith(".wav") and fn not in keep:
            os.remove(os.path.join(audio_dir, fn))
    return lines


# ----------------------------------------------------------------------------------------------- ci

def build_ci(uz_utts, ru_utts, en_utts, mixed_lines, out, ci_dir):
    """2 uz (shortest), 2 ru (the DeepSpeech sentence and the sentence prompt nearest 3 s), 1 en (JFK),
    2 mixed (the shortest uz->ru and the shortest ru->uz file, each < 15 s)."""
    uz = sorted(uz_utts, key=lambda u: (u.duration, u.id))[:2]
    sent = [u for u in ru_utts if u.source.startswith("asterisk") and src.is_sentence_prompt(u)]
    ru = [u for u in ru_utts if u.id == "ru-deepspeech"] + [min(sent, key=lambda u: (abs(u.duration - 3.0), u.id))]
    en = [u for u in en_utts if u.id == "en-jfk"]
    lines = [utterance_line(u, ci_dir) for u in uz + ru + en]
    for pair in (["uz", "ru"], ["ru", "uz"]):
        cands = [m for m in mixed_lines if [s["language"] for s in m["segments"]] == pair]
        best = json.loads(json.dumps(min(cands, key=lambda m: (m["duration"], m["id"]))))  # a deep copy
        if best["duration"] >= 15.0:
            raise RuntimeError(f"no {pair} mixed file under 15 s for the CI set")
        best["audio"] = os.path.relpath(os.path.join(out, "mixed", best["audio"]), ci_dir)
        for seg in best["segments"]:
            seg["source"] = os.path.relpath(os.path.join(out, "mixed", seg["source"]), ci_dir)
        lines.append(best)
    return lines


# ---------------------------------------------------------------------------------------------- main

def summarise(name, lines):
    secs = sum(l["duration"] for l in lines)
    sw = sum(len(l.get("switches", [])) for l in lines)
    return f"{name:<7} {len(lines):>10} {secs:>12.1f} {sw:>9}"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(REPO, "build", "eval"))
    ap.add_argument("--shared", default="/work/shared")
    ap.add_argument("--sets", default=",".join(ALL_SETS), help="comma list of " + ",".join(ALL_SETS))
    args = ap.parse_args(argv)
    want = [s.strip() for s in args.sets.split(",") if s.strip()]
    bad = [s for s in want if s not in ALL_SETS]
    if bad or not want:
        ap.error(f"unknown set(s) {','.join(bad) or '(none)'}; choose from {','.join(ALL_SETS)}")
    if "ci" in want and "mixed" not in want:
        want.append("mixed")
    out = os.path.abspath(args.out)
    t0 = time.time()
    try:
        uz_utts, _ = src.uzbek(args.shared) if {"uz", "mixed"} & set(want) else ([], {})
        ru_utts, ru_counts = src.russian(args.shared) if {"ru", "mixed"} & set(want) else ([], {})
        en_utts, en_counts = src.english(args.shared) if {"en", "ci"} & set(want) else ([], {})
    except src.SourceMissing as e:
        print(f"make_eval_sets: error: {e}", file=sys.stderr)
        return 2
    built = {}
    for name, utts in (("uz", uz_utts), ("ru", ru_utts), ("en", en_utts)):
        if name in want:
            d = os.path.join(out, name)
            built[name] = [utterance_line(u, d) for u in utts]
            write_manifest(d, built[name])
    mixed_lines = []
    if "mixed" in want:
        try:
            mixed_lines = build_mixed(uz_utts, ru_utts, os.path.join(out, "mixed"))
        except src.SourceMissing as e:
            print(f"make_eval_sets: error: {e}", file=sys.stderr)
            return 2
        built["mixed"] = mixed_lines
        write_manifest(os.path.join(out, "mixed"), mixed_lines)
    if "ci" in want:
        d = os.path.join(out, "ci")
        built["ci"] = build_ci(uz_utts, ru_utts, en_utts, mixed_lines, out, d)
        write_manifest(d, built["ci"])

    if ru_counts:
        print("Russian sources: " + ", ".join(f"{k} {v}" for k, v in ru_counts.items()))
    if en_counts:
        print("English sources: " + ", ".join(f"{k} {v}" for k, v in en_counts.items()))
    print(f"\n{'set':<7} {'utterances':>10} {'audio (s)':>12} {'switches':>9}")
    for name in ALL_SETS:
        if name in built:
            print(summarise(name, built[name]))
    print(f"\nwrote {out} in {time.time() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
