#!/usr/bin/env python3
"""Dump OAI's Whisper mel filterbanks (assets/mel_filters.npz) as raw little-endian float32 files
for tests/test_mel.c: tests/fixtures/mel_filters_80.f32 [80, 201] and mel_filters_128.f32 [128, 201].

Usage: python3 tests/reference/dump_mel_filters.py [path/to/mel_filters.npz] [out_dir]
Defaults: ../shared/data/whisper-assets/mel_filters.npz (beside the repo), tests/fixtures.
"""
import os
import sys

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
repo = os.path.dirname(os.path.dirname(here))
npz_path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(repo, "..", "shared", "data", "whisper-assets",
                                                                "mel_filters.npz")
out_dir = sys.argv[2] if len(sys.argv) > 2 else os.path.join(repo, "tests", "fixtures")

with np.load(npz_path, allow_pickle=False) as f:
    for n_mels in (80, 128):
        a = f[f"mel_{n_mels}"]
        assert a.shape == (n_mels, 201), a.shape
        out = os.path.join(out_dir, f"mel_filters_{n_mels}.f32")
        np.ascontiguousarray(a, dtype="<f4").tofile(out)
        print(f"{out}: {a.shape} max {a.max():.6g}")
