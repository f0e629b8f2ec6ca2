"""tiny_model.py - the seeded random Whisper-architecture test model: its dimensions, its weights
(every weight rounded to float16 and back; the encoder sinusoid table exact float32) and its HF files
(config.json, generation_config.json, model.safetensors, tokenizer files)."""
import json
import math
import os

import numpy as np
import torch
from safetensors.torch import save_file

import hf_tokenizer_files
import oai_names

DIMS = dict(n_mels=80, n_audio_ctx=1500, n_audio_state=32, n_audio_head=2, n_audio_layer=2,
            n_vocab=51865, n_text_ctx=448, n_text_state=32, n_text_head=2, n_text_layer=2)
# Init scales (std of a normal draw). Linear/conv weights use 1/sqrt(fan_in). The token embedding is
# large so that the tied output projection gives logits with a real spread (std ~ sqrt(D)).
TOKEN_EMB_STD = 1.0
DEC_POS_STD = 3.0
# Attention output and fc2 weights are RESID_SCALE/sqrt(fan_in) so the blocks (and with them the audio
# through cross-attention) outweigh the input token embedding; otherwise a tied random embedding makes
# greedy decoding repeat its input token forever.
RESID_SCALE = 3.0
BIAS_STD = 0.1
LN_STD = 0.1


def sinusoids(length, channels):
    """Whisper's encoder table [length, channels]: [sin | cos], inv_timescale exp(-i ln(1e4)/(half-1)).
    Computed in float64 and rounded once to float32."""
    half = channels // 2
    inv = np.exp(-math.log(10000.0) / (half - 1) * np.arange(half, dtype=np.float64))
    t = np.arange(length, dtype=np.float64)[:, None] * inv[None, :]
    return np.concatenate([np.sin(t), np.cos(t)], axis=1).astype(np.float32)


def hf_config_dict():
    d = DIMS
    return dict(vocab_size=d["n_vocab"], num_mel_bins=d["n_mels"], d_model=d["n_audio_state"],
                encoder_layers=d["n_audio_layer"], encoder_attention_heads=d["n_audio_head"],
                decoder_layers=d["n_text_layer"], decoder_attention_heads=d["n_text_head"],
                encoder_ffn_dim=4 * d["n_audio_state"], decoder_ffn_dim=4 * d["n_text_state"],
                max_source_positions=d["n_audio_ctx"], max_target_positions=d["n_text_ctx"],
                bos_token_id=50257, eos_token_id=50257, pad_token_id=50257, decoder_start_token_id=50258,
                activation_function="gelu", scale_embedding=False, tie_word_embeddings=True,
                median_filter_width=7, use_cache=True)


def init_weights(seed):
    """HF name -> float32 tensor. Deterministic for a seed (torch CPU generator, names in sorted order)."""
    from transformers import WhisperConfig, WhisperForConditionalGeneration
    shapes = {k: tuple(v.shape) for k, v in
              WhisperForConditionalGeneration(WhisperConfig(**hf_config_dict())).state_dict().items()}
    g = torch.Generator().manual_seed(seed)
    out = {}
    for name in sorted(shapes):
        if name == "proj_out.weight":
            continue
        shp = shapes[name]
        if name == "model.encoder.embed_positions.weight":
            out[name] = torch.from_numpy(sinusoids(*shp))
            continue
        if name == "model.decoder.embed_tokens.weight":
            std, mean = TOKEN_EMB_STD, 0.0
        elif name == "model.decoder.embed_positions.weight":
            std, mean = DEC_POS_STD, 0.0
        elif "layer_norm" in name:
            std, mean = LN_STD, (1.0 if name.endswith(".weight") else 0.0)
        elif name.endswith(".bias"):
            std, mean = BIAS_STD, 0.0
        else:
            fan_in = int(np.prod(shp[1:]))
            gain = RESID_SCALE if ("out_proj" in name or "fc2" in name) else 1.0
            std, mean = gain / math.sqrt(fan_in), 0.0
        w = torch.randn(shp, generator=g, dtype=torch.float32) * std + mean
        out[name] = w.to(torch.float16).to(torch.float32)
    return out


def oai_model(weights):
    import whisper
    d = DIMS
    m = whisper.model.Whisper(whisper.model.ModelDimensions(
        d["n_mels"], d["n_audio_ctx"], d["n_audio_state"], d["n_audio_head"], d["n_audio_layer"],
        d["n_vocab"], d["n_text_ctx"], d["n_text_state"], d["n_text_head"], d["n_text_layer"]))
    m.load_state_dict(oai_names.hf_state_to_oai(weights), strict=True)
    return m.eval()


def suppress_tokens():
    """OAI's default suppress set (suppress_tokens='-1'): non-speech tokens + the task/control specials."""
    import whisper.tokenizer as wt
    tok = wt.get_tokenizer(True, num_languages=99)
    s = set(tok.non_speech_tokens) | {tok.transcribe, tok.translate, tok.sot, tok.sot_prev, tok.sot_lm,
                                      tok.no_speech}
    return sorted(s)


def generation_config():
    import whisper.tokenizer as wt
    langs = list(wt.LANGUAGES)[:99]
    n_layer, n_head = DIMS["n_text_layer"], DIMS["n_text_head"]
    return {
        "alignment_heads": [[layer, h] for layer in range(n_layer // 2, n_layer) for h in range(n_head)],
        "begin_suppress_tokens": [220, 50257],
        "bos_token_id": 50257,
        "decoder_start_token_id": 50258,
        "eos_token_id": 50257,
        "is_multilingual": True,
        "lang_to_id": {f"<|{c}|>": 50259 + i for i, c in enumerate(langs)},
        "max_initial_timestamp_index": 50,
        "max_length": 448,
        "no_timestamps_token_id": 50363,
        "pad_token_id": 50257,
        "prev_sot_token_id": 50361,
        "return_timestamps": False,
        "suppress_tokens": suppress_tokens(),
        "task_to_id": {"translate": 50358, "transcribe": 50359},
    }


def save_hf(weights, out_dir, tiktoken_path):
    import whisper.tokenizer as wt
    os.makedirs(out_dir, exist_ok=True)
    tensors = {}
    for k, v in weights.items():
        keep32 = k == "model.encoder.embed_positions.weight"
        tensors[k] = v.contiguous() if keep32 else v.to(torch.float16).contiguous()
    save_file(tensors, os.path.join(out_dir, "model.safetensors"), metadata={"format": "pt"})
    cfg = hf_config_dict()
    cfg.update({"architectures": ["WhisperForConditionalGeneration"], "model_type": "whisper",
                "is_encoder_decoder": True, "torch_dtype": "float16",
                "suppress_tokens": suppress_tokens(), "begin_suppress_tokens": [220, 50257],
                "num_hidden_layers": DIMS["n_audio_layer"], "max_length": 448,
                "dropout": 0.0, "attention_dropout": 0.0, "activation_dropout": 0.0,
                "init_std": 0.02, "apply_spec_augment": False})
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
        f.write("\n")
    with open(os.path.join(out_dir, "generation_config.json"), "w") as f:
        json.dump(generation_config(), f, indent=2, sort_keys=True)
        f.write("\n")
    return hf_tokenizer_files.write_tokenizer_files(tiktoken_path, list(wt.LANGUAGES)[:99], out_dir)
