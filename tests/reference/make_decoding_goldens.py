#!/usr/bin/env python3
"""make_decoding_goldens.py - goldens for timestamps, long-form seeking, beam search, temperature fallback
and word timestamps (issue 3).

  python3 tests/reference/make_decoding_goldens.py models/faster-whisper-base --shared ../shared \
      --out tests/fixtures/decoding            # real_base.json (~10 min on 2 cores)
  python3 tests/reference/make_decoding_goldens.py --tiny-only --shared ../shared --out tests/fixtures/decoding

real_base.json: the real multilingual base model (CTranslate2 fp16 folder, compute_type float32) through
faster-whisper 1.2.1 on every shared clip and on long_mix (tests/reference/make_long_audio.py), configs
  greedy_ts  beam_size=1 best_of=1 temperature=0.0 without_timestamps=False condition_on_previous_text=True
             vad_filter=False word_timestamps=False language=None (other transcribe() arguments default)
  beam5_ts   as greedy_ts with beam_size=5 patience=1 length_penalty=1
  fallback   as greedy_ts with the default temperature tuple (0.0, 0.2, ..., 1.0) (best_of=5 default)
  words      as greedy_ts with word_timestamps=True
and openai-whisper 20250625 transcribe() (same weights, converted from the CT2 file; fp16=False) with
greedy_ts, beam5_ts and words, plus the agreement between the two. Every window's prompt and raw
CTranslate2 / OAI decode result is recorded (all attempts, for the fallback config).

tiny_random.json: openai-whisper decode() of the tiny random fixture model on a single 30 s window WITH
timestamps, greedy and beam_size=5, on the three golden clips, with top1-top2 gap robustness numbers.
"""
import argparse
import importlib
import json
import logging
import os
import struct
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_long_audio  # noqa: E402
import refaudio  # noqa: E402

CLIPS = ["en/jfk.flac", "ru/deepspeech_ru.wav", "multi/en_de.mp3"] + make_long_audio.UZ
LONG = "long_mix"
COMMON = dict(language=None, task="transcribe", best_of=1, without_timestamps=False,
              condition_on_previous_text=True, vad_filter=False, word_timestamps=False)
FW_CONFIGS = {
    "greedy_ts": dict(COMMON, beam_size=1, temperature=0.0),
    "beam5_ts": dict(COMMON, beam_size=5, patience=1, length_penalty=1, temperature=0.0),
    "fallback": dict({k: v for k, v in COMMON.items() if k != "best_of"}, beam_size=1,
                     temperature=[0.0, 0.2, 0.4, 0.6, 0.8, 1.0], compression_ratio_threshold=2.4,
                     log_prob_threshold=-1.0),
    "words": dict(COMMON, beam_size=1, temperature=0.0, word_timestamps=True),
}
OAI_COMMON = dict(language=None, task="transcribe", temperature=0.0, compression_ratio_threshold=2.4,
                  logprob_threshold=-1.0, no_speech_threshold=0.6, condition_on_previous_text=True,
                  without_timestamps=False, fp16=False, verbose=None)
OAI_CONFIGS = {
    "greedy_ts": dict(OAI_COMMON, beam_size=None, word_timestamps=False),
    "beam5_ts": dict(OAI_COMMON, beam_size=5, patience=1.0, length_penalty=None, word_timestamps=False),
    "words": dict(OAI_COMMON, beam_size=None, word_timestamps=True),
}
SEED = 1234  # ctranslate2.set_random_seed before every fallback run (informational sampling only)


# ---------------------------------------------------------------- CT2 -> openai-whisper weights

def read_ct2(path):
    """{name: np.ndarray} of a CTranslate2 model.bin (binary version 6), aliases resolved."""
    with open(path, "rb") as f:
        d = f.read()
    p = 0

    def take(fmt):
        nonlocal p
        v = struct.unpack_from("<" + fmt, d, p)
        p += struct.calcsize("<" + fmt)
        return v

    def string():
        nonlocal p
        (n,) = take("H")
        s = d[p:p + n - 1].decode()
        p += n
        return s

    (version,) = take("I")
    if version != 6:
        raise ValueError(f"{path}: binary version {version}, expected 6")
    string()
    take("I")
    (nvar,) = take("I")
    dtypes = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16}
    out = {}
    for _ in range(nvar):
        name = string()
        (rank,) = take("B")
        dims = take("I" * rank)
        (dt,) = take("B")
        (nbytes,) = take("I")
        out[name] = np.frombuffer(d, dtype=dtypes[dt], count=nbytes // np.dtype(dtypes[dt]).itemsize,
                                  offset=p).reshape(dims)
        p += nbytes
    (nal,) = take("I")
    for _ in range(nal):
        alias, target = string(), string()
        out[alias] = out[target]
    return out


def ct2_to_oai_state(v, n_enc, n_dec):
    """openai-whisper state dict (float32 tensors) from CT2 WhisperSpec variables."""
    t = lambda a: torch.from_numpy(np.array(a, dtype=np.float32))  # noqa: E731
    sd = {}

    def lin(dst, src, rows=None):
        w, b = v[src + "/weight"], v.get(src + "/bias")
        sd[dst + ".weight"] = t(w if rows is None else w[rows])
        if b is not None:
            sd[dst + ".bias"] = t(b if rows is None else b[rows])

    def ln(dst, src):
        sd[dst + ".weight"], sd[dst + ".bias"] = t(v[src + "/gamma"]), t(v[src + "/beta"])

    def fused(dst_names, src):
        w, b = v[src + "/weight"], v[src + "/bias"]
        n = w.shape[0] // len(dst_names)
        for i, dn in enumerate(dst_names):
            rows = slice(i * n, (i + 1) * n)
            sd[dn + ".weight"] = t(w[rows])
            if dn.endswith(".key"):  # OAI key has no bias; CT2 stores zeros there
                if np.any(b[rows] != 0):
                    raise ValueError(f"{src}: non-zero key bias")
            else:
                sd[dn + ".bias"] = t(b[rows])

    for side, n in (("encoder", n_enc), ("decoder", n_dec)):
        for i in range(n):
            o, c = f"{side}.blocks.{i}", f"{side}/layer_{i}"
            ln(o + ".attn_ln", c + "/self_attention/layer_norm")
            fused([o + ".attn.query", o + ".attn.key", o + ".attn.value"], c + "/self_attention/linear_0")
            lin(o + ".attn.out", c + "/self_attention/linear_1")
            if side == "decoder":
                ln(o + ".cross_attn_ln", c + "/attention/layer_norm")
                lin(o + ".cross_attn.query", c + "/attention/linear_0")
                fused([o + ".cross_attn.key", o + ".cross_attn.value"], c + "/attention/linear_1")
                lin(o + ".cross_attn.out", c + "/attention/linear_2")
            ln(o + ".mlp_ln", c + "/ffn/layer_norm")
            lin(o + ".mlp.0", c + "/ffn/linear_0")
            lin(o + ".mlp.2", c + "/ffn/linear_1")
    for k in ("conv1", "conv2"):
        lin(f"encoder.{k}", f"encoder/{k}")
    sd["encoder.positional_embedding"] = t(v["encoder/position_encodings/encodings"])
    ln("encoder.ln_post", "encoder/layer_norm")
    sd["decoder.token_embedding.weight"] = t(v["decoder/embeddings/weight"])
    sd["decoder.positional_embedding"] = t(v["decoder/position_encodings/encodings"])
    ln("decoder.ln", "decoder/layer_norm")
    return sd


def oai_from_ct2(ct2_dir):
    from whisper.model import ModelDimensions, Whisper
    v = read_ct2(os.path.join(ct2_dir, "model.bin"))
    n_enc = sum(1 for k in v if k.startswith("encoder/layer_") and k.endswith("/ffn/linear_0/weight"))
    n_dec = sum(1 for k in v if k.startswith("decoder/layer_") and k.endswith("/ffn/linear_0/weight"))
    emb = v["decoder/embeddings/weight"]
    dims = ModelDimensions(n_mels=v["encoder/conv1/weight"].shape[1],
                           n_audio_ctx=v["encoder/position_encodings/encodings"].shape[0],
                           n_audio_state=emb.shape[1], n_audio_head=int(v["encoder/num_heads"]), n_audio_layer=n_enc,
                           n_vocab=emb.shape[0], n_text_ctx=v["decoder/position_encodings/encodings"].shape[0],
                           n_text_state=emb.shape[1], n_text_head=int(v["decoder/num_heads"]), n_text_layer=n_dec)
    model = Whisper(dims)
    model.load_state_dict(ct2_to_oai_state(v, n_enc, n_dec), strict=True)
    with open(os.path.join(ct2_dir, "config.json")) as f:
        heads = json.load(f)["alignment_heads"]
    mask = torch.zeros(dims.n_text_layer, dims.n_text_head, dtype=torch.bool)
    for layer, head in heads:
        mask[layer, head] = True
    model.register_buffer("alignment_heads", mask.to_sparse(), persistent=False)
    return model.float().eval(), dims, heads


# ---------------------------------------------------------------- faster-whisper run with capture

class _GenSpy:
    """Stands in for the ctranslate2.models.Whisper object; records every generate() call."""

    def __init__(self, inner, log):
        object.__setattr__(self, "_inner", inner)
        object.__setattr__(self, "_log", log)

    def __getattr__(self, k):
        return getattr(self._inner, k)

    def generate(self, enc, prompts, **kw):
        res = self._inner.generate(enc, prompts, **kw)
        r = res[0]
        self._log.append({"beam_size": kw.get("beam_size"), "patience": kw.get("patience"),
                          "sampling_temperature": kw.get("sampling_temperature", 0.0),
                          "num_hypotheses": kw.get("num_hypotheses", 1), "max_length": kw.get("max_length"),
                          "max_initial_timestamp_index": kw.get("max_initial_timestamp_index"),
                          "tokens": [int(x) for x in r.sequences_ids[0]], "score": float(r.scores[0]),
                          "no_speech_prob": float(r.no_speech_prob)})
        return res


class _SeekLog(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.seeks = []

    def emit(self, rec):
        if rec.msg == "Processing segment at %s":
            mmss = rec.args[0].split(":")
            sec = float(mmss[-1]) + 60 * int(mmss[-2]) + (3600 * int(mmss[0]) if len(mmss) == 3 else 0)
            self.seeks.append(round(sec * 100))


def fw_run(model, pcm, settings):
    import faster_whisper.transcribe as fwt
    gen_log, windows = [], []
    inner, orig = model.model, model.generate_with_fallback
    seeklog = _SeekLog()
    logger = logging.getLogger("faster_whisper")
    old_level = logger.level
    feats = model.feature_extractor(pcm)
    content_frames = int(feats.shape[-1] - 1)

    def spy(encoder_output, prompt, tokenizer, options):
        res = orig(encoder_output, prompt, tokenizer, options)
        attempts = [dict(a) for a in gen_log]
        gen_log.clear()
        for a in attempts:
            n = len(a["tokens"])
            a["avg_logprob"] = a["score"] * n ** options.length_penalty / (n + 1)
            a["compression_ratio"] = fwt.get_compression_ratio(tokenizer.decode(a["tokens"]).strip())
        seek = seeklog.seeks[-1]
        skip = (res[0].no_speech_prob > options.no_speech_threshold
                and not (options.log_prob_threshold is not None and res[1] > options.log_prob_threshold))
        windows.append({"seek": seek, "segment_size": min(3000, content_frames - seek),
                        "prompt": [int(t) for t in prompt], "tokens": [int(t) for t in res[0].sequences_ids[0]],
                        "temperature": float(res[2]), "avg_logprob": float(res[1]),
                        "compression_ratio": float(res[3]), "no_speech_prob": float(res[0].no_speech_prob),
                        "skipped_no_speech": bool(skip), "attempts": attempts})
        return res

    model.model = _GenSpy(inner, gen_log)
    model.generate_with_fallback = spy
    logger.addHandler(seeklog)
    logger.setLevel(logging.DEBUG)
    t0 = time.time()
    try:
        segs, info = model.transcribe(pcm, **settings)
        segs = list(segs)
    finally:
        model.model = inner
        del model.generate_with_fallback
        logger.removeHandler(seeklog)
        logger.setLevel(old_level)
    out = {"language": info.language, "language_probability": float(info.language_probability),
           "duration": float(info.duration), "content_frames": content_frames,
           "text": "".join(s.text for s in segs), "seconds": round(time.time() - t0, 2),
           "segments": [], "windows": windows}
    for s in segs:
        d = {"id": s.id, "seek": s.seek, "start": s.start, "end": s.end, "text": s.text, "tokens": list(s.tokens),
             "avg_logprob": s.avg_logprob, "no_speech_prob": s.no_speech_prob,
             "compression_ratio": s.compression_ratio, "temperature": s.temperature}
        if s.words is not None:
            d["words"] = [{"start": w.start, "end": w.end, "word": w.word, "probability": w.probability}
                          for w in s.words]
        out["segments"].append(d)
    return out


def mark_fallback(r):
    """Which windows of a fallback run are reproducible goldens (T=0 with an all-T=0 history)."""
    # When every temperature fails, faster-whisper keeps the best-avg_logprob attempt (possibly the T=0 one) but
    # reports the last temperature; so "deterministic" means the chosen tokens are those of the T=0 attempt.
    clean = True
    for w in r["windows"]:
        w["chosen_is_t0_attempt"] = w["tokens"] == w["attempts"][0]["tokens"]
        w["golden"] = clean and w["chosen_is_t0_attempt"]
        w["golden_given_seek_and_prompt"] = w["chosen_is_t0_attempt"]
        clean = w["golden"]
    r["all_windows_t0"] = all(w["temperature"] == 0.0 for w in r["windows"])
    r["golden_windows"] = sum(w["golden"] for w in r["windows"])
    if not r["all_windows_t0"]:
        r["note"] = ("informational from the first window whose chosen tokens were sampled: sampling is random "
                     f"(ctranslate2.set_random_seed({SEED})) and later prompts/seeks depend on it")


# ---------------------------------------------------------------- openai-whisper run with capture

def oai_run(model, pcm, settings):
    import whisper
    tmod = importlib.import_module("whisper.transcribe")
    windows, seeks, lang = [], [], {}
    orig_pot, orig_decode, orig_detect = tmod.pad_or_trim, model.decode, model.detect_language

    def pot(x, length=3000, **kw):
        if isinstance(x, torch.Tensor) and x.dim() == 2 and x.shape[-1] <= 3000:
            seeks.append((int(x.storage_offset()), int(x.shape[-1])))
        return orig_pot(x, length, **kw)

    def decode(mel, options):
        res = orig_decode(mel, options)
        att = {"temperature": options.temperature, "beam_size": options.beam_size,
               "tokens": [int(t) for t in res.tokens], "avg_logprob": float(res.avg_logprob),
               "no_speech_prob": float(res.no_speech_prob), "compression_ratio": float(res.compression_ratio)}
        seek, size = seeks[-1]
        if windows and windows[-1]["seek"] == seek and windows[-1]["_n"] == len(seeks):
            windows[-1]["attempts"].append(att)
        else:
            windows.append({"seek": seek, "segment_size": size, "_n": len(seeks),
                            "prompt_history": [int(t) for t in (options.prompt or [])], "attempts": [att]})
        return res

    def detect(mel, tokenizer=None):
        toks, probs = orig_detect(mel, tokenizer)
        p = probs[0] if isinstance(probs, list) else probs
        top = max(p, key=p.get)
        lang.update(language=top, language_probability=float(p[top]))
        return toks, probs

    tmod.pad_or_trim, model.decode, model.detect_language = pot, decode, detect
    t0 = time.time()
    try:
        with torch.no_grad():
            r = whisper.transcribe(model, torch.from_numpy(pcm), **settings)
    finally:
        tmod.pad_or_trim = orig_pot
        del model.decode, model.detect_language
    for w in windows:
        del w["_n"]
        last = w["attempts"][-1]
        w.update(tokens=last["tokens"], temperature=last["temperature"], avg_logprob=last["avg_logprob"],
                 no_speech_prob=last["no_speech_prob"], compression_ratio=last["compression_ratio"])
    out = {"language": r["language"], "language_probability": lang.get("language_probability"),
           "text": r["text"], "seconds": round(time.time() - t0, 2), "segments": [], "windows": windows}
    for s in r["segments"]:
        d = {k: s[k] for k in ("id", "seek", "start", "end", "text", "tokens", "avg_logprob", "no_speech_prob",
                               "compression_ratio", "temperature")}
        d["tokens"] = [int(t) for t in d["tokens"]]
        if "words" in s:
            d["words"] = [{"start": w["start"], "end": w["end"], "word": w["word"],
                           "probability": float(w["probability"])} for w in s["words"]]
        out["segments"].append(d)
    return out


def compare(fw, oai):
    """Agreement summary between a faster-whisper and an openai-whisper run of one clip."""
    o_segs = [s for s in oai["segments"] if s["tokens"]]  # OAI keeps emptied segments, FW drops them
    res = {"language_equal": fw["language"] == oai["language"],
           "text_equal": fw["text"] == oai["text"],
           "n_segments": [len(fw["segments"]), len(o_segs)], "n_windows": [len(fw["windows"]), len(oai["windows"])]}
    # times compared to 1e-6: FW computes seek * 0.01 + k * 0.02, OAI seek * 160 / 16000 + k * 0.02 (last-ulp diffs)
    first, tdiff = None, 0.0
    for i, (a, b) in enumerate(zip(fw["segments"], o_segs)):
        d = max(abs(a["start"] - b["start"]), abs(a["end"] - b["end"]))
        if a["tokens"] != b["tokens"] or d > 1e-6 or a["seek"] != b["seek"]:
            first = i
            break
        tdiff = max(tdiff, d)
    res["segments_max_abs_time_diff"] = tdiff
    if first is None and len(fw["segments"]) != len(o_segs):
        first = min(len(fw["segments"]), len(o_segs))
    res["segments_identical"] = first is None
    res["first_differing_segment"] = first
    wfirst = None
    for i, (a, b) in enumerate(zip(fw["windows"], oai["windows"])):
        if a["seek"] != b["seek"] or a["tokens"] != b["tokens"]:
            wfirst = i
            break
    if wfirst is None and len(fw["windows"]) != len(oai["windows"]):
        wfirst = min(len(fw["windows"]), len(oai["windows"]))
    res["first_differing_window"] = wfirst
    if wfirst is not None and wfirst < min(len(fw["windows"]), len(oai["windows"])):
        a, b = fw["windows"][wfirst], oai["windows"][wfirst]
        k = next((j for j, (x, y) in enumerate(zip(a["tokens"], b["tokens"])) if x != y),
                 min(len(a["tokens"]), len(b["tokens"])))
        res["window_diff"] = {"seek": [a["seek"], b["seek"]], "first_token_index": k,
                              "fw_tokens_from": a["tokens"][k:k + 6], "oai_tokens_from": b["tokens"][k:k + 6]}
    if "words" in (fw["segments"][0] if fw["segments"] else {}) and res["segments_identical"]:
        fwords = [w for s in fw["segments"] for w in s["words"]]
        owords = [w for s in o_segs for w in s.get("words", [])]
        res["words_same_text"] = [w["word"] for w in fwords] == [w["word"] for w in owords]
        if res["words_same_text"] and fwords:
            res["words_max_abs_time_diff"] = max(max(abs(a["start"] - b["start"]), abs(a["end"] - b["end"]))
                                                 for a, b in zip(fwords, owords))
            res["words_max_abs_prob_diff"] = max(abs(a["probability"] - b["probability"])
                                                 for a, b in zip(fwords, owords))
    return res


# ---------------------------------------------------------------- tiny random model

def tiny_gaps_greedy(model, enc, prompt, tokens, task):
    """Teacher-forced filtered logits per sampled step: min top1-top2 gap, argmax agreement, and the
    smallest |logsumexp(timestamp logprobs) - max text logprob| margin of the timestamp rule."""
    from whisper.decoding import ApplyTimestampRules
    tb = 50364
    seq = list(prompt) + list(tokens)
    with torch.no_grad():
        logits = model.decoder(torch.tensor([seq]), enc)[0].float()
    eot = task.tokenizer.eot
    targets = list(tokens) + ([eot] if len(tokens) < task.sample_len else [])
    gaps, margins, agree = [], [], True
    for j, tgt in enumerate(targets):
        lg = logits[len(prompt) - 1 + j].clone()[None]
        prefix = torch.tensor([seq[:len(prompt) + j]])
        for f in task.logit_filters:
            if isinstance(f, ApplyTimestampRules):
                pre = lg.clone()
                f.apply(lg, prefix)
                # rebuild the logits the final "sum of timestamps" check saw: timestamp part as after the rule,
                # text part as before it with the rule's own text masks (first step / after a closing timestamp)
                s = seq[len(prompt):len(prompt) + j]
                chk = torch.cat([pre[0, :tb], lg[0, tb:]])
                chk[task.tokenizer.no_timestamps] = -np.inf
                if j == 0:
                    chk[:tb] = -np.inf
                elif s[-1] >= tb and (len(s) < 2 or s[-2] < tb) and len(s) >= 2:
                    chk[:eot] = -np.inf
                elif s[-1] >= tb and (len(s) < 2 or s[-2] >= tb):
                    chk[tb:] = -np.inf
                lp = torch.log_softmax(chk, -1)
                m = float(lp[tb:].logsumexp(-1) - lp[:tb].max())
                if np.isfinite(m):
                    margins.append(abs(m))
            else:
                f.apply(lg, prefix)
        top = torch.topk(lg[0], 2)
        if torch.isfinite(top.values[1]):
            gaps.append(float(top.values[0] - top.values[1]))
        agree &= int(top.indices[0]) == tgt
    return (min(gaps) if gaps else None), (min(margins) if margins else None), agree


def tiny_decode(model, mel, lang, beam_size):
    import whisper
    from whisper import decoding as wd
    opts = whisper.DecodingOptions(language=lang, task="transcribe", without_timestamps=False, fp16=False,
                                   temperature=0.0, beam_size=beam_size)
    info = {"beam_cut_gaps": [], "beam_order_gaps": [], "final": None}
    o_update, o_final = wd.BeamSearchDecoder.update, wd.BeamSearchDecoder.finalize

    def update(self, tokens, logits, sum_logprobs):
        lp = torch.log_softmax(logits.float(), -1)
        cand = {}
        for j in range(tokens.shape[0]):
            for v, t in zip(*lp[j].topk(self.beam_size + 1)):
                cand[tuple(tokens[j].tolist()) + (int(t),)] = float(sum_logprobs[j] + v)
        order = sorted(cand.values(), reverse=True)
        kept, cut = 0, len(order) - 1
        for i, seq in enumerate(sorted(cand, key=cand.get, reverse=True)):
            if seq[-1] != self.eot:
                kept += 1
                if kept == self.beam_size:
                    cut = i
                    break
        # the set of kept beams (and of finished EOT candidates) depends only on the gap at the cut
        if cut + 1 < len(order):
            info["beam_cut_gaps"].append(order[cut] - order[cut + 1])
        adj = [order[i] - order[i + 1] for i in range(min(cut + 1, len(order) - 1))]
        if adj:
            info["beam_order_gaps"].append(min(adj))
        return o_update(self, tokens, logits, sum_logprobs)

    def finalize(self, preceding, sum_logprobs):
        toks, lps = o_final(self, preceding, sum_logprobs)
        info["final"] = (toks, lps)
        return toks, lps

    wd.BeamSearchDecoder.update, wd.BeamSearchDecoder.finalize = update, finalize
    try:
        with torch.no_grad():
            r = whisper.decode(model, mel, opts)
    finally:
        wd.BeamSearchDecoder.update, wd.BeamSearchDecoder.finalize = o_update, o_final
    task = wd.DecodingTask(model, opts)
    out = {"beam_size": beam_size, "language": r.language, "prompt": list(task.initial_tokens),
           "tokens": [int(t) for t in r.tokens], "text": r.text, "avg_logprob": r.avg_logprob,
           "no_speech_prob": r.no_speech_prob, "sum_logprob": r.avg_logprob * (len(r.tokens) + 1),
           "stopped_on_eot": len(r.tokens) < task.sample_len, "sample_len": task.sample_len,
           "n_timestamp_tokens": sum(1 for t in r.tokens if t >= 50364)}
    with torch.no_grad():
        enc = model.encoder(mel[None])
    if beam_size is None:
        gap, margin, agree = tiny_gaps_greedy(model, enc, out["prompt"], out["tokens"], task)
        out.update(min_top2_gap=gap, min_timestamp_rule_margin=margin, teacher_forced_argmax_agrees=agree)
    else:
        toks, lps = info["final"]
        sb = len(out["prompt"])
        scores = []
        for t, lp in zip(toks[0], lps[0]):
            t = t.tolist()[sb:]
            n = t.index(50257) if 50257 in t else len(t)
            scores.append(lp / n)
        scores.sort(reverse=True)
        cuts = info["beam_cut_gaps"]
        robust = next((i for i, g in enumerate(cuts) if g < 1e-3), len(cuts))
        out.update(beam_cut_gap_per_step=[round(g, 6) for g in cuts],
                   steps_before_first_cut_gap_below_1e3=robust,
                   min_beam_cut_gap=min(cuts) if cuts else None,
                   min_beam_order_gap=min(info["beam_order_gaps"]) if info["beam_order_gaps"] else None,
                   n_finished_candidates=len(scores),
                   final_rank_gap=(scores[0] - scores[1]) if len(scores) > 1 else None)
    return out


def tiny_random(shared):
    import make_golden
    import tiny_model
    model = tiny_model.oai_model(tiny_model.init_weights(make_golden.SEED)).float().eval()
    clips = {}
    for name, rel, lang, pcm, meta in make_golden.load_clips(shared):
        mel = make_golden.mel_of(pcm)
        clips[name] = {"source": rel, "language": lang,
                       "greedy_ts": tiny_decode(model, mel, lang, None),
                       "beam5_ts": tiny_decode(model, mel, lang, 5)}
        g, b = clips[name]["greedy_ts"], clips[name]["beam5_ts"]
        print(f"tiny {name}: greedy {len(g['tokens'])} tok ({g['n_timestamp_tokens']} ts) gap {g['min_top2_gap']:.4f} "
              f"ts-margin {g['min_timestamp_rule_margin']} | beam {len(b['tokens'])} tok gap "
              f"cut {b['min_beam_cut_gap']} order {b['min_beam_order_gap']} rank-gap {b['final_rank_gap']}", flush=True)
    gaps = [c["greedy_ts"]["min_top2_gap"] for c in clips.values()]
    margins = [c["greedy_ts"]["min_timestamp_rule_margin"] for c in clips.values()
               if c["greedy_ts"]["min_timestamp_rule_margin"] is not None]
    return {"generator": "tests/reference/make_decoding_goldens.py --tiny-only",
            "model": "tests/fixtures/tiny-random (seed 3)",
            "mel": "whisper.log_mel_spectrogram(whisper.pad_or_trim(pcm)) (as golden/golden.json)",
            "decode_options": "whisper.DecodingOptions(language=<true language>, task='transcribe', "
                              "without_timestamps=False, fp16=False, temperature=0.0, beam_size=None|5) "
                              "(patience 1, length_penalty None, max_initial_timestamp 1.0, sample_len 224)",
            "min_top2_gap_greedy": min(gaps), "min_timestamp_rule_margin_greedy": min(margins) if margins else None,
            "clips": clips}


# ---------------------------------------------------------------- main

def versions():
    import ctranslate2
    import faster_whisper
    import whisper
    return dict(refaudio.versions(), faster_whisper=faster_whisper.__version__, ctranslate2=ctranslate2.__version__,
                openai_whisper=whisper.__version__, torch=torch.__version__, numpy=np.__version__)


def real_base(ct2_dir, shared, threads, out_dir, only):
    import ctranslate2
    from faster_whisper import WhisperModel
    fw = WhisperModel(ct2_dir, device="cpu", compute_type="float32", cpu_threads=threads)
    oai, dims, heads = oai_from_ct2(ct2_dir)
    inputs = [(rel, *refaudio.load_16k(os.path.join(shared, "data", rel))) for rel in CLIPS if rel in only]
    if LONG in only:
        long_pcm, recipe = make_long_audio.load(os.path.join(out_dir, "long_mix.json"), shared)
        inputs.append((LONG, long_pcm, {"recipe": "long_mix.json", "n_samples_16k": len(long_pcm),
                                        "sha256_f32le": recipe["sha256_f32le"]}))
    # sanity: the converted OAI model computes what CT2 computes on one mel
    mel = fw.feature_extractor(inputs[0][1])[:, :3000]
    mel = np.pad(mel, ((0, 0), (0, 3000 - mel.shape[1])))
    with torch.no_grad():
        e_oai = oai.encoder(torch.from_numpy(mel[None].astype(np.float32)))[0].numpy()
    e_ct2 = np.array(fw.encode(mel))[0]
    enc_diff = float(np.max(np.abs(e_oai - e_ct2)))
    print(f"encoder max abs diff OAI(converted) vs CT2: {enc_diff:.3e}", flush=True)
    res = {"generator": "tests/reference/make_decoding_goldens.py",
           "model_dir": os.path.basename(ct2_dir.rstrip("/")), "compute_type": "float32", "cpu_threads": threads,
           "oai_conversion": {"dims": dims.__dict__, "alignment_heads": heads,
                              "encoder_max_abs_diff_vs_ct2": enc_diff},
           "fw_settings": FW_CONFIGS, "oai_settings": OAI_CONFIGS, "fallback_seed": SEED,
           "versions": versions(), "clips": {}}
    timings = {}
    for rel, pcm, meta in inputs:
        c = {"audio": meta, "faster_whisper": {}, "openai_whisper": {}, "agreement": {}}
        for cfg, st in FW_CONFIGS.items():
            if cfg == "fallback":
                ctranslate2.set_random_seed(SEED)
            r = fw_run(fw, pcm, st)
            if cfg == "fallback":
                mark_fallback(r)
                if r["all_windows_t0"]:  # identical to greedy_ts by construction: keep a reference only
                    same = r["segments"] == c["faster_whisper"]["greedy_ts"]["segments"]
                    r = {"all_windows_t0": True, "identical_to_greedy_ts": same,
                         "windows_attempts": [w["attempts"] for w in r["windows"]], "seconds": r["seconds"]}
            c["faster_whisper"][cfg] = r
            timings[f"fw {cfg}"] = timings.get(f"fw {cfg}", 0) + r["seconds"]
        for cfg, st in OAI_CONFIGS.items():
            r = oai_run(oai, pcm, st)
            c["openai_whisper"][cfg] = r
            c["agreement"][cfg] = compare(c["faster_whisper"][cfg], r)
            timings[f"oai {cfg}"] = timings.get(f"oai {cfg}", 0) + r["seconds"]
        g = c["faster_whisper"]["greedy_ts"]
        print(f"{rel}: {g['language']} {g['language_probability']:.3f} {len(g['segments'])} segs | "
              + " ".join(f"{k}:{'=' if v['segments_identical'] else 'x'}" for k, v in c["agreement"].items())
              + f" | fallback t0-only {c['faster_whisper']['fallback']['all_windows_t0']}", flush=True)
        res["clips"][rel] = c
    res["timings_seconds"] = {k: round(v, 1) for k, v in timings.items()}
    return res


def dump(obj, path):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=None, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    print(f"{path}: {os.path.getsize(path)} bytes")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("ct2_dir", nargs="?")
    ap.add_argument("--shared", required=True)
    ap.add_argument("--out", default="tests/fixtures/decoding")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--tiny-only", action="store_true")
    ap.add_argument("--real-only", action="store_true")
    ap.add_argument("--only", help="comma-separated inputs (debugging; the committed file uses all)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    os.makedirs(a.out, exist_ok=True)
    if not a.real_only:
        t0 = time.time()
        tr = tiny_random(a.shared)
        tr["versions"] = versions()
        tr["seconds"] = round(time.time() - t0, 1)
        dump(tr, os.path.join(a.out, "tiny_random.json"))
        if a.tiny_only:
            return
    if not a.tiny_only:
        if not a.ct2_dir:
            sys.exit("ct2_dir is required (or --tiny-only)")
        only = a.only.split(",") if a.only else CLIPS + [LONG]
        dump(real_base(a.ct2_dir, a.shared, a.threads, a.out, only), os.path.join(a.out, "real_base.json"))


if __name__ == "__main__":
    main()
