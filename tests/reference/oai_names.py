"""oai_names.py - map HF WhisperForConditionalGeneration state-dict names to OpenAI whisper names
(the names openai-whisper's model.py and whisper.cpp's ggml files use). Written from the table in
whisper-facts.md section 6.3; the inverse of transformers' WHISPER_MAPPING."""
import re

_LAYER_PARTS = [
    ("self_attn.q_proj", "attn.query"), ("self_attn.k_proj", "attn.key"), ("self_attn.v_proj", "attn.value"),
    ("self_attn.out_proj", "attn.out"), ("self_attn_layer_norm", "attn_ln"),
    ("encoder_attn.q_proj", "cross_attn.query"), ("encoder_attn.k_proj", "cross_attn.key"),
    ("encoder_attn.v_proj", "cross_attn.value"), ("encoder_attn.out_proj", "cross_attn.out"),
    ("encoder_attn_layer_norm", "cross_attn_ln"),
    ("fc1", "mlp.0"), ("fc2", "mlp.2"), ("final_layer_norm", "mlp_ln"),
]
_TOP = {
    "model.encoder.conv1.weight": "encoder.conv1.weight", "model.encoder.conv1.bias": "encoder.conv1.bias",
    "model.encoder.conv2.weight": "encoder.conv2.weight", "model.encoder.conv2.bias": "encoder.conv2.bias",
    "model.encoder.embed_positions.weight": "encoder.positional_embedding",
    "model.encoder.layer_norm.weight": "encoder.ln_post.weight", "model.encoder.layer_norm.bias": "encoder.ln_post.bias",
    "model.decoder.embed_tokens.weight": "decoder.token_embedding.weight",
    "model.decoder.embed_positions.weight": "decoder.positional_embedding",
    "model.decoder.layer_norm.weight": "decoder.ln.weight", "model.decoder.layer_norm.bias": "decoder.ln.bias",
}
_LAYER_RE = re.compile(r"^model\.(encoder|decoder)\.layers\.(\d+)\.(.+)\.(weight|bias)$")


def hf_to_oai(name):
    """OAI name for an HF name; None for proj_out.weight (tied to the token embedding)."""
    if name == "proj_out.weight":
        return None
    if name in _TOP:
        return _TOP[name]
    m = _LAYER_RE.match(name)
    if not m:
        raise KeyError(f"unknown HF Whisper tensor name: {name}")
    side, idx, part, kind = m.groups()
    for hf, oai in _LAYER_PARTS:
        if part == hf:
            return f"{side}.blocks.{idx}.{oai}.{kind}"
    raise KeyError(f"unknown HF Whisper layer tensor: {name}")


def hf_state_to_oai(state):
    out = {}
    for k, v in state.items():
        o = hf_to_oai(k)
        if o is not None:
            out[o] = v
    return out
