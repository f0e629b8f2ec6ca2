#!/usr/bin/env python3
"""batch_throughput.py - offline batch throughput on the CPU: `uzwhisper transcribe -o DIR` over a set
of files against faster-whisper (pip) transcribing the same files with the same weights and the same
decoding options, measured in one run (the two alternate, best of --reps). Reports audio seconds per
wall second for each and the ratio ours / faster-whisper.

  python3 bench/batch_throughput.py [FILES...] [--reps 2] [--beam-size 5]

Default files: every clip in ../shared/data. Each side gets the whole machine: ours with its default
worker sizing, faster-whisper with cpu_threads = cores (one model, files in sequence, as its
transcribe() is used). Audio decoding is included on both sides (ours: libsndfile + libsamplerate;
faster-whisper: its own decode_audio via PyAV). Model loading is excluded on both sides (ours is an
mmap; faster-whisper's model is loaded once before timing).
"""
import argparse
import glob
import os
import shutil
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def audio_seconds(files):
    import soundfile as sf
    return sum(sf.info(f).duration for f in files)


def run_ours(files, beam, out):
    shutil.rmtree(out, ignore_errors=True)
    cmd = [os.path.join(ROOT, "build", "uzwhisper"), "transcribe", "-m", os.path.join(ROOT, "models", "default.uzw"),
           "--beam-size", str(beam), "-o", out, "-f", "json", "--no-resume", "--no-progress"] + files
    t = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - t


def run_theirs(model, files, beam):
    t = time.perf_counter()
    for f in files:
        segs, _ = model.transcribe(f, beam_size=beam, vad_filter=False)
        list(segs)
    return time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="*")
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--beam-size", type=int, default=5)
    a = ap.parse_args()
    files = a.files or sorted(glob.glob(os.path.join(ROOT, "..", "shared", "data", "*", "*.*")) +
                              glob.glob(os.path.join(ROOT, "..", "shared", "data", "uz", "usc", "*.wav")))
    files = [f for f in files if f.rsplit(".", 1)[-1] in ("wav", "flac", "mp3")]
    from faster_whisper import WhisperModel
    model = WhisperModel(os.path.join(ROOT, "models", "faster-whisper-base"), device="cpu", compute_type="float32",
                         cpu_threads=os.cpu_count())
    secs = audio_seconds(files)
    best_o = best_t = 1e30
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(a.reps):
            best_o = min(best_o, run_ours(files, a.beam_size, os.path.join(tmp, "out")))
            best_t = min(best_t, run_theirs(model, files, a.beam_size))
    print(f"{len(files)} files, {secs:.1f} s of audio, beam {a.beam_size}, {os.cpu_count()} cores, best of {a.reps}")
    print(f"uzwhisper      {best_o:8.1f} s wall  {secs / best_o:6.2f}x real time")
    print(f"faster-whisper {best_t:8.1f} s wall  {secs / best_t:6.2f}x real time")
    print(f"throughput ratio uzwhisper / faster-whisper: {best_t / best_o:.2f}")


if __name__ == "__main__":
    main()
