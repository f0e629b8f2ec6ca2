#!/usr/bin/env python3
"""quant_eval.py - does INT8 keep accuracy? The float model and its quantised files on the same
evaluation sets with the same options, in one run:

  python3 bench/quant_eval.py --float models/default.uzw --int8 base-w8a8.uzw base-w8a16.uzw \
      [--sets uz,mixed,en,ru] [--limit ru=150] [--agree-sets uz,en,ci] [--threads 2] [--out DIR] [--reuse]

1. `uzwhisper bench` (product defaults: beam 5, timestamps, fallback, code-switching) on each set with
   each model: WER and CER per set and per utterance language, and the change int8 - float in points.
2. Greedy token agreement: every file of --agree-sets transcribed greedily, without timestamps, with
   the language of its manifest line, by each model; the share of files whose token sequences are
   identical and the mean share of tokens before the first difference (of the longer sequence).

Reports (JSON per model and set) go to --out (default build/quant-eval); --reuse keeps existing ones.
UZWHISPER_BIN overrides the binary (default build/uzwhisper).
Not part of the test suite: it takes minutes per set and model.
"""
import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
UZW = os.environ.get("UZWHISPER_BIN", os.path.join(ROOT, "build", "uzwhisper"))


def manifest(name):
    return os.path.join(ROOT, "build", "eval", name, "manifest.jsonl")


def tag(model):
    return os.path.splitext(os.path.basename(model))[0]


def run_bench(model, set_name, limit, threads, out, reuse):
    path = os.path.join(out, f"{tag(model)}-{set_name}{'-' + str(limit) if limit else ''}.json")
    if not (reuse and os.path.exists(path)):
        cmd = [UZW, "bench", manifest(set_name), "-m", model, "-t", str(threads), "--json", path, "--quiet"]
        if limit:
            cmd += ["--limit", str(limit)]
        print("+", " ".join(cmd), file=sys.stderr, flush=True)
        subprocess.run(cmd, check=True)
    s = json.load(open(path))["sets"][0]["summary"]
    return {"wer": s["wer"], "cer": s["cer"], "n": s["n"], "rtf": s["rtf"],
            "by_lang": {k: v["wer"] for k, v in (s.get("wer_by_utterance_language") or {}).items()}}


def greedy_tokens(model, audio, language, threads):
    cmd = [UZW, "transcribe", "--json", "-m", model, "-t", str(threads), "--beam-size", "1", "--temperature", "0",
           "--without-timestamps", audio]
    if language and language != "mixed":
        cmd += ["-l", language]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    d = json.loads(out.splitlines()[0])
    return [t for s in d["segments"] for t in s["tokens"]]


def agreement(models, sets, threads):
    files = []
    for name in sets:
        base = os.path.dirname(manifest(name))
        for line in open(manifest(name)):
            u = json.loads(line)
            files.append((os.path.join(base, u["audio"]), u.get("language")))
    ref = {f: greedy_tokens(models[0], f, lang, threads) for f, lang in files}
    res = {}
    for m in models[1:]:
        same, prefix = 0, 0.0
        for f, lang in files:
            a, b = ref[f], greedy_tokens(m, f, lang, threads)
            k = 0
            while k < min(len(a), len(b)) and a[k] == b[k]:
                k += 1
            same += a == b
            prefix += k / max(len(a), len(b), 1)
        res[m] = {"files": len(files), "identical": same / len(files), "prefix": prefix / len(files)}
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--float", required=True)
    ap.add_argument("--int8", nargs="+", required=True)
    ap.add_argument("--sets", default="uz,mixed,en,ru")
    ap.add_argument("--limit", action="append", default=[], help="SET=N: only the first N utterances of SET")
    ap.add_argument("--agree-sets", default="uz,en,ci")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "quant-eval"))
    ap.add_argument("--reuse", action="store_true")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    limits = dict((kv.split("=")[0], int(kv.split("=")[1])) for kv in a.limit)
    models = [a.float] + a.int8
    sets = [s for s in a.sets.split(",") if s]
    rows = {m: {s: run_bench(m, s, limits.get(s), a.threads, a.out, a.reuse) for s in sets} for m in models}
    print(f"| set | utts | model | WER | CER | WER change (points) | CER change (points) | RTF |")
    print("|---|---:|---|---:|---:|---:|---:|---:|")
    for s in sets:
        f = rows[a.float][s]
        name = s + (f" (first {limits[s]})" if s in limits else "")
        for m in models:
            r = rows[m][s]
            dw = "" if m == a.float else f"{100 * (r['wer'] - f['wer']):+.2f}"
            dc = "" if m == a.float else f"{100 * (r['cer'] - f['cer']):+.2f}"
            print(f"| {name} | {r['n']} | {tag(m)} | {100 * r['wer']:.2f}% | {100 * r['cer']:.2f}% | {dw} | {dc} | "
                  f"{r['rtf']:.2f} |")
    langs = sorted({l for m in models for s in sets for l in rows[m][s]["by_lang"]})
    if langs:
        print("\n| model | " + " | ".join(f"WER {l}" for l in langs) + " |")
        print("|---|" + "---:|" * len(langs))
        for m in models:
            vals = []
            for l in langs:
                w = [rows[m][s]["by_lang"][l] for s in sets if l in rows[m][s]["by_lang"]]
                vals.append(f"{100 * w[0]:.2f}%" if len(w) == 1 else ", ".join(f"{100 * x:.2f}%" for x in w))
            print(f"| {tag(m)} | " + " | ".join(vals) + " |")
    agree_sets = [s for s in a.agree_sets.split(",") if s]
    if agree_sets:
        ag = agreement(models, agree_sets, a.threads)
        print(f"\nGreedy token agreement with {tag(a.float)} ({', '.join(agree_sets)}):\n")
        print("| model | files | identical sequences | mean share before the first difference |")
        print("|---|---:|---:|---:|")
        for m, r in ag.items():
            print(f"| {tag(m)} | {r['files']} | {100 * r['identical']:.1f}% | {100 * r['prefix']:.1f}% |")


if __name__ == "__main__":
    main()
