#!/usr/bin/env python3
"""make_bn_goldens.py - AdapterHub bottleneck-adapter fixtures and golden outputs for the tiny-random model.

The `adapters` library 1.3.0 pins transformers ~=4.57.6, so this runs in its own venv (torch comes from the
system site-packages):

  python3 -m venv --system-site-packages /tmp/bn-venv
  /tmp/bn-venv/bin/pip install "transformers==4.57.6" "adapters==1.3.0"
  /tmp/bn-venv/bin/python tests/reference/make_bn_goldens.py                 (writes tests/fixtures/adapters/...)
  /tmp/bn-venv/bin/python tests/reference/make_bn_goldens.py --search 10     (try seeds, write nothing)

Adapters are added with `adapters.init(WhisperForConditionalGeneration)` + `model.add_adapter(name, config)`,
activated with `model.set_active_adapters(name)` and saved with `model.save_adapter(dir, name,
with_head=False, use_safetensors=True)` into tests/fixtures/adapters/<name>/ (adapter_config.json +
adapter.safetensors; with_head=True would also write the 6.6 MB LM head). With ln_before=True (bn_options)
the library cannot write safetensors (the LayerNorm is registered as both adapter_norm_before and
adapter_down.0: shared tensors), so that one is saved as pytorch_adapter.bin and converted 1:1.
The library initialises adapter_up to ~0 ("bert" init), so every adapter parameter is overwritten from a
seeded torch.Generator (parameters in sorted name order): Linear weights N(0, (1/sqrt(fan_in))^2) for
adapter_down and N(0, UP_STD^2) for adapter_up, Linear biases N(0, 0.1^2), adapter LayerNorm weight
1 + N(0, 0.1^2), bias N(0, 0.1^2).

Goldens (tests/fixtures/adapters/golden/<name>/golden.json + logits_first.f32) follow the same greedy rule
as make_lora_goldens.py (whose helpers are imported): raw argmax, no suppression, full sequence each step,
stop on EOT or after 24 tokens. Every golden is also checked against formula_forward(), an independent
plain-torch forward built from the saved files (the executable statement of the semantics; max abs logit
difference recorded in golden.json). bn_seq also gets bn_trace.json (encoder layer 0's output adapter: its
inputs and output on the first 4 frames).
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
sys.path.insert(0, HERE)
import make_lora_goldens as ml  # noqa: E402  (helpers only; imports nothing PEFT-related at top level)

UP_STD = 0.1
BIAS_STD = 0.1
LN_STD = 0.1


def configs():
    from adapters import BnConfig, DoubleSeqBnConfig, SeqBnConfig
    return {
        # name -> (config, seed, adapter_up std)
        "bn_seq": (SeqBnConfig(reduction_factor=2), 5, UP_STD),
        "bn_double": (DoubleSeqBnConfig(reduction_factor=4), 0, UP_STD),
        "bn_options": (BnConfig(mh_adapter=True, output_adapter=True, cross_adapter=True,
                                reduction_factor={"1": 2, "default": 4}, non_linearity="gelu",
                                ln_before=True, ln_after=True, scaling=0.5, leave_out=[2],
                                residual_before_ln=False, original_ln_before=True, original_ln_after=True),
                       3, UP_STD),
    }


def load_base():
    from transformers import WhisperForConditionalGeneration
    m = WhisperForConditionalGeneration.from_pretrained(ml.HF_DIR, torch_dtype=torch.float32)
    m.config.name_or_path = ml.BASE_NAME  # written as "model_name": not this checkout's absolute path
    return m.eval()


def make_model(name, cfg, seed, up_std):
    import adapters
    m = load_base()
    adapters.init(m)
    m.add_adapter(name, config=cfg)
    m.set_active_adapters(name)
    g = torch.Generator().manual_seed(seed)
    params = sorted((n, p) for n, p in m.named_parameters() if f".{name}." in n)
    with torch.no_grad():
        for n, p in params:
            z = torch.randn(p.shape, generator=g, dtype=torch.float32)
            if "adapter_norm" in n:
                p.copy_((1.0 if n.endswith(".weight") else 0.0) + z * LN_STD)
            elif n.endswith(".bias"):
                p.copy_(z * BIAS_STD)
            elif ".adapter_down." in n:
                p.copy_(z / np.sqrt(p.shape[1]))
            elif ".adapter_up." in n:
                p.copy_(z * up_std)
            else:
                raise RuntimeError(f"unexpected adapter parameter {n}")
    m.eval()
    return m, [(n, list(p.shape)) for n, p in params]


@torch.no_grad()
def bn_trace(m, mel):
    """Encoder layer 0: the output adapter's (fc2 output, residual) inputs and its output, first 4 frames."""
    rec = {}
    layer = m.model.encoder.layers[0]

    def hook(mod, args, out):
        rec["fc2_out"] = args[0][0, :4].tolist()
        rec["residual"] = args[1][0, :4].tolist()
        rec["output"] = out[0, :4].tolist()

    def hook_in(mod, args, kwargs):
        hs = args[0] if args else kwargs["hidden_states"]
        rec["layer_input"] = hs[0, :4].tolist()

    h1 = layer.output_adapters.register_forward_hook(hook)
    h2 = layer.register_forward_pre_hook(hook_in, with_kwargs=True)
    ml.logits_of(m, mel, ml.PROMPT)
    h1.remove()
    h2.remove()
    return rec


# ------------------------------------------------------------------------------------------------------
# Independent re-implementation of the forward (plain torch ops from the saved files) - the executable
# statement of the semantics the C engine implements. Only Stack-of-one / no fusion, no gating, no PHM.
def _ln(x, w, b):
    return torch.nn.functional.layer_norm(x, (x.shape[-1],), w, b, 1e-5)


def _act(name):
    return {"relu": torch.relu, "swish": torch.nn.functional.silu, "silu": torch.nn.functional.silu,
            "gelu": lambda t: torch.nn.functional.gelu(t), "tanh": torch.tanh}[name.lower()]


def bn_apply(c, P, h, r):
    """One bottleneck location with Whisper's layer_norm=None. h: sub-block output (attention / fc2),
    r: the sub-block's residual input. P: dict of this adapter's tensors (None = no adapter here)."""
    if P is None:
        return h + r
    res = h if c["residual_before_ln"] is True else None
    z = h + r if c["original_ln_before"] else h
    if not c["residual_before_ln"]:
        res = z
    x = _ln(z, P["adapter_norm_before.weight"], P["adapter_norm_before.bias"]) if c["ln_before"] else z
    lin = "adapter_down.1" if c["ln_before"] else "adapter_down.0"
    d = _act(c["non_linearity"])(x @ P[lin + ".weight"].T + P[lin + ".bias"])
    up = (d @ P["adapter_up.weight"].T + P["adapter_up.bias"]) * c["scaling"]
    if c["adapter_residual_before_ln"]:
        up = up + res
    if c["ln_after"]:
        up = _ln(up, P["adapter_norm_after.weight"], P["adapter_norm_after.bias"])
    out = up if c["adapter_residual_before_ln"] else up + res
    if c["original_ln_after"]:
        out = out + r
    return out


def _attn(W, p, x, kv, causal, n_head=2):
    hd = x.shape[-1] // n_head
    q = (x @ W[p + "q_proj.weight"].T + W[p + "q_proj.bias"]) * hd ** -0.5
    k = kv @ W[p + "k_proj.weight"].T
    v = kv @ W[p + "v_proj.weight"].T + W[p + "v_proj.bias"]
    q, k, v = (t.view(t.shape[0], n_head, hd).transpose(0, 1) for t in (q, k, v))
    s = q @ k.transpose(1, 2)
    if causal:
        s = s + torch.full(s.shape[-2:], float("-inf")).triu(1)
    o = (s.softmax(-1) @ v).transpose(0, 1).reshape(x.shape[0], -1)
    return o @ W[p + "out_proj.weight"].T + W[p + "out_proj.bias"]


def formula_forward(W, A, c, mel, seq):
    """W: base HF state dict (f32), A: adapter.safetensors dict, c: its config["config"]. -> logits [T, V]"""
    gelu = torch.nn.functional.gelu
    n_enc = 1 + max(int(k.split(".")[3]) for k in W if k.startswith("model.encoder.layers."))

    def P(side, i, loc):
        pre = f"model.{side}.layers.{i}.{loc}.adapters."
        ks = [k for k in A if k.startswith(pre)]
        if not ks:
            return None
        name = ks[0][len(pre):].split(".")[0]
        return {k[len(pre) + len(name) + 1:]: A[k] for k in ks}

    def ffn(p, x):
        return gelu(x @ W[p + "fc1.weight"].T + W[p + "fc1.bias"]) @ W[p + "fc2.weight"].T + W[p + "fc2.bias"]

    x = gelu(torch.nn.functional.conv1d(mel, W["model.encoder.conv1.weight"], W["model.encoder.conv1.bias"],
                                        padding=1))
    x = gelu(torch.nn.functional.conv1d(x, W["model.encoder.conv2.weight"], W["model.encoder.conv2.bias"],
                                        stride=2, padding=1))[0].T
    x = x + W["model.encoder.embed_positions.weight"][: x.shape[0]]
    for i in range(n_enc):
        p = f"model.encoder.layers.{i}."
        hn = _ln(x, W[p + "self_attn_layer_norm.weight"], W[p + "self_attn_layer_norm.bias"])
        x = bn_apply(c, P("encoder", i, "attention_adapters"), _attn(W, p + "self_attn.", hn, hn, False), x)
        f = ffn(p, _ln(x, W[p + "final_layer_norm.weight"], W[p + "final_layer_norm.bias"]))
        x = bn_apply(c, P("encoder", i, "output_adapters"), f, x)
    enc = _ln(x, W["model.encoder.layer_norm.weight"], W["model.encoder.layer_norm.bias"])
    ids = torch.tensor(seq)
    E = W["model.decoder.embed_tokens.weight"]
    y = E[ids] + W["model.decoder.embed_positions.weight"][: len(seq)]
    i = 0
    while f"model.decoder.layers.{i}.fc1.weight" in W:
        p = f"model.decoder.layers.{i}."
        hn = _ln(y, W[p + "self_attn_layer_norm.weight"], W[p + "self_attn_layer_norm.bias"])
        y = bn_apply(c, P("decoder", i, "attention_adapters"), _attn(W, p + "self_attn.", hn, hn, True), y)
        hn = _ln(y, W[p + "encoder_attn_layer_norm.weight"], W[p + "encoder_attn_layer_norm.bias"])
        ca = _attn(W, p + "encoder_attn.", hn, enc, False)
        y = bn_apply(c, P("decoder", i, "cross_attention_adapters"), ca, y)
        f = ffn(p, _ln(y, W[p + "final_layer_norm.weight"], W[p + "final_layer_norm.bias"]))
        y = bn_apply(c, P("decoder", i, "output_adapters"), f, y)
        i += 1
    return _ln(y, W["model.decoder.layer_norm.weight"], W["model.decoder.layer_norm.bias"]) @ E.T


def run(name, cfg, seed, up_std, mel, base, write=True):
    import adapters
    m, plist = make_model(name, cfg, seed, up_std)
    info = {"params": plist}
    d = os.path.join(ml.OUT, name)
    gd = os.path.join(ml.OUT, "golden", name)
    if write:
        if os.path.isdir(d):
            shutil.rmtree(d)
        try:
            m.save_adapter(d, name, with_head=False, use_safetensors=True)
            info["saved_via"] = "save_adapter(use_safetensors=True, with_head=False)"
        except RuntimeError as e:
            # ln_before=True: the adapter's LayerNorm is registered twice (adapter_norm_before and
            # adapter_down.0), and safetensors refuses to save shared tensors. Save the torch .bin the
            # library writes instead and convert it 1:1 (every key kept, shared tensors cloned).
            if "share memory" not in str(e) and "shared" not in str(e):
                raise
            shutil.rmtree(d)
            m.save_adapter(d, name, with_head=False, use_safetensors=False)
            from safetensors.torch import save_file
            sd = torch.load(os.path.join(d, "pytorch_adapter.bin"), map_location="cpu", weights_only=True)
            save_file({k: v.detach().clone().contiguous() for k, v in sd.items()},
                      os.path.join(d, "adapter.safetensors"))
            info["saved_via"] = ("save_adapter(use_safetensors=True) fails (shared tensors: adapter_norm_before "
                                 "== adapter_down.0); saved with use_safetensors=False and pytorch_adapter.bin "
                                 "converted 1:1 to adapter.safetensors (all keys, shared tensors cloned)")
        info["files_written"] = sorted(os.listdir(d))
        for f in info["files_written"]:
            if f.endswith(".bin"):
                os.remove(os.path.join(d, f))
        info["files"] = sorted(os.listdir(d))
        for f in info["files"]:
            os.chmod(os.path.join(d, f), 0o644)  # safetensors writes 0600
        # reload from disk into a fresh model: the golden comes from what the C side will read
        m2 = load_base()
        adapters.init(m2)
        loaded = m2.load_adapter(d, use_safetensors=True)
        m2.set_active_adapters(loaded)
        m2.eval()
        seq = ml.PROMPT + base[0][:8]
        info["reload_max_abs_diff"] = float((ml.logits_of(m, mel, seq) - ml.logits_of(m2, mel, seq)).abs().max())
        info["reload_name"] = loaded
        m = m2
    tokens, gap, first = ml.greedy(m, mel)
    lg = ml.logits_of(m, mel, ml.PROMPT + tokens)
    if write:
        from safetensors.torch import load_file
        W = {k: v.float() for k, v in load_base().state_dict().items()}
        A = load_file(os.path.join(d, "adapter.safetensors"))
        with open(os.path.join(d, "adapter_config.json")) as f:
            c = json.load(f)["config"]
        with torch.no_grad():
            lf = formula_forward(W, A, c, mel, ml.PROMPT + tokens)
        info["formula_max_abs_diff"] = float((lf - lg).abs().max())
    info.update(tokens=tokens, min_gap=gap, logit_absmax=float(lg.abs().max()), logit_std=float(lg.std()))
    if write:
        os.makedirs(gd, exist_ok=True)
        ml.write_f32(os.path.join(gd, "logits_first.f32"), first.numpy())
        golden = {"adapter": f"tests/fixtures/adapters/{name}", "prompt": ml.PROMPT,
                  "base_tokens": base[0], "tokens": tokens, "min_gap": gap, "base_min_gap": base[1],
                  "logits_first": f"tests/fixtures/adapters/golden/{name}/logits_first.f32",
                  "logits_first_shape": [ml.N_VOCAB], "logits_first_dtype": "f32le",
                  "max_tokens": ml.MAX_TOKENS, "eot": ml.EOT, "seed": seed, "adapter_up_std": up_std,
                  "rule": "raw argmax over the full vocabulary, no suppression, full sequence each step, "
                          "stop at EOT (not included) or after max_tokens",
                  "applied_by": "adapters.init(WhisperForConditionalGeneration) + add_adapter + "
                                "set_active_adapters",
                  "reload_max_abs_logit_diff": info["reload_max_abs_diff"],
                  "saved_via": info["saved_via"],
                  "formula_check_max_abs_logit_diff": info["formula_max_abs_diff"],
                  "adapter_params": plist,
                  "versions": ml.versions("adapters")}
        with open(os.path.join(gd, "golden.json"), "w") as f:
            json.dump(golden, f, indent=1)
        if name == "bn_seq":
            tr = bn_trace(m, mel)
            tr["what"] = ("encoder layer 0 (input to the model = mel_jfk), first 4 frames [4][32]: layer_input = "
                          "the layer's input x; residual = residual_input passed to output_adapters (the hidden "
                          "state after the attention block); fc2_out = fc2 output passed to output_adapters; "
                          "output = output_adapters result = the layer output")
            with open(os.path.join(gd, "bn_trace.json"), "w") as f:
                json.dump(tr, f, indent=1)
    return info


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--search", type=int, default=0, help="try seeds 0..N-1 for every adapter, write nothing")
    ap.add_argument("--only", default=None, help="comma-separated adapter names")
    a = ap.parse_args()
    if os.environ.get("PYTHONHASHSEED") != "0":  # reproducible set/dict orders in what the libraries write
        os.environ["PYTHONHASHSEED"] = "0"
        os.execv(sys.executable, [sys.executable] + sys.argv)
    torch.set_num_threads(2)
    torch.use_deterministic_algorithms(True)
    t0 = time.time()
    mel = ml.load_mel()
    base_model = load_base()
    base = ml.greedy(base_model, mel)[:2]
    print(f"base: {base[0]} gap {base[1]:.4f}", flush=True)
    cf = configs()
    names = a.only.split(",") if a.only else list(cf)
    if a.search:
        for name in names:
            cfg, _, up_std = cf[name]
            for seed in range(a.search):
                r = run(name, cfg, seed, up_std, mel, base, write=False)
                print(f"{name} seed {seed}: gap {r['min_gap']:.4f} changed {r['tokens'] != base[0]} "
                      f"len {len(r['tokens'])} distinct {len(set(r['tokens']))} absmax {r['logit_absmax']:.1f} "
                      f"{r['tokens']}", flush=True)
        return
    for name in names:
        cfg, seed, up_std = cf[name]
        r = run(name, cfg, seed, up_std, mel, base)
        ok = r["min_gap"] >= ml.MIN_GAP and r["tokens"] != base[0]
        print(f"{name}: {'OK' if ok else 'FAIL'} tokens {r['tokens']} gap {r['min_gap']:.4f} "
              f"reload {r['reload_max_abs_diff']:.3g} formula {r['formula_max_abs_diff']:.3g} "
              f"written {r['files_written']} kept {r['files']} "
              f"absmax {r['logit_absmax']:.2f} std {r['logit_std']:.2f}", flush=True)
        if not ok:
            sys.exit(f"{name}: gap/changed-token requirement not met")
    print(f"done in {time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()
