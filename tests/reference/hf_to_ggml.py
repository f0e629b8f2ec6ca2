#!/usr/bin/env python3
"""hf_to_ggml.py - write a whisper.cpp legacy ggml model file (ftype 1, "mostly f16") from an HF
Whisper folder (config.json + model.safetensors), following whisper-facts.md section 9.1:

  u32 magic 0x67676d6c; 11 x i32 hparams (n_vocab, n_audio_ctx, n_audio_state, n_audio_head,
  n_audio_layer, n_text_ctx, n_text_state, n_text_head, n_text_layer, n_mels, ftype=1);
  i32 n_mel, i32 201, mel filters f32 [n_mel, 201] (mel_filters.npz);
  i32 count (BPE tokens only: 50257 multilingual), then per token i32 length + raw bytes (tiktoken ranks);
  tensors until EOF: i32 n_dims, i32 name_len, i32 ttype (0 f32, 1 f16), i32 ne[n_dims] reversed
  (ne[0] = last PyTorch dim), name bytes, raw little-endian data.
Names are the OpenAI names. Tensors are squeezed; conv biases are written as [d, 1]. 2-D+ weights are
f16 except both positional tables (f32); 1-D tensors and conv biases are f32.

  python3 tests/reference/hf_to_ggml.py HF_DIR TIKTOKEN MEL_FILTERS_NPZ OUT [--verify]
"""
import argparse
import base64
import json
import os
import struct
import sys

import numpy as np
from safetensors.numpy import load_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oai_names  # noqa: E402

GGML_MAGIC = 0x67676D6C
F32_NAMES = {"encoder.conv1.bias", "encoder.conv2.bias", "encoder.positional_embedding",
             "decoder.positional_embedding"}


def oai_order(n_enc, n_dec):
    """Tensor order of openai-whisper's state_dict (own buffers/params before children)."""
    def attn(prefix):
        return [f"{prefix}.query.weight", f"{prefix}.query.bias", f"{prefix}.key.weight",
                f"{prefix}.value.weight", f"{prefix}.value.bias", f"{prefix}.out.weight", f"{prefix}.out.bias",
                f"{prefix}_ln.weight", f"{prefix}_ln.bias"]
    mlp = ["mlp.0.weight", "mlp.0.bias", "mlp.2.weight", "mlp.2.bias", "mlp_ln.weight", "mlp_ln.bias"]
    names = ["encoder.positional_embedding", "encoder.conv1.weight", "encoder.conv1.bias",
             "encoder.conv2.weight", "encoder.conv2.bias"]
    for i in range(n_enc):
        names += attn(f"encoder.blocks.{i}.attn") + [f"encoder.blocks.{i}.{m}" for m in mlp]
    names += ["encoder.ln_post.weight", "encoder.ln_post.bias",
              "decoder.positional_embedding", "decoder.token_embedding.weight"]
    for i in range(n_dec):
        names += attn(f"decoder.blocks.{i}.attn") + attn(f"decoder.blocks.{i}.cross_attn") + \
            [f"decoder.blocks.{i}.{m}" for m in mlp]
    names += ["decoder.ln.weight", "decoder.ln.bias"]
    return names


def load_ranks(path):
    toks = []
    with open(path, "rb") as f:
        for line in f:
            if line.strip():
                t, r = line.split()
                toks.append((int(r), base64.b64decode(t)))
    toks.sort()
    if [r for r, _ in toks] != list(range(len(toks))):
        raise ValueError("tiktoken ranks are not 0..n-1")
    return [t for _, t in toks]


def convert(hf_dir, tiktoken, mel_npz, out):
    cfg = json.load(open(os.path.join(hf_dir, "config.json")))
    st = load_file(os.path.join(hf_dir, "model.safetensors"))
    state = {oai_names.hf_to_oai(k): v for k, v in st.items() if oai_names.hf_to_oai(k) is not None}
    n_mels = cfg["num_mel_bins"]
    hp = [cfg["vocab_size"], cfg["max_source_positions"], cfg["d_model"], cfg["encoder_attention_heads"],
          cfg["encoder_layers"], cfg["max_target_positions"], cfg["d_model"], cfg["decoder_attention_heads"],
          cfg["decoder_layers"], n_mels, 1]
    filters = np.load(mel_npz)[f"mel_{n_mels}"].astype("<f4")
    vocab = load_ranks(tiktoken)
    names = oai_order(cfg["encoder_layers"], cfg["decoder_layers"])
    if set(names) != set(state):
        raise ValueError(f"tensor set mismatch: {set(names) ^ set(state)}")
    with open(out, "wb") as f:
        f.write(struct.pack("<I", GGML_MAGIC))
        f.write(struct.pack("<11i", *hp))
        f.write(struct.pack("<2i", filters.shape[0], filters.shape[1]))
        f.write(filters.tobytes())
        f.write(struct.pack("<i", len(vocab)))
        for t in vocab:
            f.write(struct.pack("<i", len(t)))
            f.write(t)
        for name in names:
            data = np.squeeze(state[name])
            if name in ("encoder.conv1.bias", "encoder.conv2.bias"):
                data = data.reshape(data.shape[0], 1)
            f32 = data.ndim < 2 or name in F32_NAMES
            data = data.astype("<f4" if f32 else "<f2")
            nb = name.encode()
            f.write(struct.pack("<3i", data.ndim, len(nb), 0 if f32 else 1))
            f.write(struct.pack(f"<{data.ndim}i", *reversed(data.shape)))
            f.write(nb)
            f.write(data.tobytes())
    return names


def read_ggml(path):
    """Parse a file written above: (hparams, filters, vocab, {name: array in PyTorch shape})."""
    b = open(path, "rb").read()
    off = 0

    def take(fmt):
        nonlocal off
        v = struct.unpack_from(fmt, b, off)
        off += struct.calcsize(fmt)
        return v
    if take("<I")[0] != GGML_MAGIC:
        raise ValueError("bad magic")
    hp = take("<11i")
    nm, nb = take("<2i")
    filters = np.frombuffer(b, "<f4", nm * nb, off).reshape(nm, nb)
    off += 4 * nm * nb
    vocab = []
    for _ in range(take("<i")[0]):
        n = take("<i")[0]
        vocab.append(b[off:off + n])
        off += n
    tensors = {}
    while off < len(b):
        nd, nl, tt = take("<3i")
        ne = take(f"<{nd}i")
        name = b[off:off + nl].decode()
        off += nl
        dt = "<f4" if tt == 0 else "<f2"
        cnt = int(np.prod(ne))
        tensors[name] = np.frombuffer(b, dt, cnt, off).reshape(tuple(reversed(ne)))
        off += cnt * np.dtype(dt).itemsize
    return hp, filters, vocab, tensors


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("hf_dir")
    ap.add_argument("tiktoken")
    ap.add_argument("mel_npz")
    ap.add_argument("out")
    ap.add_argument("--verify", action="store_true", help="read back and compare with the HF weights")
    a = ap.parse_args()
    convert(a.hf_dir, a.tiktoken, a.mel_npz, a.out)
    if a.verify:
        st = load_file(os.path.join(a.hf_dir, "model.safetensors"))
        _, _, vocab, t = read_ggml(a.out)
        worst = 0.0
        for k, v in st.items():
            o = oai_names.hf_to_oai(k)
            if o is None:
                continue
            g = t[o].astype(np.float32).reshape(v.shape)
            worst = max(worst, float(np.max(np.abs(g - v.astype(np.float32)))))
        print(f"ggml verify: {len(t)} tensors, {len(vocab)} vocab entries, max abs diff vs HF {worst}")
        if worst != 0.0:
            sys.exit(1)


if __name__ == "__main__":
    main()
