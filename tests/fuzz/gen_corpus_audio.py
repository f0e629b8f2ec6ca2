#!/usr/bin/env python3
"""gen_corpus_audio.py - small seed files (< 20 kB each) for fuzz_audio (uzw_audio_load_16k_mem).

Three sources, none of them needing more than python3's standard library:
  * WAV (8-, 16-, 24-bit, float, WAVE_FORMAT_EXTENSIBLE, mono and stereo), AIFF, and a WAV whose
    data chunk is cut short: written here with struct (an encoder independent of libsndfile's);
  * pieces cut by bytes out of the real files in ../shared/data (sources and licences in its
    README: USC clip CC BY 4.0 (ISSAI), jfk.flac and en_de.mp3 from MIT-licensed repositories): the
    head of a USC WAV (truncated, and with its sizes patched to a valid 0.3 s file), the head of
    jfk.flac (a truncated FLAC), the head of en_de.mp3 (ID3 tag + Info frame promising 60 s) and
    frames from its middle (no tag);
  * FLAC, OGG Vorbis, OGG Opus and MP3 encoded by the project's own libsndfile through ctypes (the
    only way to get a complete small Vorbis/Opus file with no encoder binary installed); sox or
    ffmpeg, when installed, add an OGG Vorbis and an MP3 of their own. Ogg serial numbers are
    random, so those bytes differ from run to run; everything else is deterministic.

  python3 tests/fuzz/gen_corpus_audio.py [out_dir] [shared_data_dir]
"""
import ctypes
import ctypes.util
import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "tests", "fuzz", "corpus_audio")
DATA = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "..", "shared", "data")
MAX_SEED = 20000


def tone(rate, seconds, channels=1):
    """[frames][channels] floats in [-0.9, 0.9]: two sines, each channel its own pitch."""
    n = int(rate * seconds)
    return [[0.6 * math.sin(2 * math.pi * (220 + 110 * c) * i / rate) + 0.3 * math.sin(2 * math.pi * 1375 * i / rate)
             for c in range(channels)] for i in range(n)]


def pcm_bytes(frames, fmt):
    """Interleaved little-endian samples: fmt u8 | s16 | s24 | f32."""
    out = bytearray()
    for fr in frames:
        for x in fr:
            if fmt == "u8":
                out += struct.pack("<B", max(0, min(255, int(round(x * 127 + 128)))))
            elif fmt == "s16":
                out += struct.pack("<h", int(round(x * 32767)))
            elif fmt == "s24":
                out += struct.pack("<i", int(round(x * 8388607)))[:3]
            else:
                out += struct.pack("<f", x)
    return bytes(out)


def wav(rate, channels, fmt, frames, extensible=False, declared_data=None):
    """RIFF/WAVE: fmt chunk (PCM, IEEE float or EXTENSIBLE), a fact chunk for float, the data chunk."""
    bits = {"u8": 8, "s16": 16, "s24": 24, "f32": 32}[fmt]
    tag = 3 if fmt == "f32" else 1
    align = channels * bits // 8
    data = pcm_bytes(frames, fmt)
    if extensible:
        guid = struct.pack("<IHH", tag, 0x0000, 0x0010) + bytes([0x80, 0, 0, 0xAA, 0, 0x38, 0x9B, 0x71])
        fmt_body = struct.pack("<HHIIHHHHI", 0xFFFE, channels, rate, rate * align, align, bits, 22, bits,
                               (1 << channels) - 1) + guid
    else:
        fmt_body = struct.pack("<HHIIHH", tag, channels, rate, rate * align, align, bits)
    chunks = b"fmt " + struct.pack("<I", len(fmt_body)) + fmt_body
    if fmt == "f32":
        chunks += b"fact" + struct.pack("<II", 4, len(frames))
    size = len(data) if declared_data is None else declared_data
    chunks += b"data" + struct.pack("<I", size) + data + (b"\0" if len(data) % 2 else b"")
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks


def ieee_extended(x):
    """80-bit big-endian IEEE 754 extended float (the AIFF COMM sample rate)."""
    m, e = math.frexp(x)  # x = m * 2^e, 0.5 <= m < 1
    return struct.pack(">HQ", 16383 + e - 1, int(m * (1 << 64)))


def aiff(rate, channels, frames):
    """FORM/AIFF with COMM and SSND, 16-bit big-endian."""
    data = b"".join(struct.pack(">h", int(round(x * 32767))) for fr in frames for x in fr)
    comm = struct.pack(">hIh", channels, len(frames), 16) + ieee_extended(rate)
    ssnd = struct.pack(">II", 0, 0) + data
    body = b"AIFF" + b"COMM" + struct.pack(">I", len(comm)) + comm + b"SSND" + struct.pack(">I", len(ssnd)) + ssnd
    return b"FORM" + struct.pack(">I", len(body)) + body


def read(rel):
    path = os.path.join(DATA, rel)
    if not os.path.exists(path):
        print("skip: %s is missing" % path)
        return None
    with open(path, "rb") as f:
        return f.read()


def real_cuts():
    seeds = {}
    usc = read("uz/usc/1126542829_1_33727_1.wav")
    if usc:
        seeds["real_usc_head_truncated.wav"] = usc[:12000]  # header promises 8 s
        assert usc[36:40] == b"data", "USC wav: data chunk expected at byte 36"
        head = bytearray(usc[:44 + 13230])  # 0.3 s at 22.05 kHz, 16-bit mono
        struct.pack_into("<I", head, 4, len(head) - 8)
        struct.pack_into("<I", head, 40, len(head) - 44)
        seeds["real_usc_0.3s.wav"] = bytes(head)
    flac = read("en/jfk.flac")
    if flac:
        seeds["real_jfk_head_truncated.flac"] = flac[:16000]
    mp3 = read("multi/en_de.mp3")
    if mp3:
        seeds["real_en_de_head_truncated.mp3"] = mp3[:12000]
        # frames from the middle, starting at a frame header (MPEG-2 layer III, no CRC: FF F3)
        start = mp3.find(b"\xff\xf3", len(mp3) // 2)
        if start > 0:
            seeds["real_en_de_middle.mp3"] = mp3[start:start + 9000]
    return seeds


class SfInfo(ctypes.Structure):
    _fields_ = [("frames", ctypes.c_int64), ("samplerate", ctypes.c_int), ("channels", ctypes.c_int),
                ("format", ctypes.c_int), ("sections", ctypes.c_int), ("seekable", ctypes.c_int)]


SFM_WRITE = 0x20
SF_FORMATS = {  # name: (major | codec, rate, channels, seconds)
    "sndfile_tone.flac": (0x170000 | 0x0002, 16000, 1, 0.5),
    "sndfile_tone_stereo.ogg": (0x200000 | 0x0060, 22050, 2, 0.4),
    "sndfile_tone.opus": (0x200000 | 0x0064, 48000, 1, 0.3),
    "sndfile_tone.mp3": (0x230000 | 0x0082, 16000, 1, 0.6),
}


def sndfile_encoded(tmp):
    name = ctypes.util.find_library("sndfile")
    if not name:
        print("skip: libsndfile not found; no FLAC/Vorbis/Opus/MP3 written by libsndfile")
        return {}
    sf = ctypes.CDLL(name)
    sf.sf_open.restype = ctypes.c_void_p
    sf.sf_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(SfInfo)]
    sf.sf_writef_float.restype = ctypes.c_int64
    sf.sf_writef_float.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_float), ctypes.c_int64]
    sf.sf_close.argtypes = [ctypes.c_void_p]
    sf.sf_format_check.argtypes = [ctypes.POINTER(SfInfo)]
    sf.sf_strerror.restype = ctypes.c_char_p
    sf.sf_strerror.argtypes = [ctypes.c_void_p]
    seeds = {}
    for out_name, (fmt, rate, channels, seconds) in SF_FORMATS.items():
        info = SfInfo(0, rate, channels, fmt, 0, 0)
        if not sf.sf_format_check(ctypes.byref(info)):
            print("skip: this libsndfile cannot write %s" % out_name)
            continue
        path = os.path.join(tmp, out_name)
        h = sf.sf_open(path.encode(), SFM_WRITE, ctypes.byref(info))
        if not h:
            print("skip: %s: %s" % (out_name, sf.sf_strerror(None).decode()))
            continue
        frames = tone(rate, seconds, channels)
        flat = [x * 0.5 for fr in frames for x in fr]
        buf = (ctypes.c_float * len(flat))(*flat)
        wrote = sf.sf_writef_float(h, buf, len(frames))
        sf.sf_close(h)
        assert wrote == len(frames), out_name
        with open(path, "rb") as f:
            seeds[out_name] = f.read()
    return seeds


def tool_encoded(tmp):
    seeds = {}
    src = os.path.join(tmp, "src.wav")
    with open(src, "wb") as f:
        f.write(wav(16000, 1, "s16", tone(16000, 0.5)))
    jobs = []
    if shutil.which("sox"):
        jobs += [("sox_tone.ogg", ["sox", src, "-C", "0", os.path.join(tmp, "sox_tone.ogg")]),
                 ("sox_tone.mp3", ["sox", src, "-C", "32", os.path.join(tmp, "sox_tone.mp3")])]
    if shutil.which("ffmpeg"):
        jobs += [("ffmpeg_tone.ogg", ["ffmpeg", "-v", "error", "-y", "-i", src, "-c:a", "libvorbis", "-q:a", "0",
                                     os.path.join(tmp, "ffmpeg_tone.ogg")]),
                 ("ffmpeg_tone.mp3", ["ffmpeg", "-v", "error", "-y", "-i", src, "-b:a", "32k",
                                     os.path.join(tmp, "ffmpeg_tone.mp3")])]
    for out_name, cmd in jobs:
        if subprocess.run(cmd, capture_output=True).returncode == 0:
            with open(cmd[-1], "rb") as f:
                seeds[out_name] = f.read()
        else:
            print("skip: %s failed" % " ".join(cmd))
    return seeds


def main():
    os.makedirs(OUT, exist_ok=True)
    seeds = {
        "wav_s16_mono_16k.wav": wav(16000, 1, "s16", tone(16000, 0.3)),
        "wav_s16_stereo_22k.wav": wav(22050, 2, "s16", tone(22050, 0.2, 2)),
        "wav_u8_mono_8k.wav": wav(8000, 1, "u8", tone(8000, 0.5)),
        "wav_s24_mono_44k.wav": wav(44100, 1, "s24", tone(44100, 0.12)),
        "wav_f32_mono_16k.wav": wav(16000, 1, "f32", tone(16000, 0.2)),
        "wavex_s16_stereo_11k.wav": wav(11025, 2, "s16", tone(11025, 0.3, 2), extensible=True),
        # the data chunk declares 0.5 s, the file holds 0.2 s
        "wav_s16_truncated.wav": wav(16000, 1, "s16", tone(16000, 0.2), declared_data=16000),
        "aiff_s16_mono_16k.aiff": aiff(16000, 1, tone(16000, 0.3)),
        "aiff_s16_stereo_8k.aiff": aiff(8000, 2, tone(8000, 0.3, 2)),
    }
    seeds.update(real_cuts())
    with tempfile.TemporaryDirectory() as tmp:
        seeds.update(sndfile_encoded(tmp))
        seeds.update(tool_encoded(tmp))
    for name, blob in sorted(seeds.items()):
        assert len(blob) < MAX_SEED, "%s: %d bytes" % (name, len(blob))
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(blob)
        print("%-34s %6d bytes" % (name, len(blob)))


if __name__ == "__main__":
    main()
