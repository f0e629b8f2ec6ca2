#!/usr/bin/env python3
"""http_throughput.py - what serving over HTTP costs: the same files transcribed by `uzwhisper serve`
(POST /transcribe from --clients concurrent curl clients, queued for --workers workers) and by
`uzwhisper transcribe` (the offline batch, same workers, threads, model and decoding: beam 5 with
fallback, word timestamps), measured in one run. Reports audio seconds per wall second of each, the ratio
server / CLI, and the server's request latency p50 / p95 under that load.

  python3 bench/http_throughput.py [FILES...] [--clients 4] [--workers 2] [--threads 1] [--reps 1]

Default files: every clip in ../shared/data. The server's model load and start are outside the timing
(it is started once and waited for at /ready); the CLI's model load (an mmap) is inside its time.
"""
import argparse
import concurrent.futures as cf
import glob
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "build", "uzwhisper")
MODEL = os.path.join(ROOT, "models", "default.uzw")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def post(port, path):
    t = time.perf_counter()
    r = subprocess.run(["curl", "-sS", "-o", "-", "-w", "\n%{http_code}", "-F", f"file=@{path}", "-F",
                        "language_hint=auto", f"http://127.0.0.1:{port}/transcribe"], capture_output=True, text=True)
    body, _, code = r.stdout.rpartition("\n")
    if code != "200":
        raise SystemExit(f"{path}: HTTP {code}: {body[:300]} {r.stderr[:300]}")
    return time.perf_counter() - t, json.loads(body)["duration"]


def run_server(files, a):
    port = free_port()
    srv = subprocess.Popen([BIN, "serve", "-m", MODEL, "--bind", "127.0.0.1", "--tcp-port", "0", "--http-port", str(port),
                            "--workers", str(a.workers), "-t", str(a.threads), "--max-queue", "1000"],
                           stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                if urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=1).status == 200:
                    break
            except OSError:
                time.sleep(0.1)
        t = time.perf_counter()
        with cf.ThreadPoolExecutor(a.clients) as ex:
            res = list(ex.map(lambda f: post(port, f), files))
        wall = time.perf_counter() - t
    finally:
        srv.terminate()
        srv.wait(timeout=60)
    lat = sorted(r[0] for r in res)
    return wall, sum(r[1] for r in res), lat


def run_cli(files, a):
    out = tempfile.mkdtemp(prefix="uzw-http-bench-")
    try:
        t = time.perf_counter()
        subprocess.run([BIN, "transcribe", "-m", MODEL, "-w", str(a.workers), "-t", str(a.threads), "--word-timestamps",
                        "--languages", "any",  # as language_hint=auto: detect among all, no code-switching
                        "-o", out, "-f", "json", "--no-resume", "--no-progress"] + files, check=True, capture_output=True)
        return time.perf_counter() - t
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("files", nargs="*")
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reps", type=int, default=1)
    a = ap.parse_args()
    files = a.files or sorted(f for e in ("wav", "flac", "mp3") for f in glob.glob(
        os.path.join(ROOT, "..", "shared", "data", "**", f"*.{e}"), recursive=True))
    best_srv, best_cli = None, None
    for _ in range(a.reps):  # alternate, best of reps
        s = run_server(files, a)
        c = run_cli(files, a)
        best_srv = s if best_srv is None or s[0] < best_srv[0] else best_srv
        best_cli = c if best_cli is None or c < best_cli else best_cli
    wall, audio, lat = best_srv
    p = lambda q: lat[min(len(lat) - 1, int(q * (len(lat) - 1) + 0.5))]
    print(f"{len(files)} files, {audio:.1f} s of audio; {a.workers} workers x {a.threads} threads; {a.clients} HTTP clients")
    print(f"serve (POST /transcribe): {wall:7.2f} s wall, {audio / wall:6.2f} audio s/s; "
          f"request latency p50 {p(0.5):.2f} s, p95 {p(0.95):.2f} s")
    print(f"transcribe (offline batch): {best_cli:7.2f} s wall, {audio / best_cli:6.2f} audio s/s")
    print(f"throughput ratio serve / transcribe: {best_cli / wall:.3f}")


if __name__ == "__main__":
    main()
