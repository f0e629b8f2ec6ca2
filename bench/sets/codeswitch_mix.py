"""codeswitch_mix.py - build code-switched audio by joining real utterances, with switch times exact
to the sample.

Every step is a plain function of its inputs so check_eval_sets.py can redo it and compare:
  load_piece(path)   audio as the engine loads it (refaudio.load_16k: system libsndfile + libsamplerate),
                     16 kHz float32 mono
  speech_bounds(x)   the energy trim rule: 20 ms frames (320 samples, from sample 0); a frame's energy is
                     its mean square; keep from the first to the last frame whose energy is within 35 dB
                     of the loudest frame, plus a 50 ms (800 sample) margin each side, clipped to the clip
  level(x)           one gain per piece: active level (mean energy of the frames kept above) to -25 dBFS,
                     lowered if needed so the peak stays <= 0.9
  fade(x)            5 ms linear fade-in and fade-out so joins do not click
  assemble(...)      lead-in, pieces separated by gaps, tail; each gap is digital silence or low-level
                     white noise (-60 dBFS RMS, seeded); returns the samples and each piece's sample range
A piece's segment runs from its first to its last kept sample; a switch is at the first sample of the
piece in the new language, i.e. the previous piece's end + the gap.
"""
import wave

import numpy as np

RATE = 16000
FRAME = 320                 # 20 ms
TRIM_DB = 35.0
MARGIN = 800                # 50 ms
TARGET_DBFS = -25.0
PEAK_MAX = 0.9
FADE = 80                   # 5 ms
NOISE_DBFS = -60.0


def load_piece(path):
    import refaudio  # deferred: importing loads the system libraries
    pcm, _ = refaudio.load_16k(path)
    return np.asarray(pcm, dtype=np.float32)


def _frame_energy(x):
    n = len(x) // FRAME
    if n == 0:
        return np.zeros(0)
    return (x[:n * FRAME].astype(np.float64).reshape(n, FRAME) ** 2).mean(axis=1)


def speech_bounds(x):
    """(start, end) sample range kept by the trim rule; (0, 0) for silent or too-short audio."""
    e = _frame_energy(x)
    if len(e) == 0 or e.max() <= 0.0:
        return 0, 0
    loud = np.nonzero(e >= e.max() * 10.0 ** (-TRIM_DB / 10.0))[0]
    start = max(0, int(loud[0]) * FRAME - MARGIN)
    end = min(len(x), (int(loud[-1]) + 1) * FRAME + MARGIN)
    return start, end


def level_gain(x):
    """The piece's gain: active level to TARGET_DBFS, capped so the peak stays <= PEAK_MAX."""
    e = _frame_energy(x)
    if len(e) == 0 or e.max() <= 0.0:
        return 1.0
    active = e[e >= e.max() * 10.0 ** (-TRIM_DB / 10.0)].mean()
    gain = 10.0 ** (TARGET_DBFS / 20.0) / np.sqrt(active)
    peak = float(np.abs(x).max())
    return float(min(gain, PEAK_MAX / peak))


def fade(x):
    y = x.copy()
    n = min(FADE, len(y) // 2)
    if n > 0:
        ramp = (np.arange(n, dtype=np.float32) + 1.0) / np.float32(n + 1)
        y[:n] *= ramp
        y[len(y) - n:] *= ramp[::-1]
    return y


def prepare_piece(path):
    """The trimmed, levelled, faded piece (float32) ready to be joined, and its kept range in the source."""
    x = load_piece(path)
    s, e = speech_bounds(x)
    piece = x[s:e]
    piece = (piece * np.float32(level_gain(piece))).astype(np.float32)
    return fade(piece), (s, e)


def fill(n, kind, rng):
    """n samples of gap: 'silence' (zeros) or 'noise' (white noise at NOISE_DBFS RMS)."""
    if kind == "silence" or n == 0:
        return np.zeros(n, dtype=np.float32)
    if kind == "noise":
        return (rng.standard_normal(n) * 10.0 ** (NOISE_DBFS / 20.0)).astype(np.float32)
    raise ValueError(f"unknown gap kind {kind!r}")


def assemble(pieces, gaps, lead, tail, kind, seed):
    """pieces: float32 arrays; gaps: samples between consecutive pieces (len(pieces)-1); lead/tail in
    samples; kind: 'silence' or 'noise' for every non-speech stretch. Returns (samples, [(start, end)])."""
    if len(gaps) != len(pieces) - 1:
        raise ValueError("need one gap between each pair of pieces")
    rng = np.random.default_rng(seed)
    parts, ranges, pos = [fill(lead, kind, rng)], [], lead
    for i, p in enumerate(pieces):
        ranges.append((pos, pos + len(p)))
        parts.append(p)
        pos += len(p)
        if i < len(gaps):
            parts.append(fill(gaps[i], kind, rng))
            pos += gaps[i]
    parts.append(fill(tail, kind, rng))
    return np.concatenate(parts).astype(np.float32), ranges


def to_pcm16(x):
    return np.round(np.clip(x, -1.0, 1.0) * 32767.0).astype("<i2")


def write_wav(path, x):
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(to_pcm16(x).tobytes())


def read_wav_pcm16(path):
    with wave.open(str(path), "rb") as w:
        if w.getnchannels() != 1 or w.getsampwidth() != 2 or w.getframerate() != RATE:
            raise ValueError(f"{path}: not 16-bit mono {RATE} Hz")
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")


def seconds(samples):
    """Sample index -> seconds; k/16000 has at most 7 decimals, so rounding to 7 is exact."""
    return round(samples / RATE, 7)
