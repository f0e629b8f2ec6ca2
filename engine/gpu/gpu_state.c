/* gpu_state.c - the device activations and KV cache of a decoding state: two allocations, sized
 * from the dimensions and the number of sequences, sliced into named tensors by one walk. Models
 * with W8A8 matrices also get the int8 activations of those products (xq, xs) in the first. */
#ifdef UZW_HAVE_CUDA

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/gpu.h"
#include "k_step.h"

typedef struct {
    char *base; /* NULL while sizing */
    size_t off;
} carve;

static void *cut(carve *k, size_t bytes) { return uzw_gpu_carve(k->base, &k->off, bytes); }

static int rows_of(const uzw_dims *d, int n_seq) { return n_seq > d->n_text_ctx ? n_seq : d->n_text_ctx; }

/* a8: the model has W8A8 matrices. Every piece starts on 256 bytes (uzw_gpu_carve), which the
 * INT8 kernels' 16-byte rule for xq needs; its rows are I bytes apart, a multiple of 16 for every
 * product that can reach it (uzw_gpu_matmul passes ldq = I, and the kernels require I % 16 == 0). */
static void carve_act(carve *k, uzw_gpu_state *s, const uzw_dims *d, int n_seq, int a8) {
    size_t M = d->n_mels, A = d->n_audio_ctx, D = d->n_audio_state, F = 4 * D, V = d->n_vocab;
    size_t rows = (size_t)rows_of(d, n_seq), R1 = A > rows ? A : rows, W = 2 * A;
    size_t ci = (M > D ? M : D) * 3, nl = (size_t)(n_seq > 4 ? n_seq : 4);
    s->mel = cut(k, M * W * sizeof(float));
    s->cols = cut(k, W * ci * sizeof(uzwk_f16));
    s->conv = cut(k, W * D * sizeof(uzwk_f16));
    s->xe = cut(k, A * D * sizeof(float));
    s->h = cut(k, R1 * D * sizeof(uzwk_f16));
    s->qkv = cut(k, R1 * 3 * D * sizeof(uzwk_f16));
    s->att = cut(k, R1 * D * sizeof(uzwk_f16));
    s->ff = cut(k, R1 * F * sizeof(uzwk_f16));
    s->x = cut(k, rows * D * sizeof(float));
    s->logits = cut(k, nl * V * sizeof(float));
    s->xqk = cut(k, rows * A * sizeof(float));
    s->ibuf = cut(k, 8 * rows * sizeof(int32_t));
    /* any W8A8 product has at most max(A, rows) rows of at most F inputs */
    s->xq_rows = a8 ? (int)R1 : 0;
    s->xq_cols = a8 ? (int)F : 0;
    s->xq = a8 ? cut(k, R1 * F) : NULL;
    s->xs = a8 ? cut(k, R1 * sizeof(float)) : NULL;
}

static void carve_kv(carve *k, uzw_gpu_state *s, const uzw_dims *d, int n_seq) {
    size_t A = d->n_audio_ctx, D = d->n_audio_state, T = d->n_text_ctx, L = d->n_text_layer;
    s->enc_out = cut(k, A * D * sizeof(uzwk_f16));
    s->cross_kv = cut(k, L * A * 2 * D * sizeof(uzwk_f16));
    s->self_k = cut(k, L * (size_t)n_seq * T * D * sizeof(uzwk_f16));
    s->self_v = cut(k, L * (size_t)n_seq * T * D * sizeof(uzwk_f16));
}

size_t uzw_gpu_state_bytes(const uzw_dims *d, int n_seq, int a8) {
    uzw_gpu_state s;
    carve a = {0}, b = {0};
    carve_act(&a, &s, d, n_seq, a8);
    carve_kv(&b, &s, d, n_seq);
    return a.off + b.off;
}

int uzw_gpu_state_init(uzw_gpu_state *s, uzwk_ctx *c, const uzw_gpu_model *g, int n_seq, char *err, size_t err_size) {
    memset(s, 0, sizeof *s);
    if (n_seq < 1 || n_seq > 64) {
        snprintf(err, err_size, "gpu state: %d sequences (1..64)", n_seq);
        return -1;
    }
    s->c = c;
    s->g = g;
    s->n_seq_max = n_seq;
    s->n_rows_max = rows_of(&g->dims, n_seq);
    carve a = {0}, b = {0};
    carve_act(&a, s, &g->dims, n_seq, g->any_a8);
    carve_kv(&b, s, &g->dims, n_seq);
    s->act = uzwk_malloc(c, a.off);
    s->kv = s->act ? uzwk_malloc(c, b.off) : NULL;
    s->h_ibuf = malloc(8 * (size_t)s->n_rows_max * sizeof(int32_t));
    if (!s->act || !s->kv || !s->h_ibuf) {
        snprintf(err, err_size, "gpu state: %.1f MiB activations + %.1f MiB KV cache: %s", a.off / 1048576.0,
                 b.off / 1048576.0, s->h_ibuf ? uzwk_error(c) : "out of host memory");
        uzw_gpu_state_free(s);
        return -1;
    }
    a.base = s->act;
    a.off = 0;
    carve_act(&a, s, &g->dims, n_seq, g->any_a8);
    b.base = s->kv;
    b.off = 0;
    carve_kv(&b, s, &g->dims, n_seq);
    if (uzwk_i32_iota(c, uzw_gpu_ibuf(s, IB_ZERO), 0, 0, s->n_rows_max) ||
        uzwk_i32_iota(c, uzw_gpu_ibuf(s, IB_ALEN), g->dims.n_audio_ctx, 0, s->n_rows_max)) {
        snprintf(err, err_size, "gpu state: %s", uzwk_error(c));
        uzw_gpu_state_free(s);
        return -1;
    }
    return 0;
}

void uzw_gpu_state_free(uzw_gpu_state *s) {
    for (int i = 0; i < (int)(sizeof s->step_graph / sizeof s->step_graph[0]); i++) uzwk_graph_free(s->step_graph[i]);
    uzwk_free(s->act);
    uzwk_free(s->kv);
    free(s->h_ibuf);
    memset(s, 0, sizeof *s);
}

#endif /* UZW_HAVE_CUDA */
