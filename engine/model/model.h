/*
 * model.h - the loaded Whisper model: dimensions, weights bound by name to f32 pointers, the
 * tokenizer, special ids, language table, suppress lists and mel filterbank.
 *
 * Weights stored as f32 or int8 are used in place from the read-only mapping (zero copy). Weights
 * stored as f16/bf16 are widened once at load into one f32 arena (the CPU computes in f32); int8
 * matrices the W8A8 scheme multiplies with int8 activations also get their SIMD panels, built at
 * load into one more arena.
 */
#ifndef UZW_MODEL_H
#define UZW_MODEL_H

#include <stdint.h>

#include "uzwhisper.h"
#include "schema.h"
#include "wformat.h"
#include "tokenizer/tokenizer.h"
#include "model/qmat.h"

#define UZW_MAX_LANGUAGES 100

/* quant.scheme of an int8 file (docs/quantization.md) */
enum { UZW_QUANT_NONE = 0, UZW_QUANT_W8A16 = 1, UZW_QUANT_W8A8 = 2 };

typedef struct {
    const float *attn_ln_w, *attn_ln_b;                      /* [D]                  */
    uzw_wmat q_w, k_w, v_w, o_w;                             /* [D,D]                */
    const float *q_b, *v_b, *o_b;                            /* [D]                  */
    const float *xattn_ln_w, *xattn_ln_b;                    /* decoder only: [D]    */
    uzw_wmat xq_w, xk_w, xv_w, xo_w;                         /* decoder only: [D,D]  */
    const float *xq_b, *xv_b, *xo_b;                         /* decoder only: [D]    */
    const float *mlp_ln_w, *mlp_ln_b;                        /* [D]                  */
    uzw_wmat fc1_w;                                          /* [F,D]                */
    const float *fc1_b;                                      /* [F]                  */
    uzw_wmat fc2_w;                                          /* [D,F]                */
    const float *fc2_b;                                      /* [D]                  */
} uzw_layer;

typedef struct {
    int eot, sot, first_lang, n_languages;
    int translate, transcribe, sot_lm, sot_prev, no_speech, no_timestamps, timestamp_begin;
} uzw_specials;

struct uzw_model {
    uzw_wfile wf;
    uzw_dims dims;
    uzw_model_params params;

    /* encoder */
    const float *conv1_w, *conv1_b; /* [D,M,3], [D] */
    const float *conv2_w, *conv2_b; /* [D,D,3], [D] */
    const float *enc_pos;           /* [A,D]        */
    const float *ln_post_w, *ln_post_b;
    uzw_layer *enc;                 /* [La]         */
    /* decoder */
    uzw_wmat tok_emb;               /* [V,D], also the output projection */
    const float *dec_pos;           /* [T,D]        */
    const float *dec_ln_w, *dec_ln_b;
    uzw_layer *dec;                 /* [Lt]         */

    float *arena;                   /* widened copies of f16/bf16 tensors (one allocation) */
    size_t arena_floats;
    float *merged[16];              /* weights rewritten by merged adapters (one allocation each) */
    size_t merged_floats[16];
    int n_merged;
    char adapters_merged[256];      /* their names, comma-separated */
    void *qarena;                   /* W8A8 panels and row sums of int8 matrices (one allocation) */
    size_t qarena_bytes;
    int quant;                      /* 0: float; UZW_QUANT_W8A16 or UZW_QUANT_W8A8 */
    uzw_cpu_isa isa;                /* the CPU path int8 products take */

    uzw_tokenizer *tok;
    const uint8_t **vocab;          /* [n_bpe] pointers into the mapping */
    uint32_t *vocab_len;
    int n_bpe;
    uzw_specials sp;
    char lang_codes[UZW_MAX_LANGUAGES][8];

    int32_t *suppress; int n_suppress;
    int32_t *suppress_begin; int n_suppress_begin;
    int32_t *align_heads; int n_align_heads; /* pairs */
    float *mel_filters;             /* [M,201] */

    char type[32], dtype[16], source_format[32], source_sha256[65];
};

/* The binding of canonical tensor `name` (schema.h): *vec for a vector/conv/table slot or *mat for a
 * weight matrix (the other NULL). 0, or -1 for a name this model does not have. */
int uzw_model_slot(uzw_model *m, const char *name, const float ***vec, uzw_wmat **mat);

/* Language code -> index in the model's table, or -1. Accepts OAI names ("uzbek", "russian"). */
int uzw_model_language_index(const uzw_model *m, const char *code);

#endif
