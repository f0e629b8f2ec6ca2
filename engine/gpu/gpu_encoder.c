/* gpu_encoder.c - the Whisper encoder on the device, the same steps as engine/model/encoder.c:
 * conv front as im2col + matmul with a fused GELU, sinusoid positions into the fp32 residual
 * stream, pre-LN blocks (attention and MLP, each adding into the stream in the matmul epilogue),
 * ln_post into the fp16 encoder output the decoder reads. The blocks' products go through
 * uzw_gpu_matmul (fp16 or INT8 weights); the convolutions' weights are always fp16. */
#ifdef UZW_HAVE_CUDA

#include "gpu/gpu.h"
#include "gpu/gpu_attn.h"

#define TRY(x)                                                                                                   \
    do {                                                                                                         \
        if ((x) != 0) return -1;                                                                                 \
    } while (0)

/* x[N, D] += fc2(GELU(fc1(LN(x)))): the MLP half of a block, shared with the decoder. */
int uzw_gpu_mlp_residual(uzw_gpu_state *s, const uzw_gpu_layer *L, float *x, int N) {
    uzwk_ctx *c = s->c;
    int D = s->g->dims.n_audio_state, F = 4 * D;
    TRY(uzwk_layernorm(c, x, L->mlp_ln_w, L->mlp_ln_b, s->h, N, D, 0));
    TRY(uzw_gpu_matmul(s, s->h, D, &L->fc1_w, L->fc1_b, s->ff, F, N, D, F, UZWK_EPI_F16_GELU));
    TRY(uzw_gpu_matmul(s, s->ff, F, &L->fc2_w, L->fc2_b, x, D, N, F, D, UZWK_EPI_F32_ADD));
    return 0;
}

static int encoder_block(uzw_gpu_state *s, const uzw_gpu_layer *L) {
    uzwk_ctx *c = s->c;
    const uzw_dims *d = &s->g->dims;
    int A = d->n_audio_ctx, D = d->n_audio_state, H = d->n_audio_head;
    TRY(uzwk_layernorm(c, s->xe, L->attn_ln_w, L->attn_ln_b, s->h, A, D, 0));
    /* qkv [A, 3D]: q | k | v per row */
    TRY(uzw_gpu_matmul(s, s->h, D, &L->qkv_w, L->qkv_b, s->qkv, 3 * D, A, D, 3 * D, UZWK_EPI_F16));
    TRY(uzw_gpu_attn_many(c, s->qkv, 3 * D, s->qkv + D, s->qkv + 2 * D, 3 * D, s->att, A, A, H, D / H, 0, 0));
    TRY(uzw_gpu_matmul(s, s->att, D, &L->o_w, L->o_b, s->xe, D, A, D, D, UZWK_EPI_F32_ADD));
    return uzw_gpu_mlp_residual(s, L, s->xe, A);
}

int uzw_gpu_encode(uzw_gpu_state *s) {
    uzwk_ctx *c = s->c;
    const uzw_gpu_model *g = s->g;
    const uzw_dims *d = &g->dims;
    int M = d->n_mels, A = d->n_audio_ctx, D = d->n_audio_state, W = 2 * A;
    /* conv1 (stride 1): mel [M, W] -> cols [W, M*3] -> conv [W, D] = GELU(cols . conv1_w^T + b) */
    TRY(uzwk_im2col_k3(c, s->mel, 1, s->cols, M, W, 1));
    TRY(uzwk_gemm(c, s->cols, M * 3, g->conv1_w, M * 3, g->conv1_b, s->conv, D, W, M * 3, D, UZWK_EPI_F16_GELU,
                  UZWK_GEMM_AUTO, 0));
    /* conv2 (stride 2): conv [W, D] -> cols [A, D*3] -> h [A, D] = GELU(...) */
    TRY(uzwk_im2col_k3(c, s->conv, 0, s->cols, D, W, 2));
    TRY(uzwk_gemm(c, s->cols, D * 3, g->conv2_w, D * 3, g->conv2_b, s->h, D, A, D * 3, D, UZWK_EPI_F16_GELU,
                  UZWK_GEMM_AUTO, 0));
    TRY(uzwk_add_pos(c, s->h, g->enc_pos, s->xe, A, D));
    for (int l = 0; l < d->n_audio_layer; l++) TRY(encoder_block(s, &g->enc[l]));
    return uzwk_layernorm(c, s->xe, g->ln_post_w, g->ln_post_b, s->enc_out, A, D, 0);
}

int uzw_gpu_encode_host(uzw_gpu_state *s, const float *mel_win) {
    const uzw_dims *d = &s->g->dims;
    TRY(uzwk_h2d(s->c, s->mel, mel_win, sizeof(float) * (size_t)d->n_mels * 2 * d->n_audio_ctx));
    return uzw_gpu_encode(s);
}

#endif /* UZW_HAVE_CUDA */
