/* encoder.c - Whisper encoder on the CPU: conv front, sinusoid positions, pre-LN blocks, ln_post. */
#include "model/forward.h"
#include "model/ops.h"
#include "adapter/adapter.h"

/* One pre-LN transformer block over x[N, D] without cross-attention. */
static void encoder_block(const uzw_layer *L, int l, uzw_fwd_state *st, float *x, int N, int D, int H) {
    uzw_layernorm(x, L->attn_ln_w, L->attn_ln_b, st->h, N, D);
    uzw_proj(st, &L->q_w, st->h, L->q_b, st->q, N, l, UZW_SITE_Q);
    uzw_proj(st, &L->k_w, st->h, NULL, st->k, N, l, UZW_SITE_K);
    uzw_proj(st, &L->v_w, st->h, L->v_b, st->v, N, l, UZW_SITE_V);
    uzw_attention(st->q, D, st->k, st->v, D, st->att, N, N, H, D / H, 0, 0, st->scores);
    uzw_proj(st, &L->o_w, st->att, L->o_b, st->h, N, l, UZW_SITE_O);
    uzw_residual(st, x, st->h, N, D, l, UZW_BN_ATTN);
    uzw_mlp_residual(L, l, st, x, N, D);
}

void uzw_mlp_residual(const uzw_layer *L, int layer, uzw_fwd_state *st, float *x, int N, int D) {
    int F = 4 * D;
    uzw_layernorm(x, L->mlp_ln_w, L->mlp_ln_b, st->h, N, D);
    uzw_proj(st, &L->fc1_w, st->h, L->fc1_b, st->ff, N, layer, UZW_SITE_FC1);
    uzw_gelu(st->ff, (size_t)N * F);
    uzw_proj(st, &L->fc2_w, st->ff, L->fc2_b, st->h, N, layer, UZW_SITE_FC2);
    uzw_residual(st, x, st->h, N, D, layer, UZW_BN_OUT);
}

int uzw_encode(const uzw_model *m, uzw_fwd_state *st) {
#ifdef UZW_HAVE_CUDA
    if (st->gpu) return uzw_gpu_fwd_encode(m, st);
#endif
    const uzw_dims *d = &m->dims;
    int M = d->n_mels, A = d->n_audio_ctx, D = d->n_audio_state, W = 2 * A;
    /* conv1: mel_win [M, W] -> conv_a [D, W]; conv2 (stride 2): -> h viewed as [D, A] */
    uzw_conv1d_k3(st->mel_win, m->conv1_w, m->conv1_b, st->conv_a, M, W, D, 1, st->cols);
    uzw_gelu(st->conv_a, (size_t)D * W);
    uzw_conv1d_k3(st->conv_a, m->conv2_w, m->conv2_b, st->h, D, W, D, 2, st->cols);
    uzw_gelu(st->h, (size_t)D * A);
    /* transpose to the residual stream enc_out [A, D] and add the sinusoid table [A, D] */
    for (int t = 0; t < A; t++)
        for (int c = 0; c < D; c++) st->enc_out[(size_t)t * D + c] = st->h[(size_t)c * A + t] + m->enc_pos[(size_t)t * D + c];
    for (int l = 0; l < d->n_audio_layer; l++) encoder_block(&m->enc[l], l, st, st->enc_out, A, D, d->n_audio_head);
    uzw_layernorm(st->enc_out, m->ln_post_w, m->ln_post_b, st->enc_out, A, D);
    return 0;
}
