#!/usr/bin/env python3
"""gen_corpus_adapter.py - seeds for fuzz_adapter from the adapter fixtures: u32 LE length of
adapter_config.json, the config, then the adapter's safetensors file.

  python3 tests/fuzz/gen_corpus_adapter.py
"""
import os
import struct

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIX = os.path.join(ROOT, "tests", "fixtures", "adapters")
OUT = os.path.join(ROOT, "tests", "fuzz", "corpus_adapter")
SEEDS = ["lora_regex", "lora_patterns", "lora_allbias", "lora_dora", "bn_seq", "bn_options"]

os.makedirs(OUT, exist_ok=True)
for name in SEEDS:
    d = os.path.join(FIX, name)
    cfg = open(os.path.join(d, "adapter_config.json"), "rb").read()
    wf = "adapter_model.safetensors" if name.startswith("lora") else "adapter.safetensors"
    st = open(os.path.join(d, wf), "rb").read()
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(struct.pack("<I", len(cfg)) + cfg + st)
print("wrote", len(SEEDS), "seeds to", OUT)
