#!/usr/bin/env python3
"""make_tokenizer_json.py - build a Hugging Face `tokenizers` tokenizer.json for Whisper from an HF
slow-tokenizer folder (vocab.json + merges.txt + added_tokens.json). Stdlib only.

The result is a byte-level BPE: ByteLevel pre-tokenizer (GPT-2 regex, no prefix space), BPE model with
the vocab and merges as given, ByteLevel decoder, and every entry of added_tokens.json as an added
token (the ones named in special_tokens_map.json's additional_special_tokens, plus <|endoftext|>, are
special; the timestamps are not).

  python3 tests/reference/make_tokenizer_json.py TOKENIZER_DIR [OUT_JSON]   (default TOKENIZER_DIR/tokenizer.json)
"""
import json
import os
import sys


def build(tok_dir):
    with open(os.path.join(tok_dir, "vocab.json"), encoding="utf-8") as f:
        vocab = json.load(f)
    merges = []
    with open(os.path.join(tok_dir, "merges.txt"), encoding="utf-8") as f:
        for i, line in enumerate(f):
            line = line.rstrip("\n")
            if i == 0 and line.startswith("#version"):
                continue
            if line:
                merges.append(line)
    added = {}
    p = os.path.join(tok_dir, "added_tokens.json")
    if os.path.exists(p):
        with open(p, encoding="utf-8") as f:
            added = json.load(f)
    special = {"<|endoftext|>"}
    p = os.path.join(tok_dir, "special_tokens_map.json")
    if os.path.exists(p):
        with open(p, encoding="utf-8") as f:
            m = json.load(f)
        special.update(m.get("additional_special_tokens", []))
        for k in ("bos_token", "eos_token", "pad_token", "unk_token"):
            if isinstance(m.get(k), str):
                special.add(m[k])
    added_list = [{"id": i, "content": c, "single_word": False, "lstrip": False, "rstrip": False,
                   "normalized": c not in special, "special": c in special}
                  for c, i in sorted(added.items(), key=lambda kv: kv[1])]
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": added_list,
        "normalizer": None,
        "pre_tokenizer": byte_level,
        "post_processor": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": True},
        "decoder": byte_level,
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": vocab, "merges": merges},
    }


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    tok_dir = sys.argv[1]
    out = sys.argv[2] if len(sys.argv) == 3 else os.path.join(tok_dir, "tokenizer.json")
    with open(out, "w", encoding="utf-8") as f:
        json.dump(build(tok_dir), f, ensure_ascii=False)
    print(out)


if __name__ == "__main__":
    main()
