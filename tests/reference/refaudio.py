"""refaudio.py - load audio exactly as the C engine does: the SYSTEM libsndfile (sf_readf_float,
normalised floats) and the SYSTEM libsamplerate (src_simple, SRC_SINC_BEST_QUALITY), through ctypes.

The pip packages `soundfile` (bundles its own libsndfile 1.2.2) and `samplerate` (bundles its own
libsamplerate build) are used only as cross-checks: `load_16k(..., check=True)` returns the max abs
difference to them so the fixture README can record it.

Pipeline (what uzw_audio_load_16k must reproduce):
  1. sf_open + sf_readf_float of every frame (interleaved float32, libsndfile's default
     normalisation: integer PCM / 2^(bits-1)).
  2. Downmix: mono[i] = (float32 sum over channels c=0..C-1 in channel order) / (float32)C.
     For 1 channel the samples are used unchanged.
  3. If the rate is not 16000: src_simple(ratio = 16000/rate, SRC_SINC_BEST_QUALITY=0, channels=1)
     on the whole buffer at once, output_frames = floor(n*ratio) + 16 (libsamplerate stops when
     input runs out; output_frames_gen is the length). A 16000 Hz input is NOT resampled.
"""
import ctypes
import ctypes.util

import numpy as np

SRC_SINC_BEST_QUALITY = 0


class _SFInfo(ctypes.Structure):
    _fields_ = [("frames", ctypes.c_int64), ("samplerate", ctypes.c_int), ("channels", ctypes.c_int),
                ("format", ctypes.c_int), ("sections", ctypes.c_int), ("seekable", ctypes.c_int)]


class _SRCData(ctypes.Structure):
    _fields_ = [("data_in", ctypes.POINTER(ctypes.c_float)), ("data_out", ctypes.POINTER(ctypes.c_float)),
                ("input_frames", ctypes.c_long), ("output_frames", ctypes.c_long),
                ("input_frames_used", ctypes.c_long), ("output_frames_gen", ctypes.c_long),
                ("end_of_input", ctypes.c_int), ("src_ratio", ctypes.c_double)]


def _lib(name, soname):
    path = ctypes.util.find_library(name) or soname
    return ctypes.CDLL(path)


_SND = _lib("sndfile", "libsndfile.so.1")
_SND.sf_open.restype = ctypes.c_void_p
_SND.sf_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(_SFInfo)]
_SND.sf_readf_float.restype = ctypes.c_int64
_SND.sf_readf_float.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_float), ctypes.c_int64]
_SND.sf_close.argtypes = [ctypes.c_void_p]
_SND.sf_strerror.restype = ctypes.c_char_p
_SND.sf_strerror.argtypes = [ctypes.c_void_p]
_SND.sf_version_string.restype = ctypes.c_char_p
_SRC = _lib("samplerate", "libsamplerate.so.0")
_SRC.src_simple.restype = ctypes.c_int
_SRC.src_simple.argtypes = [ctypes.POINTER(_SRCData), ctypes.c_int, ctypes.c_int]
_SRC.src_get_version.restype = ctypes.c_char_p


def versions():
    return {"libsndfile": _SND.sf_version_string().decode(), "libsamplerate": _SRC.src_get_version().decode()}


def read_sndfile(path):
    """Interleaved float32 [frames, channels] and the sample rate, via the system libsndfile."""
    info = _SFInfo()
    h = _SND.sf_open(str(path).encode(), 0x10, ctypes.byref(info))  # SFM_READ
    if not h:
        raise IOError(f"{path}: {_SND.sf_strerror(None).decode()}")
    try:
        buf = np.zeros((max(info.frames, 0), info.channels), dtype=np.float32)
        got = _SND.sf_readf_float(h, buf.ctypes.data_as(ctypes.POINTER(ctypes.c_float)), info.frames)
    finally:
        _SND.sf_close(h)
    return buf[:got], info.samplerate


def downmix(frames):
    if frames.shape[1] == 1:
        return frames[:, 0].copy()
    acc = frames[:, 0].astype(np.float32).copy()
    for c in range(1, frames.shape[1]):
        acc = (acc + frames[:, c]).astype(np.float32)
    return (acc / np.float32(frames.shape[1])).astype(np.float32)


def src_simple_best(x, rate):
    """libsamplerate src_simple, SRC_SINC_BEST_QUALITY, mono, ratio 16000/rate."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    ratio = 16000.0 / rate
    cap = int(len(x) * ratio) + 16
    out = np.zeros(cap, dtype=np.float32)
    d = _SRCData()
    d.data_in = x.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
    d.data_out = out.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
    d.input_frames = len(x)
    d.output_frames = cap
    d.src_ratio = ratio
    rc = _SRC.src_simple(ctypes.byref(d), SRC_SINC_BEST_QUALITY, 1)
    if rc != 0:
        raise RuntimeError(f"src_simple failed: {rc}")
    return out[:d.output_frames_gen].copy()


def load_16k(path, check=False):
    """Mono float32 16 kHz pcm; with check=True also a dict of cross-check differences."""
    frames, rate = read_sndfile(path)
    mono = downmix(frames)
    pcm = mono if rate == 16000 else src_simple_best(mono, rate)
    meta = {"source_rate": rate, "channels": int(frames.shape[1]), "source_frames": int(frames.shape[0]),
            "resampled": rate != 16000, "n_samples_16k": int(len(pcm))}
    if check:
        meta.update(_cross_check(path, frames, mono, rate, pcm))
    return pcm, meta


def _cross_check(path, frames, mono, rate, pcm):
    res = {}
    try:
        import soundfile
        sfx, sfr = soundfile.read(str(path), dtype="float32", always_2d=True)
        same_shape = sfx.shape == frames.shape and sfr == rate
        res["pysoundfile_libsndfile"] = soundfile.__libsndfile_version__
        res["pysoundfile_max_abs_diff"] = (float(np.max(np.abs(sfx - frames))) if same_shape
                                           else f"shape {sfx.shape} vs {frames.shape}")
    except Exception as e:  # noqa: BLE001 - record, do not fail
        res["pysoundfile_error"] = str(e)
    if rate != 16000:
        try:
            import samplerate
            y = samplerate.resample(mono, 16000.0 / rate, "sinc_best").astype(np.float32)
            res["pysamplerate_version"] = samplerate.__version__
            res["pysamplerate_len"] = int(len(y))
            n = min(len(y), len(pcm))
            res["pysamplerate_max_abs_diff"] = float(np.max(np.abs(y[:n] - pcm[:n])))
        except Exception as e:  # noqa: BLE001
            res["pysamplerate_error"] = str(e)
    return res
