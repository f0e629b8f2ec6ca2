/* decoder.c - Whisper decoder on the CPU: token + learned position embeddings, pre-LN blocks with
 * causal self-attention over the KV cache and cross-attention over the window's encoder output,
 * final LayerNorm, logits through the tied token embedding. */
#include <string.h>

#include "model/forward.h"
#include "model/ops.h"

void uzw_decoder_begin(const uzw_model *m, uzw_fwd_state *st) {
    const uzw_dims *d = &m->dims;
    int A = d->n_audio_ctx, D = d->n_text_state;
    for (int l = 0; l < d->n_text_layer; l++) {
        const uzw_layer *L = &m->dec[l];
        uzw_linear(st->enc_out, L->xk_w, NULL, st->cross_k + (size_t)l * A * D, A, D, D);
        uzw_linear(st->enc_out, L->xv_w, L->xv_b, st->cross_v + (size_t)l * A * D, A, D, D);
    }
    st->n_past = 0;
}

int uzw_decoder_step(const uzw_model *m, uzw_fwd_state *st, const int32_t *tokens, int n) {
    const uzw_dims *d = &m->dims;
    int A = d->n_audio_ctx, D = d->n_text_state, T = d->n_text_ctx, H = d->n_text_head, V = d->n_vocab;
    int p0 = st->n_past;
    if (n <= 0 || p0 + n > T) return -1;
    for (int i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= V) return -1;

    /* x[n, D] = tok_emb[token] + dec_pos[position] */
    float *x = st->x;
    for (int i = 0; i < n; i++)
        for (int c = 0; c < D; c++)
            x[(size_t)i * D + c] = m->tok_emb[(size_t)tokens[i] * D + c] + m->dec_pos[(size_t)(p0 + i) * D + c];

    for (int l = 0; l < d->n_text_layer; l++) {
        const uzw_layer *L = &m->dec[l];
        float *kc = st->self_k + (size_t)l * T * D, *vc = st->self_v + (size_t)l * T * D;
        /* causal self-attention: new K/V rows go straight into the cache at p0.. */
        uzw_layernorm(x, L->attn_ln_w, L->attn_ln_b, st->h, n, D);
        uzw_linear(st->h, L->q_w, L->q_b, st->q, n, D, D);
        uzw_linear(st->h, L->k_w, NULL, kc + (size_t)p0 * D, n, D, D);
        uzw_linear(st->h, L->v_w, L->v_b, vc + (size_t)p0 * D, n, D, D);
        uzw_attention(st->q, D, kc, vc, D, st->att, n, p0 + n, H, D / H, 1, p0, st->scores);
        uzw_linear(st->att, L->o_w, L->o_b, st->h, n, D, D);
        uzw_add(x, st->h, (size_t)n * D);
        /* cross-attention over the encoder output */
        uzw_layernorm(x, L->xattn_ln_w, L->xattn_ln_b, st->h, n, D);
        uzw_linear(st->h, L->xq_w, L->xq_b, st->q, n, D, D);
        uzw_attention(st->q, D, st->cross_k + (size_t)l * A * D, st->cross_v + (size_t)l * A * D, D, st->att, n, A, H,
                      D / H, 0, 0, st->scores);
        uzw_linear(st->att, L->xo_w, L->xo_b, st->h, n, D, D);
        uzw_add(x, st->h, (size_t)n * D);
        uzw_mlp_residual(L, st, x, n, D);
    }
    st->n_past = p0 + n;
    uzw_decoder_logits_at(m, st, n - 1, st->logits);
    return 0;
}

void uzw_decoder_logits_at(const uzw_model *m, uzw_fwd_state *st, int i, float *out) {
    int D = m->dims.n_text_state;
    float *row = st->h; /* [1, D] scratch: LN of the residual stream row, then x . tok_emb^T */
    uzw_layernorm(st->x + (size_t)i * D, m->dec_ln_w, m->dec_ln_b, row, 1, D);
    uzw_linear(row, m->tok_emb, NULL, out, 1, D, m->dims.n_vocab);
}
