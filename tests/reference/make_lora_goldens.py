#!/usr/bin/env python3
"""make_lora_goldens.py - PEFT LoRA adapter fixtures and golden outputs for the tiny-random model.

  python3 tests/reference/make_lora_goldens.py                 (writes tests/fixtures/adapters/...)
  python3 tests/reference/make_lora_goldens.py --search 20     (print gaps / token changes for seeds 0..19)

System python (torch 2.15 CPU, transformers 5.23, peft 0.21.2, safetensors). Deterministic: fixed seeds,
CPU, float32, 2 threads. For every adapter:
  tests/fixtures/adapters/<name>/            adapter_config.json + adapter_model.safetensors (PEFT save_pretrained)
  tests/fixtures/adapters/golden/<name>/     merged.safetensors (F32 tensors of the merged model that differ from
                                             the base), golden.json, logits_first.f32
plus lora_bin/ (config + a tiny torch.save .bin, for the refusal test) and lora_dora/ (use_dora=True, refusal).

PEFT initialises lora_B to zeros, so every trainable parameter is overwritten from a seeded torch.Generator
(parameters drawn in sorted name order): lora_A ~ N(0, 1/fan_in), lora_B ~ N(0, B_STD^2), lora_B.bias ~
N(0, 0.1^2), trainable base biases and modules_to_save tensors get + N(0, 0.1^2).

Greedy rule (the C test repeats it): prompt [SOT, en, transcribe, notimestamps]; each step runs the model on
the full sequence (no KV cache, no generate()), takes the raw argmax over all 51865 logits (no suppression),
stops on EOT (not included) or after 24 tokens. min_gap = the smallest top1-top2 logit gap over all steps
(including the step that produced EOT).

The helpers in this file (load_mel, greedy, write_f32) are imported by make_bn_goldens.py, so the top level
imports nothing but torch/numpy/safetensors.
"""
import argparse
import json
import os
import shutil
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
HF_DIR = os.path.join(ROOT, "tests", "fixtures", "tiny-random", "hf")
MEL = os.path.join(ROOT, "tests", "fixtures", "golden", "mel_jfk.f32")
OUT = os.path.join(ROOT, "tests", "fixtures", "adapters")

BASE_NAME = "tests/fixtures/tiny-random/hf"

SOT, EN, TRANSCRIBE, NO_TS, EOT = 50258, 50259, 50359, 50363, 50257
PROMPT = [SOT, EN, TRANSCRIBE, NO_TS]
MAX_TOKENS = 24
MIN_GAP = 0.05
N_VOCAB = 51865

PLAIN_TARGETS = ["q_proj", "k_proj", "v_proj", "out_proj", "fc1", "fc2"]
# PEFT 0.21 refuses layers_to_transform together with a regex-string target_modules
# ("`layers_to_transform` cannot be used when `target_modules` is a str."), so lora_patterns uses a list
# target, and the regex-string target is exercised by the extra adapter lora_regex.
# (the encoder part is kept to one small module so that merged.safetensors stays small)
REGEX_TARGET = (r".*decoder\.layers\.\d+\.(self_attn|encoder_attn)\.(q_proj|v_proj)"
                r"|.*encoder\.layers\.0\.self_attn\.(out_proj)")

# name -> (LoraConfig kwargs, seed, lora_B std)
ADAPTERS = {
    "lora_plain": (dict(r=8, lora_alpha=16, target_modules=PLAIN_TARGETS, bias="none"), 1, 0.05),
    "lora_patterns": (dict(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj", "fc1", "fc2"],
                           layers_to_transform=[1], use_rslora=True,
                           rank_pattern={r"decoder\.layers\.1\.encoder_attn\.q_proj": 4,
                                         r"encoder\.layers\.1\.fc1": 2},
                           alpha_pattern={"fc2": 32, r"decoder\.layers\.1\.self_attn\.v_proj": 4},
                           bias="lora_only", lora_bias=True,
                           modules_to_save=["model.decoder.layer_norm"]), 2, 0.05),
    "lora_allbias": (dict(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"], bias="all"), 0, 0.05),
    "lora_regex": (dict(r=4, lora_alpha=8, target_modules=REGEX_TARGET, bias="none"), 2, 0.05),
}
DORA = dict(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], use_dora=True, bias="none")
A_SCALE = 1.0      # lora_A ~ N(0, (A_SCALE/sqrt(fan_in))^2)
LORA_BIAS_STD = 0.1
PERTURB_STD = 0.1  # trainable base biases, modules_to_save tensors


# ----------------------------------------------------------------------------------------------- helpers
def load_mel():
    a = np.fromfile(MEL, dtype="<f4").reshape(80, 3000)
    return torch.from_numpy(a.copy())[None]  # [1, 80, 3000]


def load_base():
    from transformers import WhisperForConditionalGeneration
    m = WhisperForConditionalGeneration.from_pretrained(HF_DIR, torch_dtype=torch.float32)
    return m.eval()


@torch.no_grad()
def logits_of(model, mel, seq):
    if hasattr(model, "get_base_model"):  # PeftModelForSeq2SeqLM.forward adds input_ids=None, which Whisper
        model = model.get_base_model()    # rejects; the LoRA-injected model underneath runs the adapter as is
    out = model(input_features=mel, decoder_input_ids=torch.tensor([list(seq)]))
    return out.logits[0].float()  # [len(seq), V]


@torch.no_grad()
def greedy(model, mel, prompt=PROMPT, max_tokens=MAX_TOKENS):
    """Raw-argmax greedy, full sequence each step. Returns (tokens, min_gap, first-step logits [V])."""
    seq, gaps, first = list(prompt), [], None
    for _ in range(max_tokens):
        lg = logits_of(model, mel, seq)[-1]
        if first is None:
            first = lg.clone()
        top = torch.topk(lg, 2)
        gaps.append(float(top.values[0] - top.values[1]))
        t = int(top.indices[0])
        if t == EOT:
            break
        seq.append(t)
    return seq[len(prompt):], min(gaps), first


def write_f32(path, t):
    a = np.ascontiguousarray(np.asarray(t, dtype="<f4"))
    a.tofile(path)
    return os.path.basename(path)


def versions(*mods):
    import importlib
    v = {"torch": torch.__version__, "numpy": np.__version__}
    for m in ("transformers", "safetensors") + tuple(mods):
        v[m] = importlib.import_module(m).__version__
    return v


def chmod_files(d):
    for f in os.listdir(d):  # safetensors writes 0600
        os.chmod(os.path.join(d, f), 0o644)


def st_listing(path):
    from safetensors import safe_open
    with safe_open(path, "pt") as f:
        return [(k, list(f.get_slice(k).get_shape()), f.get_slice(k).get_dtype()) for k in sorted(f.keys())]


# ----------------------------------------------------------------------------------------------- LoRA
def make_peft(name, cfg_kwargs, seed, b_std, dora=False):
    from peft import LoraConfig, get_peft_model
    base = load_base()
    cfg = LoraConfig(task_type="SEQ_2_SEQ_LM", **cfg_kwargs)
    pm = get_peft_model(base, cfg)
    pm.peft_config["default"].base_model_name_or_path = BASE_NAME  # not the absolute path of this checkout
    g = torch.Generator().manual_seed(seed)
    trainable = sorted((n, p) for n, p in pm.named_parameters() if p.requires_grad)
    kinds = {}
    with torch.no_grad():
        for n, p in trainable:
            z = torch.randn(p.shape, generator=g, dtype=torch.float32)
            if ".lora_A." in n:
                p.copy_(z * (A_SCALE / np.sqrt(p.shape[1])))
                k = "lora_A"
            elif ".lora_B." in n and n.endswith(".weight"):
                p.copy_(z * b_std)
                k = "lora_B.weight"
            elif ".lora_B." in n and n.endswith(".bias"):
                p.copy_(z * LORA_BIAS_STD)
                k = "lora_B.bias"
            elif "lora_magnitude_vector" in n:
                p.add_(z * PERTURB_STD)
                k = "dora_magnitude"
            elif ".modules_to_save." in n:
                p.add_(z * PERTURB_STD)
                k = "modules_to_save"
            elif n.endswith(".bias"):
                p.add_(z * PERTURB_STD)
                k = "base_bias"
            else:
                raise RuntimeError(f"unexpected trainable parameter {n}")
            kinds[k] = kinds.get(k, 0) + 1
    pm.eval()
    return pm, kinds


def save_adapter(pm, d):
    if os.path.isdir(d):
        shutil.rmtree(d)
    pm.save_pretrained(d, safe_serialization=True)
    readme = os.path.join(d, "README.md")  # PEFT's generated model card: not needed
    if os.path.exists(readme):
        os.remove(readme)
    chmod_files(d)
    return sorted(os.listdir(d))


def module_rank_alpha(pm):
    """module name -> (r, alpha, scaling) for every LoRA layer of the active adapter."""
    from peft.tuners.lora import LoraLayer
    out = {}
    for n, m in pm.named_modules():
        if isinstance(m, LoraLayer) and "default" in m.r:
            out[n.removeprefix("base_model.model.")] = (m.r["default"], m.lora_alpha["default"],
                                                        float(m.scaling["default"]))
    return out


def run_adapter(name, cfg_kwargs, seed, b_std, mel, base_sd, base_res, write=True):
    from peft import PeftModel
    pm, kinds = make_peft(name, cfg_kwargs, seed, b_std)
    ra = module_rank_alpha(pm)
    d = os.path.join(OUT, name)
    gd = os.path.join(OUT, "golden", name)
    info = {}
    if write:
        files = save_adapter(pm, d)
        # reload from disk: the golden must come from what the C side will read
        pm2 = PeftModel.from_pretrained(load_base(), d).eval()
        seq = PROMPT + [int(t) for t in base_res[0][:8]]
        diff_reload = float((logits_of(pm, mel, seq) - logits_of(pm2, mel, seq)).abs().max())
        pm = pm2
        info["files"] = files
        info["reload_max_abs_diff"] = diff_reload
    unmerged_tokens, _, _ = greedy(pm, mel)
    seq = PROMPT + unmerged_tokens
    lg_unmerged = logits_of(pm, mel, seq)
    merged = pm.merge_and_unload().eval()
    lg_merged = logits_of(merged, mel, seq)
    info["unmerged_vs_merged_max_abs_diff"] = float((lg_unmerged - lg_merged).abs().max())
    tokens, gap, first = greedy(merged, mel)
    info.update(tokens=tokens, min_gap=gap, unmerged_tokens_equal=(tokens == unmerged_tokens),
                kinds=kinds, rank_alpha=ra, logit_absmax=float(lg_merged.abs().max()),
                logit_std=float(lg_merged.std()))
    if write:
        from safetensors.torch import save_file
        msd = merged.state_dict()
        assert set(msd) == set(base_sd), (set(msd) ^ set(base_sd))
        changed = {k: msd[k].detach().float().contiguous() for k in sorted(msd)
                   if not torch.equal(msd[k].float(), base_sd[k].float())}
        os.makedirs(gd, exist_ok=True)
        save_file(changed, os.path.join(gd, "merged.safetensors"))
        info["merged_keys"] = sorted(changed)
        write_f32(os.path.join(gd, "logits_first.f32"), first.numpy())
        golden = {"adapter": f"tests/fixtures/adapters/{name}", "prompt": PROMPT,
                  "base_tokens": base_res[0], "tokens": tokens, "min_gap": gap, "base_min_gap": base_res[1],
                  "logits_first": f"tests/fixtures/adapters/golden/{name}/logits_first.f32",
                  "logits_first_shape": [N_VOCAB], "logits_first_dtype": "f32le",
                  "max_tokens": MAX_TOKENS, "eot": EOT, "seed": seed, "lora_B_std": b_std,
                  "rule": "raw argmax over the full vocabulary, no suppression, full sequence each step, "
                          "stop at EOT (not included) or after max_tokens",
                  "peft_task_type": "SEQ_2_SEQ_LM",
                  "peft_unmerged_vs_merged_max_abs_logit_diff": info["unmerged_vs_merged_max_abs_diff"],
                  "reload_max_abs_logit_diff": info["reload_max_abs_diff"],
                  "rank_alpha_scaling": {k: list(v) for k, v in sorted(ra.items())},
                  "merged_changed_tensors": info["merged_keys"],
                  "versions": versions("peft")}
        with open(os.path.join(gd, "golden.json"), "w") as f:
            json.dump(golden, f, indent=1)
        chmod_files(gd)
    return info


def make_bin():
    """lora_bin/: lora_plain's adapter_config.json + a tiny adapter_model.bin (torch.save of a 2-tensor
    subset of lora_plain's state dict, to keep it small). The C loader must refuse it."""
    from safetensors.torch import load_file
    src = os.path.join(OUT, "lora_plain")
    d = os.path.join(OUT, "lora_bin")
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)
    shutil.copyfile(os.path.join(src, "adapter_config.json"), os.path.join(d, "adapter_config.json"))
    sd = load_file(os.path.join(src, "adapter_model.safetensors"))
    keep = sorted(sd)[:2]
    torch.save({k: sd[k] for k in keep}, os.path.join(d, "adapter_model.bin"))
    chmod_files(d)
    return keep


def make_dora():
    pm, kinds = make_peft("lora_dora", DORA, 0, 0.05)
    return save_adapter(pm, os.path.join(OUT, "lora_dora")), kinds


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--search", type=int, default=0, help="try seeds 0..N-1 for every adapter, write nothing")
    ap.add_argument("--only", default=None, help="comma-separated adapter names")
    a = ap.parse_args()
    if os.environ.get("PYTHONHASHSEED") != "0":
        # PEFT turns list target_modules into a set; a fixed hash seed makes the order it writes into
        # adapter_config.json (and with it the file) reproducible
        os.environ["PYTHONHASHSEED"] = "0"
        os.execv(sys.executable, [sys.executable] + sys.argv)
    torch.set_num_threads(2)
    torch.use_deterministic_algorithms(True)
    t0 = time.time()
    mel = load_mel()
    base = load_base()
    base_sd = {k: v.detach().clone() for k, v in base.state_dict().items()}
    base_tokens, base_gap, _ = greedy(base, mel)
    print(f"base: {base_tokens} gap {base_gap:.4f}", flush=True)
    names = a.only.split(",") if a.only else list(ADAPTERS)
    if a.search:
        for name in names:
            kw, _, b_std = ADAPTERS[name]
            for seed in range(a.search):
                r = run_adapter(name, kw, seed, b_std, mel, base_sd, (base_tokens, base_gap), write=False)
                print(f"{name} seed {seed}: gap {r['min_gap']:.4f} changed {r['tokens'] != base_tokens} "
                      f"len {len(r['tokens'])} distinct {len(set(r['tokens']))} absmax {r['logit_absmax']:.1f} "
                      f"{r['tokens']}", flush=True)
        return
    os.makedirs(OUT, exist_ok=True)
    for name in names:
        kw, seed, b_std = ADAPTERS[name]
        r = run_adapter(name, kw, seed, b_std, mel, base_sd, (base_tokens, base_gap))
        ok = r["min_gap"] >= MIN_GAP and r["tokens"] != base_tokens and r["unmerged_tokens_equal"]
        print(f"{name}: {'OK' if ok else 'FAIL'} tokens {r['tokens']} gap {r['min_gap']:.4f} "
              f"unmerged-vs-merged {r['unmerged_vs_merged_max_abs_diff']:.3g} reload {r['reload_max_abs_diff']:.3g} "
              f"files {r['files']} kinds {r['kinds']} absmax {r['logit_absmax']:.2f} std {r['logit_std']:.2f}",
              flush=True)
        if not ok:
            sys.exit(f"{name}: gap/changed-token requirement not met")
    if not a.only or "lora_plain" in names:
        print("lora_bin keeps", make_bin())
        print("lora_dora", make_dora())
    print(f"done in {time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()
