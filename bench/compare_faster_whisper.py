#!/usr/bin/env python3
"""compare_faster_whisper.py - uzwhisper's CPU path against faster-whisper (CTranslate2) on the same
weights, the same 16 kHz samples and the same thread count, measured in one run with the two
interleaved, best of N. Reports per-phase milliseconds and the ratio ours / faster-whisper.

  python3 bench/compare_faster_whisper.py AUDIO [--threads 2] [--reps 3]
          [--model models/default.uzw [--model q8.uzw ...]] [--compute-type float32|int8]

--model picks our weight file (e.g. one made by `uzwhisper quantize`; repeat it to time several in the same
run, interleaved), --compute-type faster-whisper's
(int8 quantises the same CTranslate2 weights at load: per-row INT8 weights, INT8 activations).

Needs models/default.uzw and models/faster-whisper-base (tools/setup-default-model.sh) and
`pip install faster-whisper`. Not part of the test suite (timings never gate a test).
The phases compared:
  encoder      one 30 s window (ours: timings_ms.encoder / windows; theirs: WhisperModel.model.encode)
  decoder/tok  greedy decode of the window (ours: timings_ms.decoder_per_token; theirs: model.generate
               with beam_size=1 on the same prompt, divided by sampled tokens + 1)
  end to end   samples to text (mel, encoder, decoder), language given, without timestamps, greedy;
               audio decoding and model loading excluded on both sides
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "reference"))
import refaudio  # noqa: E402


def ours(audio, threads, language, model):
    cmd = [os.path.join(ROOT, "build", "uzwhisper"), "transcribe", "--json", "-t", str(threads), "-l", language,
           "--beam-size", "1", "--temperature", "0", "--without-timestamps", "-m", model, audio]
    t = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    wall = (time.perf_counter() - t) * 1000
    d = json.loads(out.splitlines()[0])
    tm = d["timings_ms"]
    # from samples to text, as faster-whisper's transcribe(pcm) is timed: audio decoding excluded
    pipeline = sum(v for k, v in tm.items() if k not in ("audio_decode", "decoder_per_token", "first_token"))
    return {"encoder": tm["encoder"] / max(d["windows"], 1), "decoder_per_token": tm["decoder_per_token"],
            "end_to_end": pipeline, "process_wall": wall, "text": d["text"]}


def theirs(model, pcm, language):
    import ctranslate2
    feats = model.feature_extractor(pcm)
    seg = np.ascontiguousarray(np.pad(feats[:, :3000], ((0, 0), (0, max(0, 3000 - feats.shape[1]))))[None])
    t = time.perf_counter()
    enc = model.model.encode(ctranslate2.StorageView.from_array(seg.astype(np.float32)), to_cpu=False)
    t_enc = (time.perf_counter() - t) * 1000
    prompt = [50258, model.hf_tokenizer.token_to_id(f"<|{language}|>"), 50359, 50363]
    t = time.perf_counter()
    r = model.model.generate(enc, [prompt], beam_size=1, max_length=448, suppress_blank=True, suppress_tokens=[-1])
    t_gen = (time.perf_counter() - t) * 1000
    n = len(r[0].sequences_ids[0])
    t = time.perf_counter()
    segs, _ = model.transcribe(pcm, language=language, beam_size=1, temperature=0.0, without_timestamps=True,
                               vad_filter=False)
    text = "".join(s.text for s in segs)
    t_all = (time.perf_counter() - t) * 1000
    return {"encoder": t_enc, "decoder_per_token": t_gen / (n + 1), "end_to_end": t_all, "text": text.strip()}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("audio")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--language", default="en")
    ap.add_argument("--model", action="append", help="our weight file; repeat to time several in the same run "
                    "(default models/default.uzw)")
    ap.add_argument("--compute-type", default="float32", choices=["float32", "int8", "int8_float32"])
    a = ap.parse_args()
    models = a.model or [os.path.join(ROOT, "models", "default.uzw")]
    from faster_whisper import WhisperModel
    fw = WhisperModel(os.path.join(ROOT, "models", "faster-whisper-base"), device="cpu",
                      compute_type=a.compute_type, cpu_threads=a.threads)
    pcm, _ = refaudio.load_16k(a.audio)
    phases = ("encoder", "decoder_per_token", "end_to_end")
    best = {m: {} for m in models + ["fw"]}
    texts = {}
    for _ in range(a.reps):  # interleaved: every system once per round
        for m in models:
            o = ours(a.audio, a.threads, a.language, m)
            texts[m] = o["text"]
            for k in phases:
                best[m][k] = min(best[m].get(k, 1e30), o[k])
        t = theirs(fw, pcm, a.language)
        texts["fw"] = t["text"]
        for k in phases:
            best["fw"][k] = min(best["fw"].get(k, 1e30), t[k])
    names = [os.path.basename(m) for m in models]
    print(f"audio {a.audio} ({len(pcm) / 16000:.1f} s), threads {a.threads}, best of {a.reps}, Whisper base; "
          f"faster-whisper compute_type={a.compute_type}; ms")
    head = "| phase | " + " | ".join(f"uzwhisper {n}" for n in names) + f" | faster-whisper {a.compute_type} | "
    head += " | ".join(f"{n} / faster-whisper" for n in names)
    if len(models) > 1:
        head += " | " + " | ".join(f"{names[0]} / {n}" for n in names[1:])
    print(head + " |")
    print("|---" * (1 + 2 * len(models) + 1 + max(0, len(models) - 1)) + "|")
    for k in phases:
        row = [f"{best[m][k]:.1f}" for m in models] + [f"{best['fw'][k]:.1f}"]
        row += [f"{best[m][k] / best['fw'][k]:.2f}" for m in models]
        row += [f"{best[models[0]][k] / best[m][k]:.2f}" for m in models[1:]]
        print(f"| {k} | " + " | ".join(row) + " |")
    for m, n in zip(models, names):
        print(f"same text as faster-whisper ({n}):", texts[m] == texts["fw"])


if __name__ == "__main__":
    main()
