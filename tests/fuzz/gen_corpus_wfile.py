#!/usr/bin/env python3
"""Write small valid .uzw seed files for the fuzz_wfile target into tests/fuzz/corpus_wfile/.

An independent writer of docs/weight-format.md (struct.pack, zlib.crc32), so the C reader is
also checked against a second implementation of the spec (tests/test_wfile.c opens these seeds).
Usage: python3 tests/fuzz/gen_corpus_wfile.py [out_dir]
"""
import os
import struct
import sys
import zlib

U32, I32, F32, STR, I32_ARR, F32_ARR, BYTES_ARR = 1, 2, 3, 4, 5, 6, 7
DT_F32, DT_F16, DT_BF16, DT_I8 = 0, 1, 2, 3
DT_SIZE = {DT_F32: 4, DT_F16: 2, DT_BF16: 2, DT_I8: 1}
ALIGN = 64


def meta_rec(key, mtype, count, value):
    k = key.encode()
    return struct.pack("<I", len(k)) + k + struct.pack("<IIQ", mtype, count, len(value)) + value


def m_i32(key, v):
    return meta_rec(key, I32, 1, struct.pack("<i", v))


def m_u32(key, v):
    return meta_rec(key, U32, 1, struct.pack("<I", v))


def m_f32(key, v):
    return meta_rec(key, F32, 1, struct.pack("<f", v))


def m_str(key, s):
    b = s.encode()
    return meta_rec(key, STR, len(b), b)


def m_i32_arr(key, vals):
    return meta_rec(key, I32_ARR, len(vals), struct.pack("<%di" % len(vals), *vals))


def m_f32_arr(key, vals):
    return meta_rec(key, F32_ARR, len(vals), struct.pack("<%df" % len(vals), *vals))


def m_bytes_arr(key, items):
    return meta_rec(key, BYTES_ARR, len(items), b"".join(struct.pack("<I", len(i)) + i for i in items))


def build(meta, tensors):
    """meta: list of encoded records; tensors: list of (name, dtype, dims, raw bytes)."""
    meta_bytes = b"".join(meta)
    data = b""
    table = b""
    for name, dt, dims, raw in tensors:
        n = 1
        for d in dims:
            n *= d
        assert len(raw) == n * DT_SIZE[dt]
        off = len(data)
        data += raw + b"\0" * (-len(raw) % ALIGN)
        nb = name.encode()
        padded = list(dims) + [0] * (4 - len(dims))
        table += struct.pack("<I", len(nb)) + nb + struct.pack("<II4QQQ", dt, len(dims), *padded, off, len(raw))
    meta_off = 128
    table_off = meta_off + len(meta_bytes)
    data_off = (table_off + len(table) + ALIGN - 1) // ALIGN * ALIGN
    file_bytes = data_off + len(data)
    hdr = b"UZWHISPR" + struct.pack(
        "<IIQQQQQQQIIIIII", 1, 128, file_bytes, meta_off, len(meta_bytes), table_off, len(table), data_off,
        len(data), len(meta), len(tensors), ALIGN, zlib.crc32(meta_bytes), zlib.crc32(table), zlib.crc32(data))
    hdr += b"\0" * (128 - len(hdr))
    out = hdr + meta_bytes + table
    out += b"\0" * (data_off - len(out)) + data
    assert len(out) == file_bytes
    return out


def f32s(vals):
    return struct.pack("<%df" % len(vals), *vals)


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus_wfile")
    os.makedirs(out_dir, exist_ok=True)
    seeds = {
        "empty.uzw": build([], []),
        "types.uzw": build(
            [m_str("arch", "whisper"), m_u32("k.u32", 7), m_i32("dims.n_mels", 80), m_f32("k.f32", 0.5),
             m_i32_arr("suppress.tokens", [1, 2, 7, 50256]), m_f32_arr("k.f32arr", [0.25, -1.0]),
             m_bytes_arr("lang.codes", [b"en", b"zh", b"", b"de"])],
            [("enc.ln_post.weight", DT_F32, [4], f32s([1, 2, 3, 4])),
             ("enc.conv1.weight", DT_F16, [2, 3, 3], struct.pack("<18H", *range(0x3c00, 0x3c12))),
             ("dec.pos", DT_BF16, [3, 2], struct.pack("<6H", 0x3f80, 0x4000, 0xbf80, 0, 0x7f80, 0x0001))]),
        "int8.uzw": build(
            [m_str("model.dtype", "mixed"), m_bytes_arr("tokenizer.vocab", [bytes([i]) for i in range(32)])],
            [("w", DT_I8, [5, 7], bytes((i * 37) & 0xff for i in range(35))),
             ("w.scale", DT_F32, [5], f32s([0.1, 0.2, 0.3, 0.4, 0.5])),
             ("b", DT_F32, [1], f32s([3.5]))]),
    }
    for name, blob in seeds.items():
        assert len(blob) < 20000
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(blob)
        print("%s: %d bytes" % (name, len(blob)))


if __name__ == "__main__":
    main()
