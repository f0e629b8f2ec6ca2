"""golden_xcheck.py - cross-check the openai-whisper goldens of the tiny-random model against HF
transformers (same HF folder) and CTranslate2 through faster-whisper (the float16 CT2 copy, run with
compute_type float32). Everything measured is returned as a dict for golden.json."""
import numpy as np
import torch

SOT, EOT = 50258, 50257


def versions():
    import ctranslate2
    import faster_whisper
    import transformers
    import whisper

    import refaudio
    v = {"torch": torch.__version__, "transformers": transformers.__version__,
         "ctranslate2": ctranslate2.__version__, "faster_whisper": faster_whisper.__version__,
         "openai_whisper": whisper.__version__, "numpy": np.__version__}
    v.update(refaudio.versions())
    return v


def _strip(seq, prompt):
    seq = [int(t) for t in seq]
    if seq[:len(prompt)] == list(prompt):
        seq = seq[len(prompt):]
    if EOT in seq:
        seq = seq[:seq.index(EOT)]
    return seq


class CrossCheck:
    def __init__(self, hf_dir, fw_dir, weights):
        from faster_whisper import WhisperModel
        from transformers import WhisperForConditionalGeneration
        self.hf = WhisperForConditionalGeneration.from_pretrained(hf_dir, dtype=torch.float32).eval()
        sd = self.hf.state_dict()
        self.hf_weight_max_diff = max(float((sd[k].float() - v).abs().max()) for k, v in weights.items())
        self.hf_tied = bool(torch.equal(sd["proj_out.weight"], sd["model.decoder.embed_tokens.weight"]))
        self.fw = WhisperModel(fw_dir, device="cpu", compute_type="float32", cpu_threads=2)

    def _hf(self, mel, r, max_new):
        out = {"weights_max_abs_diff": self.hf_weight_max_diff, "proj_out_tied": self.hf_tied}
        feats = mel[None]
        with torch.no_grad():
            enc = self.hf.model.encoder(feats).last_hidden_state[0]
            out["encoder_max_abs_diff"] = float((enc - r["enc"]).abs().max())
            lg = self.hf(input_features=feats, decoder_input_ids=torch.tensor([r["prompt"]])).logits[0, -1]
            out["prompt_logits_max_abs_diff"] = float((lg - r["logits"]).abs().max())
            lang_tok = int(self.hf.detect_language(input_features=feats)[0])
            out["detect_language_token"] = lang_tok
            for key, g in r["greedy"].items():
                seq = self.hf.generate(input_features=feats, language=g["language_arg"], task="transcribe",
                                       return_timestamps=False, do_sample=False, num_beams=1,
                                       max_new_tokens=max_new)[0].tolist()
                toks = _strip(seq, g["prompt"])
                out[f"greedy_{key}"] = {"tokens_equal": toks == g["tokens"], "n_tokens": len(toks),
                                        "first_mismatch": _first_mismatch(toks, g["tokens"])}
        return out

    def _ct2(self, pcm, mel, r, max_new, supp):
        import ctranslate2
        m = self.fw.model
        out = {}
        sv = ctranslate2.StorageView.from_array(np.ascontiguousarray(mel[None].numpy()))
        enc_sv = m.encode(sv, to_cpu=True)
        enc = torch.from_numpy(np.array(enc_sv))[0]
        out["encoder_max_abs_diff"] = float((enc - r["enc"]).abs().max())
        det = m.detect_language(enc_sv)[0]
        out["language_top5"] = [(t[2:-2], float(p)) for t, p in det[:5]]
        for key, g in r["greedy"].items():
            # CT2 generates at most min(max_length // 2, max_length - (len(prompt) - 1)) tokens
            # (src/models/whisper.cc), so max_length = 2 * 224 = 448 gives OAI's sample_len 224.
            res = m.generate(enc_sv, [g["prompt"]], beam_size=1, max_length=2 * max_new,
                             suppress_blank=True, suppress_tokens=list(supp), return_scores=True)[0]
            toks = _strip(res.sequences_ids[0], g["prompt"])
            out[f"greedy_{key}"] = {"tokens_equal": toks == g["tokens"], "n_tokens": len(toks),
                                    "first_mismatch": _first_mismatch(toks, g["tokens"])}
        # faster-whisper's own transcribe() on the same pcm (default max_length 448, so at most 224 tokens):
        # it builds its mel differently (waveform + 160 zero samples, then the window is padded with 0.0 in
        # the log-mel domain, not by zero audio), so its tokens are informative only.
        for key, g in r["greedy"].items():
            segs, info = self.fw.transcribe(pcm, language=g["language_arg"], task="transcribe", beam_size=1,
                                            best_of=1, temperature=0.0, without_timestamps=True,
                                            condition_on_previous_text=False, vad_filter=False)
            toks = [t for s in segs for t in s.tokens]
            out[f"transcribe_{key}"] = {"language": info.language, "tokens_equal": toks == g["tokens"],
                                        "n_tokens": len(toks), "first_mismatch": _first_mismatch(toks, g["tokens"])}
        return out

    def check(self, pcm, r, max_new, supp):
        return {"hf": self._hf(r["mel"], r, max_new), "ct2_faster_whisper": self._ct2(pcm, r["mel"], r, max_new, supp)}


def _first_mismatch(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return None if len(a) == len(b) else min(len(a), len(b))
