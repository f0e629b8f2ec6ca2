#!/usr/bin/env python3
"""hf_gpu_bench.py - the peer of `uzwhisper bench --device cuda --compare transformers`.

HuggingFace transformers Whisper (attn_implementation="sdpa", fp16, random weights at the real
shapes) on the same GPU, timed the way uzwhisper times itself:
  encoder_ms   median of --reps encoder forwards of one 30 s window (CUDA-synchronised wall time);
  decoder_us   microseconds per token at batch 1, 8 and 32: the decoder with its KV cache
               (EncoderDecoderCache) and greedy argmax, the difference of an 8-token and an
               (8 + --tokens)-token run divided by --tokens, so the prompt cancels;
  e2e_ms       one 30 s window end to end at batch 1: WhisperFeatureExtractor on the PCM (what a
               user of the library runs), encoder, prompt and --e2e-tokens greedy tokens;
  peak_mb      torch.cuda.max_memory_allocated for the shape.
The decoder loop calls the model's decoder directly rather than generate(): that leaves out
generate()'s logits processors, so the peer is, if anything, timed faster than its users see it.
Needs torch with CUDA and transformers (present on the GPU machine; never installed by CI).
"""
import argparse
import json
import math
import sys
import time

SHAPES = {  # n_mels, d_model, heads, encoder layers, decoder layers, vocab
    "tiny": (80, 384, 6, 4, 4, 51865),
    "base": (80, 512, 8, 6, 6, 51865),
    "small": (80, 768, 12, 12, 12, 51865),
    "medium": (80, 1024, 16, 24, 24, 51865),
    "large-v3": (128, 1280, 20, 32, 32, 51866),
    "large-v3-turbo": (128, 1280, 20, 32, 4, 51866),
}
PROMPT = [50258, 50259, 50359, 50363]


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else 0.5 * (xs[n // 2 - 1] + xs[n // 2])


def build(name, torch, transformers):
    M, D, H, Le, Ld, V = SHAPES[name]
    cfg = transformers.WhisperConfig(
        vocab_size=V, num_mel_bins=M, d_model=D, encoder_layers=Le, decoder_layers=Ld,
        encoder_attention_heads=H, decoder_attention_heads=H, encoder_ffn_dim=4 * D, decoder_ffn_dim=4 * D,
        max_source_positions=1500, max_target_positions=448, decoder_start_token_id=50258,
        eos_token_id=50257, pad_token_id=50257, bos_token_id=50257)
    torch.manual_seed(0)
    model = transformers.WhisperForConditionalGeneration._from_config(
        cfg, attn_implementation="sdpa", dtype=torch.float16)
    return model.to("cuda").eval(), cfg


def timed(torch, fn):
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    out = fn()
    torch.cuda.synchronize()
    return (time.perf_counter() - t0) * 1000.0, out


def greedy(torch, transformers, model, enc, B, n):
    """n greedy tokens for B sequences after the prompt, with the decoder's KV cache."""
    cache = transformers.EncoderDecoderCache(transformers.DynamicCache(), transformers.DynamicCache())
    ids = torch.tensor([PROMPT] * B, device=enc.device)
    out = model.model.decoder(input_ids=ids, encoder_hidden_states=enc, past_key_values=cache, use_cache=True)
    cache = out.past_key_values
    logits = model.proj_out(out.last_hidden_state[:, -1])
    for _ in range(n):
        nxt = logits.argmax(-1, keepdim=True)
        out = model.model.decoder(input_ids=nxt, encoder_hidden_states=enc, past_key_values=cache, use_cache=True)
        cache = out.past_key_values
        logits = model.proj_out(out.last_hidden_state[:, -1])
    return logits


def run_shape(name, args, torch, transformers, np):
    torch.cuda.reset_peak_memory_stats()
    model, cfg = build(name, torch, transformers)
    M = SHAPES[name][0]
    res = {}
    with torch.inference_mode():
        feats = torch.randn(1, M, 3000, device="cuda", dtype=torch.float16)
        for _ in range(2):
            model.model.encoder(feats)
        res["encoder_ms"] = median([timed(torch, lambda: model.model.encoder(feats))[0] for _ in range(args.reps)])
        dec = {}
        for B in (1, 8, 32):
            enc = model.model.encoder(feats).last_hidden_state.expand(B, -1, -1).contiguous()
            n1, n2 = 8, 8 + args.tokens
            greedy(torch, transformers, model, enc, B, n2)  # warm-up
            diffs = []
            for _ in range(args.reps):
                a = timed(torch, lambda: greedy(torch, transformers, model, enc, B, n1))[0]
                b = timed(torch, lambda: greedy(torch, transformers, model, enc, B, n2))[0]
                diffs.append((b - a) * 1000.0 / (n2 - n1))
            dec[str(B)] = median(diffs)
        res["decoder_us"] = dec
        fe = transformers.WhisperFeatureExtractor(feature_size=M)
        t = np.arange(480000) / 16000.0
        rng = np.random.default_rng(7)
        pcm = (0.3 * np.sin(2 * math.pi * (200 + 60 * t) * t) + rng.uniform(-0.01, 0.01, t.shape)).astype(np.float32)

        def e2e():
            f = fe(pcm, sampling_rate=16000, return_tensors="pt").input_features
            f = f.to("cuda", torch.float16)
            enc = model.model.encoder(f).last_hidden_state
            return greedy(torch, transformers, model, enc, 1, args.e2e_tokens)

        e2e()
        res["e2e_ms"] = median([timed(torch, e2e)[0] for _ in range(args.reps)])
    res["peak_mb"] = torch.cuda.max_memory_allocated() / 1048576.0
    del model
    torch.cuda.empty_cache()
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shapes", default=",".join(SHAPES))
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--e2e-tokens", type=int, default=100)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--json", required=True)
    args = ap.parse_args()
    import numpy as np
    import torch
    import transformers
    if not torch.cuda.is_available():
        sys.exit("hf_gpu_bench: torch sees no CUDA device")
    report = {"transformers": transformers.__version__, "torch": torch.__version__,
              "device": torch.cuda.get_device_name(0), "shapes": {}}
    for name in args.shapes.split(","):
        if name not in SHAPES:
            sys.exit(f"hf_gpu_bench: unknown shape {name}")
        try:
            report["shapes"][name] = run_shape(name, args, torch, transformers, np)
            r = report["shapes"][name]
            print(f"hf_gpu_bench: {name}: encoder {r['encoder_ms']:.2f} ms, decoder "
                  f"{r['decoder_us']['1']:.0f}/{r['decoder_us']['8']:.0f}/{r['decoder_us']['32']:.0f} us per token, "
                  f"e2e {r['e2e_ms']:.1f} ms", file=sys.stderr)
        except Exception as e:  # report the failure for this shape, go on with the next
            report["shapes"][name] = {"error": f"{type(e).__name__}: {e}"[:250]}
            print(f"hf_gpu_bench: {name}: {report['shapes'][name]['error']}", file=sys.stderr)
            torch.cuda.empty_cache()
    with open(args.json, "w") as f:
        json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
