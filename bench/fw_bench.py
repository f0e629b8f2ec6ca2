#!/usr/bin/env python3
"""fw_bench.py - the faster-whisper side of `uzwhisper bench --compare faster-whisper` (docs/bench.md).

  python3 bench/fw_bench.py REQUEST.json OUT.json

`uzwhisper bench` writes REQUEST.json and reads OUT.json; it scores the texts with its own C metrics,
so both systems are measured by one scorer. This script only transcribes and times.

REQUEST: {"model": CT2 folder, "threads": N, "warmup": bool,
          "options": {the bench's decoding options, as in the report's "options"},
          "utterances": [{"id", "audio"}]}
OUT:     {"faster_whisper_version", "ctranslate2_version", "model", "threads", "load_ms", "peak_rss_mb",
          "utterances": [{"id", "ok", "error", "text", "language", "language_probability", "duration",
                          "total_ms", "audio_ms", "ttft_ms", "peak_rss_mb",
                          "segments": [{"start", "end", "text", "words": [{"word", "start", "end"}] | null}]}]}

The model is WhisperModel(folder, device="cpu", compute_type="float32", cpu_threads=N, num_workers=1),
loaded before any timing. Per utterance: total_ms is the wall time from before decode_audio() (the file
decoded and resampled to 16 kHz mono, as ours does) to the last segment; ttft_ms from the same start to
the first segment the generator yields (faster-whisper yields segments, not tokens); peak_rss_mb is
this process's peak resident memory so far (getrusage). The language is fixed when the bench fixes
ours (options.language not "auto"), else detected by faster-whisper from all of Whisper's languages.
"""
import json
import os
import resource
import sys
import time

EXIT_NOT_INSTALLED = 3  # uzwhisper bench tells the user to pip install faster-whisper


def transcribe_kwargs(o):
    """The bench's options as WhisperModel.transcribe() keyword arguments."""
    kw = dict(
        task=o.get("task", "transcribe"),
        beam_size=o["beam_size"],
        best_of=o["best_of"],
        patience=o["patience"],
        length_penalty=o["length_penalty"],
        temperature=o["temperatures"],
        compression_ratio_threshold=o["compression_ratio_threshold"],
        log_prob_threshold=o["logprob_threshold"],
        no_speech_threshold=o["no_speech_threshold"],
        condition_on_previous_text=o["condition_on_previous_text"],
        prompt_reset_on_temperature=o["prompt_reset_on_temperature"],
        initial_prompt=o.get("initial_prompt"),
        suppress_blank=o["suppress_blank"],
        without_timestamps=o["without_timestamps"],
        max_initial_timestamp=o["max_initial_timestamp"],
        word_timestamps=o["word_timestamps"],
        vad_filter=o["vad_filter"],
    )
    if o.get("max_tokens_per_window"):
        kw["max_new_tokens"] = o["max_tokens_per_window"]
    lang = o.get("language")
    kw["language"] = None if lang in (None, "", "auto") else lang
    return kw


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: kilobytes


def run_one(model, decode_audio, audio_path, kw):
    t0 = time.perf_counter()
    try:
        audio = decode_audio(audio_path, sampling_rate=16000)
        t_audio = time.perf_counter()
        segments, info = model.transcribe(audio, **kw)
        segs, t_first = [], None
        for s in segments:
            if t_first is None:
                t_first = time.perf_counter()
            words = None
            if s.words is not None:
                words = [{"word": w.word, "start": w.start, "end": w.end} for w in s.words]
            segs.append({"start": s.start, "end": s.end, "text": s.text, "words": words})
        t_end = time.perf_counter()
    except Exception as e:  # a bad file fails this utterance only, as in ours
        return {"ok": False, "error": f"{type(e).__name__}: {e}"}
    total = (t_end - t0) * 1000.0
    return {
        "ok": True,
        "error": None,
        "text": "".join(s["text"] for s in segs),
        "language": info.language,
        "language_probability": info.language_probability,
        "duration": info.duration,
        "total_ms": total,
        "audio_ms": (t_audio - t0) * 1000.0,
        "ttft_ms": (t_first - t0) * 1000.0 if t_first is not None else total,
        "peak_rss_mb": peak_rss_mb(),
        "segments": segs,
    }


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 1
    with open(sys.argv[1], encoding="utf-8") as f:
        req = json.load(f)
    # everything is local: never wait on the network for a tokenizer the folder lacks
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        import ctranslate2
        import faster_whisper
        from faster_whisper import WhisperModel, decode_audio
    except ImportError as e:
        print(f"fw_bench: faster-whisper is not installed ({e}); pip install faster-whisper", file=sys.stderr)
        return EXIT_NOT_INSTALLED

    quiet = bool(req.get("quiet"))
    t = time.perf_counter()
    model = WhisperModel(req["model"], device="cpu", compute_type="float32", cpu_threads=int(req["threads"]),
                         num_workers=1)
    load_ms = (time.perf_counter() - t) * 1000.0
    kw = transcribe_kwargs(req["options"])
    utts = req["utterances"]
    if req.get("warmup") and utts:
        if not quiet:
            print(f"fw_bench: warm-up run on {utts[0]['id']} (not timed)", file=sys.stderr)
        run_one(model, decode_audio, utts[0]["audio"], kw)
    out = []
    for i, u in enumerate(utts):
        r = run_one(model, decode_audio, u["audio"], kw)
        r["id"] = u["id"]
        out.append(r)
        if quiet:
            continue
        if r["ok"]:
            rtf = r["total_ms"] / 1000.0 / r["duration"] if r["duration"] else 0.0
            print(f"fw_bench: [{i + 1}/{len(utts)}] {u['id']}: {r['duration']:.1f} s audio, lang {r['language']}, "
                  f"RTF {rtf:.3f}, first segment {r['ttft_ms']:.0f} ms", file=sys.stderr)
        else:
            print(f"fw_bench: [{i + 1}/{len(utts)}] {u['id']}: FAILED: {r['error']}", file=sys.stderr)
    doc = {
        "faster_whisper_version": faster_whisper.__version__,
        "ctranslate2_version": ctranslate2.__version__,
        "model": req["model"],
        "threads": int(req["threads"]),
        "load_ms": load_ms,
        "peak_rss_mb": peak_rss_mb(),
        "utterances": out,
    }
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
