#!/usr/bin/env python3
"""gen_corpus_http.py - write the seed corpus of tests/fuzz/fuzz_http.c into tests/fuzz/corpus_http/.

Each seed is the fuzzer's little script (see the header of fuzz_http.c):
  byte 0: mode (low 2 bits) and flags; byte 1 (modes 1-3): endpoint / credential / options;
  the rest: a raw HTTP request (mode 0), a POST body (mode 1), the uzw-stream/1 byte stream sent as
  WebSocket messages (mode 2) or raw bytes after the WebSocket upgrade (mode 3).
Standard library only. Usage: gen_corpus_http.py [OUT_DIR]
"""
import math
import os
import struct
import sys

API_KEY = "fuzz-http-key-0123456789"  # the same constants as fuzz_http.c
BOUNDARY = "uzwfuzzboundary"

# credential indices of fuzz_http.c's `auths` table
AU_NONE, AU_KEY, AU_BAD_KEY, AU_JWT, AU_JWT_EXPIRED, AU_JWT_GARBLED, AU_JWT_NONE, AU_BASIC = range(8)
EP_TRANSCRIBE, EP_BATCH, EP_OPENAI, EP_UNKNOWN = range(4)
CT_MULTIPART, CT_MULTIPART_NO_BOUNDARY, CT_URLENCODED, CT_WAV = range(4)
FR_LENGTH, FR_CHUNKED, FR_SHORT, FR_HUGE, FR_NONE = range(5)


def wav(samples=320, rate=16000):
    """A mono s16 WAV: a 440 Hz tone of `samples` samples."""
    pcm = b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate))) for i in range(samples))
    return (b"RIFF" + struct.pack("<I", 36 + len(pcm)) + b"WAVEfmt " +
            struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16) + b"data" + struct.pack("<I", len(pcm)) + pcm)


def multipart(fields, files):
    out = b""
    for name, value in fields:
        out += (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").encode()
    for name, filename, data in files:
        out += (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\n"
                "Content-Type: audio/wav\r\n\r\n").encode() + data + b"\r\n"
    return out + f"--{BOUNDARY}--\r\n".encode()


def post(ep, au, ct, body, query=0, framing=FR_LENGTH):
    return bytes([1 | framing << 2, ep | au << 2 | ct << 5 | query << 7]) + body


def ws(au, stream, split=0, keep=1, wrong_path=0, ping=0, close=0, first_text=0, raw=0, pipelined=0):
    b0 = (3 if raw else 2) | ping << 2 | close << 3 | first_text << 4 | pipelined << 5
    return bytes([b0, au | wrong_path << 3 | split << 4 | keep << 7]) + stream


def frame(t, payload=b""):
    """A uzw-stream/1 frame: type, 32-bit little-endian length, payload."""
    return struct.pack("<BI", t, len(payload)) + payload


def ws_client_frame(opcode, payload, mask=b"\x11\x22\x33\x44"):
    n = len(payload)
    head = bytes([0x80 | opcode])
    head += bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack(">H", n)
    return head + mask + bytes(c ^ mask[i % 4] for i, c in enumerate(payload))


def hello(**extra):
    opts = {"protocol": "uzw-stream/1", "sample_rate": 16000, "format": "s16le"}
    opts.update(extra)
    body = "{" + ",".join(f"\"{k}\":" + (f"\"{v}\"" if isinstance(v, str) else str(v).lower())
                          for k, v in opts.items()) + "}"
    return frame(1, body.encode())


def audio(samples=160):
    return frame(2, b"".join(struct.pack("<h", (i * 937) % 20000 - 10000) for i in range(samples)))


PING, END = frame(4), frame(3)


def raw_request(method, path, headers=(), body=b""):
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n" + "".join(f"{h}\r\n" for h in headers)
    if body or method == "POST":
        head += f"Content-Length: {len(body)}\r\n"
    return b"\x00" + (head + "\r\n").encode() + body


def seeds():
    w = wav()
    form = multipart([("language_hint", "uz")], [("file", "a.wav", w)])
    yield "raw_get_health", raw_request("GET", "/health")
    yield "raw_get_metrics", raw_request("GET", "/metrics")
    yield "raw_get_ready_pipelined", raw_request("GET", "/ready") + raw_request("GET", "/nope")[1:]
    yield "raw_get_transcribe_405", raw_request("GET", "/transcribe")
    yield "raw_post_transcribe", raw_request(
        "POST", "/transcribe", [f"Authorization: Bearer {API_KEY}", f"Content-Type: multipart/form-data; boundary={BOUNDARY}"],
        form)
    yield "post_transcribe_key", post(EP_TRANSCRIBE, AU_KEY, CT_MULTIPART, form)
    yield "post_batch_jwt", post(EP_BATCH, AU_JWT, CT_MULTIPART,
                                 multipart([("language_hint", "mixed")], [("file", "a.wav", w), ("file", "b.wav", wav(160))]))
    yield "post_openai_key", post(EP_OPENAI, AU_KEY, CT_MULTIPART, multipart(
        [("model", "whisper-1"), ("response_format", "verbose_json"), ("timestamp_granularities[]", "word"),
         ("language", "uz"), ("temperature", "0")], [("file", "a.wav", w)]))
    yield "post_openai_bad_format", post(EP_OPENAI, AU_JWT, CT_MULTIPART,
                                         multipart([("response_format", "xml")], [("file", "a.wav", w)]))
    yield "post_transcribe_noauth", post(EP_TRANSCRIBE, AU_NONE, CT_MULTIPART, form)
    yield "post_transcribe_expired_jwt", post(EP_TRANSCRIBE, AU_JWT_EXPIRED, CT_MULTIPART, form)
    yield "post_urlencoded", post(EP_TRANSCRIBE, AU_KEY, CT_URLENCODED, b"language_hint=uz&prompt=salom&task=transcribe")
    yield "post_wav_chunked_query", post(EP_TRANSCRIBE, AU_KEY, CT_WAV, w, query=1, framing=FR_CHUNKED)
    yield "post_too_large", post(EP_BATCH, AU_KEY, CT_MULTIPART, form, framing=FR_HUGE)
    yield "post_no_length", post(EP_OPENAI, AU_JWT, CT_WAV, b"", framing=FR_NONE)
    yield "post_empty_body", post(EP_TRANSCRIBE, AU_KEY, CT_WAV, b"")
    yield "post_unknown_path", post(EP_UNKNOWN, AU_KEY, CT_MULTIPART, form)
    yield "ws_key_header", ws(AU_KEY, hello() + audio() + PING + END)
    yield "ws_key_in_hello", ws(AU_NONE, hello(api_key=API_KEY, interim=False, id="fuzz") + audio(80) + END, split=3, ping=1)
    yield "ws_jwt_bad_hello", ws(AU_JWT, frame(1, b"{\"protocol\":\"uzw-stream/1\",\"sample_rat\":16000}"), close=1)
    yield "ws_f32_stereo", ws(AU_KEY, hello(sample_rate=48000, format="f32le", channels=2) +
                              frame(2, struct.pack("<4f", 0.5, -0.25, 0.1, 0.2)) + END, first_text=1)
    yield "ws_raw_frames", ws(AU_KEY, ws_client_frame(2, hello() + END) + ws_client_frame(8, b"\x03\xe8"), raw=1)
    yield "ws_pipelined", ws(AU_KEY, hello(api_key=API_KEY) + audio(80) + END, pipelined=1)
    yield "ws_wrong_path", ws(AU_KEY, hello() + END, wrong_path=1, keep=0)
    yield "ws_bad_key", ws(AU_BAD_KEY, hello() + END, keep=0)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus_http")
    os.makedirs(out, exist_ok=True)
    total = 0
    for name, data in seeds():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
        total += len(data)
    print(f"gen_corpus_http: wrote {len(list(seeds()))} seeds ({total} bytes) to {out}")


if __name__ == "__main__":
    main()
