/* gpu_decoder.c - the Whisper decoder on the device, the same steps as engine/model/decoder.c:
 * token + position embeddings into an fp32 residual stream, pre-LN blocks with causal
 * self-attention over an fp16 KV cache of physical slots and cross-attention over the window's
 * keys/values, the final LayerNorm, logits through the tied token embedding. Every product with
 * a weight matrix goes through uzw_gpu_matmul (fp16 or INT8 weights).
 *
 * Two entry points: a prompt of n tokens of one sequence (host-driven; flash attention over the
 * slot), and one token for each of B sequences whose tokens/positions/slots are read from device
 * memory (graph-safe; decode attention over each sequence's own cache length). */
#ifdef UZW_HAVE_CUDA

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/gpu.h"
#include "gpu/gpu_attn.h"
#include "k_step.h"

#define TRY(x)                                                                                                   \
    do {                                                                                                         \
        if ((x) != 0) return -1;                                                                                 \
    } while (0)

static int32_t *ib(const uzw_gpu_state *s, int region) { return uzw_gpu_ibuf(s, region); }

static uzwk_f16 *self_k(const uzw_gpu_state *s, int l) {
    const uzw_dims *d = &s->g->dims;
    return s->self_k + (size_t)l * s->n_seq_max * d->n_text_ctx * d->n_text_state;
}
static uzwk_f16 *self_v(const uzw_gpu_state *s, int l) {
    const uzw_dims *d = &s->g->dims;
    return s->self_v + (size_t)l * s->n_seq_max * d->n_text_ctx * d->n_text_state;
}
static uzwk_f16 *cross(const uzw_gpu_state *s, int l) {
    const uzw_dims *d = &s->g->dims;
    return s->cross_kv + (size_t)l * d->n_audio_ctx * 2 * d->n_text_state;
}

/* x[n, D] f32 = token embedding + position of each row, from the fp16 or the INT8 table (the
 * INT8 rows dequantised on the fly: q * scale[token], as uzw_wmat_row does on the CPU). */
static int embed(uzw_gpu_state *s, const int32_t *tokens, const int32_t *positions, int n) {
    const uzw_gpu_model *g = s->g;
    int D = g->dims.n_text_state;
    if (g->tok_emb.q)
        return uzwk_embed_i8(s->c, tokens, positions, g->tok_emb.q, g->tok_emb.s, g->dec_pos, s->x, n, D);
    return uzwk_embed(s->c, tokens, positions, g->tok_emb.h, g->dec_pos, s->x, n, D);
}

/* The per-row inputs of a step into the regions IB_TOKENS, IB_POS, IB_SLOT (consecutive: one
 * upload): row i gets tokens[i], position p0 + i*p_step, and slots[i] (or `slot` if slots is NULL). */
static int upload_rows(uzw_gpu_state *s, const int32_t *tokens, int n, int p0, int p_step, int slot,
                       const int *slots) {
    int32_t *h = s->h_ibuf;
    int R = s->n_rows_max;
    for (int i = 0; i < n; i++) {
        h[i] = tokens[i];
        h[R + i] = p0 + i * p_step;
        h[2 * R + i] = slots ? slots[i] : slot;
    }
    return uzwk_h2d(s->c, ib(s, IB_TOKENS), h, sizeof(int32_t) * 3 * (size_t)R);
}

int uzw_gpu_decoder_begin(uzw_gpu_state *s) {
    const uzw_dims *d = &s->g->dims;
    int A = d->n_audio_ctx, D = d->n_text_state;
    for (int l = 0; l < d->n_text_layer; l++) {
        const uzw_gpu_layer *L = &s->g->dec[l];
        /* cross_kv[l] [A, 2D] = enc_out . [xk; xv]^T + [0; xv_b] */
        TRY(uzw_gpu_matmul(s, s->enc_out, D, &L->xkv_w, L->xkv_b, cross(s, l), 2 * D, A, D, 2 * D, UZWK_EPI_F16));
    }
    return 0;
}

/* Cross-attention scores of the alignment heads of layer l for the prompt's n rows (queries in
 * q [n, D]), scaled by 1/sqrt(Dh), appended to the host capture. */
static int capture_xqk(uzw_gpu_state *s, int l, const uzwk_f16 *q, int n, const uzw_gpu_capture *cap) {
    const uzw_dims *d = &s->g->dims;
    int A = d->n_audio_ctx, D = d->n_text_state, Dh = D / d->n_text_head;
    int rows = cap->rows - cap->p0 < n ? cap->rows - cap->p0 : n;
    if (rows <= 0) return 0;
    for (int a = 0; a < cap->n_heads; a++) {
        int layer = cap->heads[2 * a], h = cap->heads[2 * a + 1];
        if (layer != l || h < 0 || h >= d->n_text_head) continue;
        TRY(uzwk_gemm(s->c, q + h * Dh, D, cross(s, l) + h * Dh, 2 * D, NULL, s->xqk, A, rows, Dh, A, UZWK_EPI_F32,
                      UZWK_GEMM_AUTO, 0));
        float *dst = cap->out + ((size_t)a * cap->rows + cap->p0) * A; /* [rows, A] */
        TRY(uzwk_d2h(s->c, dst, s->xqk, sizeof(float) * (size_t)rows * A));
        float scale = 1.0f / sqrtf((float)Dh);
        for (size_t i = 0; i < (size_t)rows * A; i++) dst[i] *= scale;
    }
    return 0;
}

int uzw_gpu_decoder_prompt(uzw_gpu_state *s, const int32_t *tokens_host, int n, int p0, int slot,
                           const uzw_gpu_capture *cap) {
    uzwk_ctx *c = s->c;
    const uzw_dims *d = &s->g->dims;
    int A = d->n_audio_ctx, D = d->n_text_state, H = d->n_text_head, T = d->n_text_ctx;
    if (n <= 0 || p0 + n > T || n > s->n_rows_max || slot < 0 || slot >= s->n_seq_max)
        return uzwk_fail(c, "gpu decoder: %d tokens at position %d in slot %d do not fit", n, p0, slot);
    /* tokens, positions p0.., the same slot for every row */
    TRY(upload_rows(s, tokens_host, n, p0, 1, slot, NULL));
    int32_t *tok = ib(s, IB_TOKENS), *pos = ib(s, IB_POS), *slots = ib(s, IB_SLOT);
    TRY(embed(s, tok, pos, n));
    size_t slot_stride = (size_t)T * D;
    for (int l = 0; l < d->n_text_layer; l++) {
        const uzw_gpu_layer *L = &s->g->dec[l];
        TRY(uzwk_layernorm(c, s->x, L->attn_ln_w, L->attn_ln_b, s->h, n, D, 0));
        TRY(uzw_gpu_matmul(s, s->h, D, &L->qkv_w, L->qkv_b, s->qkv, 3 * D, n, D, 3 * D, UZWK_EPI_F16));
        TRY(uzwk_kv_append(c, s->qkv + D, s->qkv + 2 * D, 3 * D, self_k(s, l), self_v(s, l), (long)slot_stride, slots,
                           pos, n, D));
        TRY(uzw_gpu_attn_many(c, s->qkv, 3 * D, self_k(s, l) + slot * slot_stride, self_v(s, l) + slot * slot_stride,
                              D, s->att, n, p0 + n, H, D / H, 1, p0));
        TRY(uzw_gpu_matmul(s, s->att, D, &L->o_w, L->o_b, s->x, D, n, D, D, UZWK_EPI_F32_ADD));
        /* cross-attention; the queries go to qkv viewed as [n, D] */
        TRY(uzwk_layernorm(c, s->x, L->xattn_ln_w, L->xattn_ln_b, s->h, n, D, 0));
        TRY(uzw_gpu_matmul(s, s->h, D, &L->xq_w, L->xq_b, s->qkv, D, n, D, D, UZWK_EPI_F16));
        if (cap) TRY(capture_xqk(s, l, s->qkv, n, cap));
        TRY(uzw_gpu_attn_many(c, s->qkv, D, cross(s, l), cross(s, l) + D, 2 * D, s->att, n, A, H, D / H, 0, 0));
        TRY(uzw_gpu_matmul(s, s->att, D, &L->xo_w, L->xo_b, s->x, D, n, D, D, UZWK_EPI_F32_ADD));
        TRY(uzw_gpu_mlp_residual(s, L, s->x, n));
    }
    return 0;
}

int uzw_gpu_logits_rows(uzw_gpu_state *s, int row0, int n) {
    const uzw_dims *d = &s->g->dims;
    int D = d->n_text_state, V = d->n_vocab;
    int cap = s->n_seq_max > 4 ? s->n_seq_max : 4;
    if (n <= 0 || n > cap || row0 < 0 || row0 + n > s->n_rows_max)
        return uzwk_fail(s->c, "gpu logits: rows %d..%d (at most %d at once)", row0, row0 + n, cap);
    TRY(uzwk_layernorm(s->c, s->x + (size_t)row0 * D, s->g->dec_ln_w, s->g->dec_ln_b, s->h, n, D, 0));
    return uzw_gpu_matmul(s, s->h, D, &s->g->tok_emb, NULL, s->logits, V, n, D, V, UZWK_EPI_F32);
}

int uzw_gpu_decoder_step_dev(uzw_gpu_state *s, const int32_t *tokens, const int32_t *positions, const int32_t *slots,
                             int B) {
    uzwk_ctx *c = s->c;
    const uzw_dims *d = &s->g->dims;
    int A = d->n_audio_ctx, D = d->n_text_state, H = d->n_text_head, T = d->n_text_ctx, V = d->n_vocab;
    if (B <= 0 || B > s->n_seq_max) return uzwk_fail(c, "gpu decoder: batch of %d (at most %d)", B, s->n_seq_max);
    int32_t *len = ib(s, IB_LEN);
    long slot_stride = (long)T * D;
    TRY(embed(s, tokens, positions, B));
    TRY(uzwk_i32_add(c, positions, 1, len, B)); /* each sequence sees its keys 0..position */
    for (int l = 0; l < d->n_text_layer; l++) {
        const uzw_gpu_layer *L = &s->g->dec[l];
        TRY(uzwk_layernorm(c, s->x, L->attn_ln_w, L->attn_ln_b, s->h, B, D, 0));
        TRY(uzw_gpu_matmul(s, s->h, D, &L->qkv_w, L->qkv_b, s->qkv, 3 * D, B, D, 3 * D, UZWK_EPI_F16));
        TRY(uzwk_kv_append(c, s->qkv + D, s->qkv + 2 * D, 3 * D, self_k(s, l), self_v(s, l), slot_stride, slots,
                           positions, B, D));
        TRY(uzw_gpu_attn_decode(c, s->qkv, 3 * D, self_k(s, l), self_v(s, l), D, slot_stride, slots, len, T, s->att, B,
                                H, D / H));
        TRY(uzw_gpu_matmul(s, s->att, D, &L->o_w, L->o_b, s->x, D, B, D, D, UZWK_EPI_F32_ADD));
        TRY(uzwk_layernorm(c, s->x, L->xattn_ln_w, L->xattn_ln_b, s->h, B, D, 0));
        TRY(uzw_gpu_matmul(s, s->h, D, &L->xq_w, L->xq_b, s->qkv, D, B, D, D, UZWK_EPI_F16));
        TRY(uzw_gpu_attn_decode(c, s->qkv, D, cross(s, l), cross(s, l) + D, 2 * D, 0, ib(s, IB_ZERO), ib(s, IB_ALEN), A,
                                s->att, B, H, D / H));
        TRY(uzw_gpu_matmul(s, s->att, D, &L->xo_w, L->xo_b, s->x, D, B, D, D, UZWK_EPI_F32_ADD));
        TRY(uzw_gpu_mlp_residual(s, L, s->x, B));
    }
    TRY(uzwk_layernorm(c, s->x, s->g->dec_ln_w, s->g->dec_ln_b, s->h, B, D, 0));
    return uzw_gpu_matmul(s, s->h, D, &s->g->tok_emb, NULL, s->logits, V, B, D, V, UZWK_EPI_F32);
}

int uzw_gpu_decoder_step_host(uzw_gpu_state *s, const int32_t *tokens_host, const int *slots_host, int position,
                              int B) {
    if (B <= 0 || B > s->n_seq_max) return uzwk_fail(s->c, "gpu decoder: batch of %d (at most %d)", B, s->n_seq_max);
    TRY(upload_rows(s, tokens_host, B, position, 0, 0, slots_host));
    return uzw_gpu_decoder_step_dev(s, ib(s, IB_TOKENS), ib(s, IB_POS), ib(s, IB_SLOT), B);
}

int uzw_gpu_copy_slot(uzw_gpu_state *s, int from, int to, int n_past) {
    const uzw_dims *d = &s->g->dims;
    size_t stride = (size_t)d->n_text_ctx * d->n_text_state, bytes = sizeof(uzwk_f16) * (size_t)n_past * d->n_text_state;
    if (from == to || n_past <= 0) return 0;
    for (int l = 0; l < d->n_text_layer; l++) {
        TRY(uzwk_d2d(s->c, self_k(s, l) + to * stride, self_k(s, l) + from * stride, bytes));
        TRY(uzwk_d2d(s->c, self_v(s, l) + to * stride, self_v(s, l) + from * stride, bytes));
    }
    return 0;
}

#endif /* UZW_HAVE_CUDA */
