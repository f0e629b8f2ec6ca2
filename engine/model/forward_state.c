/* forward_state.c - sizing and allocating the activation and KV-cache blocks of a forward state. */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "model/forward.h"
#include "model/ops.h"

int uzw_fwd_init(uzw_fwd_state *st, const uzw_model *m, int n_seq, char *err, size_t es) {
    memset(st, 0, sizeof *st);
    if (n_seq < 1 || n_seq > UZW_MAX_SEQ) return uzw_errf(err, es, "%d decoding sequences requested; 1..%d are supported", n_seq, UZW_MAX_SEQ);
    size_t S = (size_t)n_seq;
    const uzw_dims *d = &m->dims;
    size_t M = (size_t)d->n_mels, A = (size_t)d->n_audio_ctx, D = (size_t)d->n_audio_state, F = 4 * D;
    size_t T = (size_t)d->n_text_ctx, V = (size_t)d->n_vocab, Lt = (size_t)d->n_text_layer;
    size_t W = 2 * A, C = (M > D ? M : D) * 3;
    size_t rows = A > T ? A : T;
    /* attention scores: [rows, rows], or [H, few queries, rows] on decode steps (ops.h) */
    size_t H = (size_t)(d->n_text_head > d->n_audio_head ? d->n_text_head : d->n_audio_head);
    size_t scores = rows * rows > H * UZW_ATTN_FEW_QUERIES * rows ? rows * rows : H * UZW_ATTN_FEW_QUERIES * rows;
    /* int8 models: the scratch of their products, for the widest one (rows x F) */
    size_t qbytes = m->quant ? uzw_matmul_scratch_bytes((int)rows, (int)F) : 0;
    float *qscratch = NULL;
    size_t sizes[] = {M * W, D * W, C * W, A * D, rows * D, rows * D, rows * D, rows * D, rows * D,
                      rows * F, scores, T * D, S * V, V, (qbytes + 3) / 4};
    float **slots[] = {&st->mel_win, &st->conv_a, &st->cols, &st->enc_out, &st->h, &st->q, &st->k, &st->v,
                       &st->att, &st->ff, &st->scores, &st->x, &st->logits, &st->logits2, &qscratch};
    size_t total = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) total += (sizes[i] + 15) & ~(size_t)15;
    st->act = aligned_alloc(64, total * sizeof(float));
    st->cols_floats = C * W;
    size_t kv_floats = 2 * S * Lt * T * D + 2 * Lt * A * D;
    st->kv = aligned_alloc(64, kv_floats * sizeof(float));
    if (!st->act || !st->kv) {
        uzw_fwd_free(st);
        return uzw_errf(err, es, "out of memory allocating %.1f MiB of activations and KV cache",
                        (double)(total + kv_floats) * 4 / (1 << 20));
    }
    size_t off = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        *slots[i] = st->act + off;
        off += (sizes[i] + 15) & ~(size_t)15;
    }
    st->qscratch = qbytes ? (void *)qscratch : NULL;
    st->qscratch_bytes = qbytes;
    st->self_k = st->kv;
    st->self_v = st->self_k + S * Lt * T * D;
    st->cross_k = st->self_v + S * Lt * T * D;
    st->cross_v = st->cross_k + Lt * A * D;
    st->n_seq_max = n_seq;
    for (int j = 0; j < UZW_MAX_SEQ; j++) st->slot[j] = j;
    return 0;
}

void uzw_fwd_free(uzw_fwd_state *st) {
    free(st->act);
    free(st->kv);
    memset(st, 0, sizeof *st);
}
