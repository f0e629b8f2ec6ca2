/* decoder.c - Whisper decoder on the CPU: token + learned position embeddings, pre-LN blocks with
 * causal self-attention over each sequence's KV cache and cross-attention over the window's
 * encoder output (shared by all sequences), final LayerNorm, logits through the tied token embedding. */
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "model/forward.h"
#include "model/ops.h"
#include "adapter/adapter.h"

int uzw_decoder_begin(const uzw_model *m, uzw_fwd_state *st) {
    uzw_decoder_reset(st);
#ifdef UZW_HAVE_CUDA
    if (st->gpu) return uzw_gpu_fwd_begin(m, st);
#endif
    const uzw_dims *d = &m->dims;
    int A = d->n_audio_ctx, D = d->n_text_state;
    for (int l = 0; l < d->n_text_layer; l++) {
        const uzw_layer *L = &m->dec[l];
        int g = d->n_audio_layer + l;
        uzw_proj(st, &L->xk_w, st->enc_out, NULL, st->cross_k + (size_t)l * A * D, A, g, UZW_SITE_XK);
        uzw_proj(st, &L->xv_w, st->enc_out, L->xv_b, st->cross_v + (size_t)l * A * D, A, g, UZW_SITE_XV);
    }
    return 0;
}

void uzw_decoder_reset(uzw_fwd_state *st) {
    st->n_past = 0;
    for (int j = 0; j < UZW_MAX_SEQ; j++) st->slot[j] = j;
}

/* Self-attention cache of layer l in physical slot s: [T, D]. */
static float *cache_k(const uzw_model *m, uzw_fwd_state *st, int s, int l) {
    size_t T = (size_t)m->dims.n_text_ctx, D = (size_t)m->dims.n_text_state;
    return st->self_k + ((size_t)s * m->dims.n_text_layer + l) * T * D;
}
static float *cache_v(const uzw_model *m, uzw_fwd_state *st, int s, int l) {
    size_t T = (size_t)m->dims.n_text_ctx, D = (size_t)m->dims.n_text_state;
    return st->self_v + ((size_t)s * m->dims.n_text_layer + l) * T * D;
}

/* Word-timing capture: q[n_rows, D] are the cross-attention queries of layer l for positions
 * p0..p0+n_rows-1; write q_h . k_h^T / sqrt(Dh) of each alignment head of this layer into st->xqk. */
static void capture_xqk(const uzw_model *m, uzw_fwd_state *st, int l, int n_rows, int p0) {
    const uzw_dims *d = &m->dims;
    int A = d->n_audio_ctx, D = d->n_text_state, Dh = D / d->n_text_head;
    int n = st->xqk_rows - p0 < n_rows ? st->xqk_rows - p0 : n_rows;
    if (n <= 0) return;
    const float *kl = st->cross_k + (size_t)l * A * D; /* [A, D] */
    for (int a = 0; a < m->n_align_heads; a++) {
        int layer = m->align_heads[2 * a], h = m->align_heads[2 * a + 1];
        if (layer != l || h < 0 || h >= d->n_text_head) continue;
        float *dst = st->xqk + ((size_t)a * st->xqk_rows + p0) * A; /* [n, A] */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, A, Dh, 1.0f / sqrtf((float)Dh), st->q + h * Dh, D,
                    kl + h * Dh, D, 0.0f, dst, A);
    }
}

/* x[n_rows, D] holds the embedded inputs. seq < 0: the rows are B = n_rows sequences, one new
 * token each at position p0; seq >= 0: the rows are n_rows consecutive tokens of that sequence. */
static void decoder_layers(const uzw_model *m, uzw_fwd_state *st, int n_rows, int seq, int p0) {
    const uzw_dims *d = &m->dims;
    int A = d->n_audio_ctx, D = d->n_text_state, H = d->n_text_head;
    float *x = st->x;
    for (int l = 0; l < d->n_text_layer; l++) {
        const uzw_layer *L = &m->dec[l];
        int g = d->n_audio_layer + l; /* global layer index, for adapters */
        uzw_layernorm(x, L->attn_ln_w, L->attn_ln_b, st->h, n_rows, D);
        uzw_proj(st, &L->q_w, st->h, L->q_b, st->q, n_rows, g, UZW_SITE_Q);
        uzw_proj(st, &L->k_w, st->h, NULL, st->k, n_rows, g, UZW_SITE_K);
        uzw_proj(st, &L->v_w, st->h, L->v_b, st->v, n_rows, g, UZW_SITE_V);
        if (seq >= 0) {
            /* consecutive tokens of one sequence: append their K/V rows, then causal attention */
            float *kc = cache_k(m, st, st->slot[seq], l), *vc = cache_v(m, st, st->slot[seq], l);
            memcpy(kc + (size_t)p0 * D, st->k, sizeof(float) * (size_t)n_rows * D);
            memcpy(vc + (size_t)p0 * D, st->v, sizeof(float) * (size_t)n_rows * D);
            uzw_attention(st->q, D, kc, vc, D, st->att, n_rows, p0 + n_rows, H, D / H, 1, p0, st->scores);
        } else {
            /* one token per sequence, each over its own cache */
            for (int j = 0; j < n_rows; j++) {
                float *kc = cache_k(m, st, st->slot[j], l), *vc = cache_v(m, st, st->slot[j], l);
                memcpy(kc + (size_t)p0 * D, st->k + (size_t)j * D, sizeof(float) * D);
                memcpy(vc + (size_t)p0 * D, st->v + (size_t)j * D, sizeof(float) * D);
                uzw_attention(st->q + (size_t)j * D, D, kc, vc, D, st->att + (size_t)j * D, 1, p0 + 1, H, D / H, 1, p0,
                              st->scores);
            }
        }
        uzw_proj(st, &L->o_w, st->att, L->o_b, st->h, n_rows, g, UZW_SITE_O);
        uzw_residual(st, x, st->h, n_rows, D, g, UZW_BN_ATTN);
        /* cross-attention over the encoder output, shared by every row */
        uzw_layernorm(x, L->xattn_ln_w, L->xattn_ln_b, st->h, n_rows, D);
        uzw_proj(st, &L->xq_w, st->h, L->xq_b, st->q, n_rows, g, UZW_SITE_XQ);
        if (seq >= 0 && st->xqk) capture_xqk(m, st, l, n_rows, p0);
        uzw_attention(st->q, D, st->cross_k + (size_t)l * A * D, st->cross_v + (size_t)l * A * D, D, st->att, n_rows, A, H,
                      D / H, 0, 0, st->scores);
        uzw_proj(st, &L->xo_w, st->att, L->xo_b, st->h, n_rows, g, UZW_SITE_XO);
        uzw_residual(st, x, st->h, n_rows, D, g, UZW_BN_CROSS);
        uzw_mlp_residual(L, g, st, x, n_rows, D);
    }
}

static void embed(const uzw_model *m, float *x, const int32_t *tokens, int n, int p0, int same_position) {
    int D = m->dims.n_text_state;
    for (int i = 0; i < n; i++) {
        int pos = same_position ? p0 : p0 + i;
        float *xr = x + (size_t)i * D;
        uzw_wmat_row(&m->tok_emb, tokens[i], xr);
        for (int c = 0; c < D; c++) xr[c] += m->dec_pos[(size_t)pos * D + c];
    }
}

static int tokens_ok(const uzw_model *m, const int32_t *tokens, int n) {
    for (int i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= m->dims.n_vocab) return 0;
    return 1;
}

int uzw_decoder_step(const uzw_model *m, uzw_fwd_state *st, const int32_t *tokens, int n) {
    int p0 = st->n_past;
    if (n <= 0 || p0 + n > m->dims.n_text_ctx || !tokens_ok(m, tokens, n)) return -1;
#ifdef UZW_HAVE_CUDA
    if (st->gpu) {
        if (uzw_gpu_fwd_step(m, st, tokens, n) != 0) return -1;
        st->n_past = p0 + n;
        return 0;
    }
#endif
    embed(m, st->x, tokens, n, p0, 0);
    decoder_layers(m, st, n, 0, p0);
    st->n_past = p0 + n;
    uzw_decoder_logits_at(m, st, n - 1, st->logits);
    return 0;
}

int uzw_decoder_step_batch(const uzw_model *m, uzw_fwd_state *st, const int32_t *tokens, int B) {
    int p0 = st->n_past;
    if (B <= 0 || B > st->n_seq_max || p0 + 1 > m->dims.n_text_ctx || !tokens_ok(m, tokens, B)) return -1;
#ifdef UZW_HAVE_CUDA
    if (st->gpu) {
        if (uzw_gpu_fwd_step_batch(m, st, tokens, B) != 0) return -1;
        st->n_past = p0 + 1;
        return 0;
    }
#endif
    embed(m, st->x, tokens, B, p0, 1);
    decoder_layers(m, st, B, -1, p0);
    st->n_past = p0 + 1;
    int D = m->dims.n_text_state;
    uzw_layernorm(st->x, m->dec_ln_w, m->dec_ln_b, st->h, B, D);
    uzw_matmul(&m->tok_emb, st->h, NULL, st->logits, B, st->qscratch, st->qscratch_bytes); /* [B, V] */
    return 0;
}

int uzw_decoder_logits_at(const uzw_model *m, uzw_fwd_state *st, int i, float *out) {
#ifdef UZW_HAVE_CUDA
    if (st->gpu) return uzw_gpu_fwd_logits_at(m, st, i, out);
#endif
    int D = m->dims.n_text_state;
    float *row = st->h; /* [1, D] scratch: LN of the residual stream row, then x . tok_emb^T */
    uzw_layernorm(st->x + (size_t)i * D, m->dec_ln_w, m->dec_ln_b, row, 1, D);
    uzw_matmul(&m->tok_emb, row, NULL, out, 1, st->qscratch, st->qscratch_bytes);
    return 0;
}

static int copy_slot(const uzw_model *m, uzw_fwd_state *st, int from, int to) {
#ifdef UZW_HAVE_CUDA
    if (st->gpu) return uzw_gpu_fwd_copy_slot(st, from, to);
#endif
    size_t rows = (size_t)st->n_past * m->dims.n_text_state;
    for (int l = 0; l < m->dims.n_text_layer; l++) {
        memcpy(cache_k(m, st, to, l), cache_k(m, st, from, l), sizeof(float) * rows);
        memcpy(cache_v(m, st, to, l), cache_v(m, st, from, l), sizeof(float) * rows);
    }
    return 0;
}

int uzw_decoder_fork(const uzw_model *m, uzw_fwd_state *st, int B) {
    for (int j = 1; j < B && j < st->n_seq_max; j++) {
        st->slot[j] = j;
        if (st->slot[0] != j && copy_slot(m, st, st->slot[0], j) != 0) return -1;
    }
    return 0;
}

int uzw_decoder_reorder(const uzw_model *m, uzw_fwd_state *st, const int *src, int B) {
    int old[UZW_MAX_SEQ], now[UZW_MAX_SEQ], taken[UZW_MAX_SEQ] = {0}, used[UZW_MAX_SEQ] = {0};
    memcpy(old, st->slot, sizeof old);
    /* first use of a source keeps its physical slot */
    for (int j = 0; j < B; j++) {
        now[j] = -1;
        if (!taken[src[j]]) {
            taken[src[j]] = 1;
            now[j] = old[src[j]];
            used[now[j]] = 1;
        }
    }
    /* a source continued twice is copied into a slot nobody uses any more */
    for (int j = 0; j < B; j++) {
        if (now[j] >= 0) continue;
        int free_slot = 0;
        while (free_slot < st->n_seq_max && used[free_slot]) free_slot++;
        if (copy_slot(m, st, old[src[j]], free_slot) != 0) return -1;
        now[j] = free_slot;
        used[free_slot] = 1;
    }
    memcpy(st->slot, now, sizeof(int) * (size_t)B);
    return 0;
}
