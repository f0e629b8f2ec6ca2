/*
 * forward.h - the CPU reference forward pass of Whisper: encoder over one 30 s window, decoder
 * steps over a self-attention KV cache with cross-attention K/V computed once per window.
 * Two allocations per state, sized from the model dimensions up front: activations and KV cache.
 *
 * The self-attention cache holds S sequences (beams, or best-of samples) that all share the
 * window's cross-attention K/V and always have the same length n_past. Logical sequence j lives in
 * physical cache slot slot[j]; reordering beams moves slot numbers and copies only duplicated rows.
 */
#ifndef UZW_FORWARD_H
#define UZW_FORWARD_H

#include <stdint.h>

#include "model/model.h"

typedef struct {
    float *act;          /* activations: one allocation, sliced below */
    float *mel_win;      /* [M, 2A]   the window the encoder reads (2A = 3000 frames) */
    float *conv_a;       /* [D, 2A]   conv1 output                                   */
    float *cols;         /* [max(M,D)*3, 2A] im2col scratch; inside the blocks, the    */
                         /* per-request merged weight of a LoRA site (adapter_run.c)   */
    size_t cols_floats;
    float *enc_out;      /* [A, D]    encoder residual stream, then its final output */
    float *h;            /* [A, D]    LayerNorm output (decoder uses the first T rows)*/
    float *q, *k, *v;    /* [A, D]                                                    */
    float *att;          /* [A, D]                                                    */
    float *ff;           /* [A, F]                                                    */
    float *scores;       /* [A, A] (or [H, 4, A] on decode steps, if larger)          */
    float *x;            /* [T, D]    decoder residual stream                         */
    float *logits;       /* [S, V]    logits of the last position of each sequence    */
    float *logits2;      /* [V]       logits of another position (e.g. SOT, for no-speech) */
    void *qscratch;      /* int8 models: quantised activation rows or widened weight panels (qmat.h) */
    size_t qscratch_bytes;

    float *kv;           /* KV cache: one allocation */
    float *self_k, *self_v;   /* [S, Lt, T, D] physical slots */
    float *cross_k, *cross_v; /* [Lt, A, D] shared by every sequence */
    int n_seq_max;            /* S */
    int slot[64];             /* logical sequence -> physical slot */
    int n_past;               /* tokens in each sequence's self-attention cache */

    /* Optional capture for word timestamps (NULL: off). During uzw_decoder_step (sequence 0) the
     * pre-softmax cross-attention scores q.k/sqrt(Dh) of the model's alignment heads are written
     * to xqk [n_align_heads, xqk_rows, A], row = absolute position; positions >= xqk_rows are
     * not captured. Owned by the caller; uzw_fwd_init/free leave it NULL. */
    float *xqk;
    int xqk_rows;

    /* Unmerged adapters of the current request (adapter/adapter.h; NULL: none): LoRA updates on
     * the linear layers, bottleneck adapters on the residual connections. CPU only. */
    const struct uzw_adapter *adapters[16];
    int n_adapters;

    /* The CUDA backend (engine/gpu): when set, every entry point below runs on the device and
     * only st->mel_win, st->logits, st->logits2 and st->xqk are used on the host. A failed
     * device call sets gpu_failed; every later step then fails with gpu_err. */
    struct uzw_gpu_state *gpu;
    int gpu_failed;
    char gpu_err[256];
} uzw_fwd_state;

#define UZW_MAX_SEQ 64

/* n_seq: how many sequences the cache holds (1 for greedy; beam size or best-of for search). */
int uzw_fwd_init(uzw_fwd_state *st, const uzw_model *m, int n_seq, char *err, size_t err_size);
void uzw_fwd_free(uzw_fwd_state *st);
/* The MLP half of a pre-LN block, shared by encoder and decoder: x[N,D] += fc2(GELU(fc1(LN(x)))).
 * layer: the global layer index (encoder 0..La-1, decoder La..) adapters are looked up by. */
void uzw_mlp_residual(const uzw_layer *L, int layer, uzw_fwd_state *st, float *x, int N, int D);

/* y[N, out] = x[N, in] W^T + b, plus the LoRA updates of st's unmerged adapters at this site
 * (global layer: encoder 0..La-1, decoder La..; site: UZW_SITE_* of adapter/adapter.h). */
void uzw_proj(uzw_fwd_state *st, const uzw_wmat *w, const float *x, const float *b, float *y, int N, int layer, int site);
/* x[N, D] += s[N, D] (a sub-layer's output onto the residual stream), through st's bottleneck
 * adapters at this place (UZW_BN_*) when there are any. */
void uzw_residual(uzw_fwd_state *st, float *x, const float *s, int N, int D, int layer, int place);

/* Encode st->mel_win [M, 2A] into st->enc_out [A, D]. 0, or -1 when the device failed. */
int uzw_encode(const uzw_model *m, uzw_fwd_state *st);
/* Compute the cross-attention K/V of every decoder layer from st->enc_out and empty the cache.
 * 0, or -1 when the device failed. */
int uzw_decoder_begin(const uzw_model *m, uzw_fwd_state *st);
/* Empty the self-attention cache only (keeps cross K/V). */
void uzw_decoder_reset(uzw_fwd_state *st);
/* Sequence 0: run n tokens at positions n_past .. n_past+n-1, append their K/V to its cache, and
 * leave the logits of the last one in st->logits [V]. Returns 0, or -1 if the context would overflow T. */
int uzw_decoder_step(const uzw_model *m, uzw_fwd_state *st, const int32_t *tokens, int n);
/* Sequences 0..B-1: one token each at position n_past; logits into st->logits [B, V]. 0 or -1. */
int uzw_decoder_step_batch(const uzw_model *m, uzw_fwd_state *st, const int32_t *tokens, int B);
/* After a step of n tokens of sequence 0: the logits of its position i (0 <= i < n) into out [V].
 * Valid only until the next step (it reads the step's residual stream). 0 or -1 (device). */
int uzw_decoder_logits_at(const uzw_model *m, uzw_fwd_state *st, int i, float *out);
/* Make sequences 1..B-1 copies of sequence 0 (after the shared prompt). 0 or -1 (device). */
int uzw_decoder_fork(const uzw_model *m, uzw_fwd_state *st, int B);
/* New sequence j continues old sequence src[j] (0 <= j < B). 0 or -1 (device). */
int uzw_decoder_reorder(const uzw_model *m, uzw_fwd_state *st, const int *src, int B);

#ifdef UZW_HAVE_CUDA
/* The device versions (engine/gpu/gpu_fwd.c), called by the entry points above when st->gpu. */
int uzw_gpu_fwd_encode(const uzw_model *m, uzw_fwd_state *st);
int uzw_gpu_fwd_begin(const uzw_model *m, uzw_fwd_state *st);
int uzw_gpu_fwd_step(const uzw_model *m, uzw_fwd_state *st, const int32_t *tokens, int n);
int uzw_gpu_fwd_step_batch(const uzw_model *m, uzw_fwd_state *st, const int32_t *tokens, int B);
int uzw_gpu_fwd_logits_at(const uzw_model *m, uzw_fwd_state *st, int i, float *out);
int uzw_gpu_fwd_copy_slot(uzw_fwd_state *st, int from, int to);
#endif

#endif
