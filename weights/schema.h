/*
 * schema.h - what a Whisper model inside a .uzw file must hold: the dimension set, the canonical
 * tensor names with the shape each must have, and the metadata keys. Loader and converters share it.
 *
 * Dimension letters used in shape comments across the code base:
 *   M = n_mels, A = n_audio_ctx (1500), D = n_state (n_audio_state == n_text_state), H = heads,
 *   Dh = D/H, F = 4D, T = n_text_ctx (448), V = n_vocab, L = layers, N = tokens in flight.
 */
#ifndef UZW_SCHEMA_H
#define UZW_SCHEMA_H

#include <stdint.h>
#include "wformat.h"

typedef struct {
    int32_t n_mels, n_audio_ctx, n_audio_state, n_audio_head, n_audio_layer;
    int32_t n_text_ctx, n_text_state, n_text_head, n_text_layer, n_vocab;
} uzw_dims;

/* Metadata keys for the ten dimensions, in the uzw_dims field order. */
extern const char *const uzw_dims_keys[10];
int32_t *uzw_dims_field(uzw_dims *d, int i);

/* Check the dimensions are a sane Whisper shape (positive, heads divide state, A*2 mel frames,
 * equal audio/text state, vocab large enough for the specials). 0 or -1 with a message. */
int uzw_dims_validate(const uzw_dims *d, char *err, size_t err_size);

/* Canonical tensors. Per encoder layer i (15):
 *   enc.{i}.attn_ln.{weight,bias} [D]   enc.{i}.attn.q.{weight [D,D], bias [D]}   enc.{i}.attn.k.weight [D,D]
 *   enc.{i}.attn.v.{weight,bias}         enc.{i}.attn.o.{weight,bias}
 *   enc.{i}.mlp_ln.{weight,bias} [D]     enc.{i}.fc1.{weight [F,D], bias [F]}  enc.{i}.fc2.{weight [D,F], bias [D]}
 * Encoder top (7): enc.conv1.weight [D,M,3], enc.conv1.bias [D], enc.conv2.weight [D,D,3], enc.conv2.bias [D],
 *   enc.pos [A,D], enc.ln_post.{weight,bias} [D]
 * Per decoder layer i (24): dec.{i}.attn_ln, dec.{i}.attn.{q,k,v,o} (as encoder), dec.{i}.xattn_ln,
 *   dec.{i}.xattn.{q,k,v,o} (cross-attention), dec.{i}.mlp_ln, dec.{i}.fc1, dec.{i}.fc2
 * Decoder top (4): dec.tok_emb [V,D] (also the output projection), dec.pos [T,D], dec.ln.{weight,bias} [D]
 */
int uzw_schema_count(const uzw_dims *d);
/* Name and expected shape of canonical tensor idx (0 <= idx < count). */
void uzw_schema_get(const uzw_dims *d, int idx, char name[UZW_MAX_NAME], int *n_dims, int64_t dims[UZW_MAX_DIMS]);
/* Expected shape of a canonical name; 0 found, -1 not a canonical name. */
int uzw_schema_shape(const uzw_dims *d, const char *name, int *n_dims, int64_t dims[UZW_MAX_DIMS]);
/* 1 if the tensor may be stored as int8 (section 8.3 of docs/weight-format.md): every linear
 * layer's weight and dec.tok_emb; convolutions, norms, biases and positions stay float. */
int uzw_schema_quantisable(const char *name);

/* Metadata keys (see docs/weight-format.md). */
#define UZW_K_ARCH "arch"                      /* str "whisper" */
#define UZW_K_TOK_EOT "token.eot"              /* i32 ... specials, all derived from the vocabulary */
#define UZW_K_TOK_SOT "token.sot"
#define UZW_K_TOK_FIRST_LANG "token.first_lang"
#define UZW_K_TOK_TRANSLATE "token.translate"
#define UZW_K_TOK_TRANSCRIBE "token.transcribe"
#define UZW_K_TOK_SOT_LM "token.sot_lm"
#define UZW_K_TOK_SOT_PREV "token.sot_prev"
#define UZW_K_TOK_NO_SPEECH "token.no_speech"
#define UZW_K_TOK_NO_TIMESTAMPS "token.no_timestamps"
#define UZW_K_TOK_TS_BEGIN "token.timestamp_begin"
#define UZW_K_LANG_CODES "lang.codes"          /* bytes_arr: language codes in token order */
#define UZW_K_VOCAB "tokenizer.vocab"          /* bytes_arr: raw bytes of every BPE token, id order (ids < eot) */
#define UZW_K_MERGES "tokenizer.merges"        /* i32_arr: (left id, right id) pairs in priority order */
#define UZW_K_MEL_FILTERS "mel.filters"        /* f32_arr: [M, 201] Slaney filterbank */
#define UZW_K_SUPPRESS "suppress.tokens"       /* i32_arr */
#define UZW_K_SUPPRESS_BEGIN "suppress.begin"  /* i32_arr */
#define UZW_K_ALIGN_HEADS "align.heads"        /* i32_arr: (layer, head) pairs */
#define UZW_K_MODEL_TYPE "model.type"          /* str: tiny, base, ..., large-v3, turbo, custom */
#define UZW_K_DTYPE "model.dtype"              /* str: f32 / f16 / bf16 / mixed */
#define UZW_K_SRC_FORMAT "source.format"       /* str: hf-safetensors, ct2, ggml */
#define UZW_K_SRC_SHA256 "source.sha256"       /* str: hex sha256 of the source weight file(s) */
#define UZW_K_SRC_FILES "source.files"         /* str: the source files, comma-separated */
#define UZW_K_SRC_ADAPTERS "source.adapters"   /* str, optional: LoRA adapters merged in, "name:sha256", comma-separated */
#define UZW_K_CONVERTER "converter"            /* str: "uzwhisper <version>" */
#define UZW_K_QUANT_SCHEME "quant.scheme"      /* str: w8a16 / w8a8 (int8 files only) */
#define UZW_K_QUANT_KEPT "quant.kept"          /* str: the matrices kept in f16, comma-separated */
#define UZW_K_QUANT_SOURCE "quant.source"      /* str: model.dtype of the file that was quantised */

#define UZW_N_FFT 400
#define UZW_HOP 160
#define UZW_SAMPLE_RATE 16000
#define UZW_N_FREQ 201      /* n_fft/2 + 1 */
#define UZW_CHUNK_SAMPLES 480000
#define UZW_CHUNK_FRAMES 3000

#endif
