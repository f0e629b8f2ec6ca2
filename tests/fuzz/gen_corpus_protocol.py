#!/usr/bin/env python3
"""gen_corpus_protocol.py - seeds for fuzz_protocol: one control byte (it picks the split point and
the fallback PCM format), then a client byte stream of uzw-stream/1 frames written here from
docs/protocol.md with struct.pack (an implementation independent of tools/serve/protocol_frame.c):
valid sessions in every format, each kind of framing error, HELLOs with bad fields, and a few
server lines for the line checker.

  python3 tests/fuzz/gen_corpus_protocol.py [out_dir]
"""
import json
import math
import os
import struct
import sys

HELLO, AUDIO, END, PING = 1, 2, 3, 4
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "tests", "fuzz", "corpus_protocol")


def frame(ftype, payload=b""):
    """[type u8][length u32 little-endian][payload]"""
    return struct.pack("<BI", ftype, len(payload)) + payload


def hello(**fields):
    obj = {"protocol": "uzw-stream/1", "sample_rate": 16000, "format": "s16le"}
    obj.update(fields)
    return frame(HELLO, json.dumps(obj, ensure_ascii=False).encode())


def sine_s16(n, channels=1, rate=16000, hz=440.0):
    out = []
    for i in range(n):
        v = int(round(20000 * math.sin(2 * math.pi * hz * i / rate)))
        out += [v] * channels
    return struct.pack("<%dh" % len(out), *out)


def sine_f32(n, channels=1, rate=16000, hz=440.0):
    out = []
    for i in range(n):
        out += [0.6 * math.sin(2 * math.pi * hz * i / rate)] * channels
    return struct.pack("<%df" % len(out), *out)


SEEDS = {
    # valid sessions
    "s16_mono": hello() + frame(AUDIO, sine_s16(160)) + frame(PING) + frame(AUDIO, sine_s16(80)) + frame(END),
    "f32_stereo_all_fields": hello(sample_rate=44100, format="f32le", channels=2, language="uz",
                                   languages="uz,ru", adapter="call-center", interim=False,
                                   word_timestamps=True, task="transcribe", uz_script="cyrillic",
                                   api_key="k-0123456789abcdef", id="qo'ng'iroq-7")
    + frame(AUDIO, sine_f32(64, 2, 44100)) + frame(AUDIO) + frame(END),
    "s16_stereo_8k": hello(sample_rate=8000, channels=2, languages=None, adapter=None, api_key=None, id=None)
    + frame(AUDIO, sine_s16(40, 2, 8000)) + frame(END),
    "s16_extremes": hello() + frame(AUDIO, struct.pack("<4h", -32768, 32767, 0, -1)) + frame(END),
    "f32_clamp": hello(format="f32le") + frame(AUDIO, struct.pack("<4f", 1.5, -2.0, 1e30, -1e-40)) + frame(END),
    "no_end": hello(interim=True) + frame(AUDIO, sine_s16(32)),
    "cut_in_payload": hello() + frame(AUDIO, sine_s16(32))[:20],
    "cut_in_header": hello() + frame(AUDIO, sine_s16(32))[:3],
    # audio that is refused
    "f32_nan": hello(format="f32le") + frame(AUDIO, struct.pack("<3f", 0.1, float("nan"), 0.2)) + frame(END),
    "f32_inf": hello(format="f32le", channels=2) + frame(AUDIO, struct.pack("<2f", float("inf"), 0.0)),
    "misaligned_audio": hello(channels=2) + frame(AUDIO, b"\x01\x02\x03\x04\x05\x06"),
    # framing errors
    "audio_first": frame(AUDIO, b"\x00\x00"),
    "ping_first": frame(PING) + hello(),
    "two_hellos": hello() + hello(),
    "after_end": hello() + frame(END) + frame(PING),
    "end_with_payload": hello() + struct.pack("<BI", END, 1) + b"x",
    "unknown_type": hello() + struct.pack("<BI", 9, 0),
    "hello_too_large": struct.pack("<BI", HELLO, 65537),
    "audio_too_large": hello() + struct.pack("<BI", AUDIO, 1048577),
    "audio_huge_length": hello() + struct.pack("<BI", AUDIO, 0xFFFFFFFF),
    "http_request": b"GET /ws/transcribe HTTP/1.1\r\nHost: localhost\r\n\r\n",
    "tls_hello": b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03",
    "json_without_header": json.dumps({"protocol": "uzw-stream/1", "sample_rate": 16000}).encode(),
    # bad HELLOs (the stream goes on, in the fallback format)
    "hello_bad_version": hello(protocol="uzw-stream/2") + frame(AUDIO, sine_s16(8)) + frame(END),
    "hello_unknown_key": hello(sample_rat=16000) + frame(END),
    "hello_duplicate": frame(HELLO, b'{"protocol":"uzw-stream/1","sample_rate":16000,"sample_rate":8000,"format":"s16le"}'),
    "hello_bad_rate": hello(sample_rate=96000),
    "hello_rate_real": hello(sample_rate=16000.0),
    "hello_bad_languages": hello(languages="uz,,ru"),
    "hello_language_not_allowed": hello(language="en", languages="uz,ru"),
    "hello_adapter_path": hello(adapter="../../etc/passwd"),
    "hello_key_space": hello(api_key="a key"),
    "hello_not_object": frame(HELLO, b"[1,2,3]"),
    "hello_empty": frame(HELLO),
    "hello_bad_utf8": frame(HELLO, b'{"protocol":"uzw-stream/1","id":"\xff"}'),
    # server lines, for uzs_msg_check
    "line_final": b'{"type":"final","seq":0,"text":" salom","start":0.0,"end":1.2,"language":"uz",'
                  b'"language_prob":0.93,"words":[{"word":" salom","start":0.1,"end":0.9,"prob":0.88,'
                  b'"language":"uz"}],"switches":[]}\n',
    "line_end": b'{"type":"end","audio_seconds":3.0,"transcribed_seconds":3.0,"error_seconds":0.0,"finals":2,'
                b'"timings":{"wall_seconds":3.1,"compute_seconds":0.9,"rtf":0.3,"latency_p50":0.8,"latency_p95":1.1}}\n',
    "line_error": b'{"type":"error","code":"too_large","message":"frame 1 at byte 70: ...","fatal":true,'
                  b'"start":0.0,"end":2.0}\n',
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for i, (name, stream) in enumerate(sorted(SEEDS.items())):
        ctl = bytes([(i * 37) & 0xFF])  # varied split points and fallback formats
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(ctl + stream)
    print("wrote", len(SEEDS), "seeds to", OUT)


if __name__ == "__main__":
    main()
