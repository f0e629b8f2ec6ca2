#!/usr/bin/env python3
"""compare_faster_whisper.py - uzwhisper's CPU path against faster-whisper (CTranslate2) on the same
weights, the same 16 kHz samples and the same thread count, measured in one run with the two
interleaved, best of N. Reports per-phase milliseconds and the ratio ours / faster-whisper.

  python3 bench/compare_faster_whisper.py AUDIO [--threads 2] [--reps 3]
          [--model models/default.uzw] [--compute-type float32|int8]

--model picks our weight file (e.g. one made by `uzwhisper quantize`), --compute-type faster-whisper's
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
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "default.uzw"))
    ap.add_argument("--compute-type", default="float32", choices=["float32", "int8", "int8_float32"])
    a = ap.parse_args()
    from faster_whisper import WhisperModel
    model = WhisperModel(os.path.join(ROOT, "models", "faster-whisper-base"), device="cpu",
                         compute_type=a.compute_type, cpu_threads=a.threads)
    pcm, _ = refaudio.load_16k(a.audio)
    best_o, best_t = {}, {}
    for _ in range(a.reps):
        o, t = ours(a.audio, a.threads, a.language, a.model), theirs(model, pcm, a.language)
        for k in ("encoder", "decoder_per_token", "end_to_end"):
            best_o[k] = min(best_o.get(k, 1e30), o[k])
            best_t[k] = min(best_t.get(k, 1e30), t[k])
    print(f"audio {a.audio} ({len(pcm) / 16000:.1f} s), threads {a.threads}, best of {a.reps}, Whisper base; ours "
          f"{os.path.basename(a.model)}, faster-whisper compute_type={a.compute_type}")
    print(f"{'phase':<20}{'uzwhisper ms':>14}{'faster-whisper ms':>20}{'ratio':>8}")
    for k in ("encoder", "decoder_per_token", "end_to_end"):
        print(f"{k:<20}{best_o[k]:>14.1f}{best_t[k]:>20.1f}{best_o[k] / best_t[k]:>8.2f}")
    print("same text:", o["text"] == t["text"])
    if o["text"] != t["text"]:
        print("ours:  ", o["text"])
        print("theirs:", t["text"])


if __name__ == "__main__":
    main()
