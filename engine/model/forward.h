/*
 * forward.h - the CPU reference forward pass of Whisper: encoder over one 30 s window, decoder
 * steps over a self-attention KV cache with cross-attention K/V computed once per window.
 * Two allocations per state, sized from the model dimensions up front: activations and KV cache.
 */
#ifndef UZW_FORWARD_H
#define UZW_FORWARD_H

#include <stdint.h>

#include "model/model.h"

typedef struct {
    float *act;          /* activations: one allocation, sliced below */
    float *mel_win;      /* [M, 2A]   the window the encoder reads (2A = 3000 frames) */
    float *conv_a;       /* [D, 2A]   conv1 output                                   */
    float *cols;         /* [max(M,D)*3, 2A] im2col scratch                          */
    float *enc_out;      /* [A, D]    encoder residual stream, then its final output */
    float *h;            /* [A, D]    LayerNorm output (decoder uses the first T rows)*/
    float *q, *k, *v;    /* [A, D]                                                    */
    float *att;          /* [A, D]                                                    */
    float *ff;           /* [A, F]                                                    */
    float *scores;       /* [A, A] (or [H, 4, A] on decode steps, if larger)          */
    float *x;            /* [T, D]    decoder residual stream                         */
    float *logits;       /* [V]       logits of the last decoded position             */
    float *logits2;      /* [V]       logits of another position (e.g. SOT, for no-speech) */

    float *kv;           /* KV cache: one allocation */
    float *self_k, *self_v;   /* [Lt, T, D] */
    float *cross_k, *cross_v; /* [Lt, A, D] */
    int n_past;               /* tokens in the self-attention cache */
} uzw_fwd_state;

int uzw_fwd_init(uzw_fwd_state *st, const uzw_model *m, char *err, size_t err_size);
/* The MLP half of a pre-LN block, shared by encoder and decoder: x[N,D] += fc2(GELU(fc1(LN(x)))). */
void uzw_mlp_residual(const uzw_layer *L, uzw_fwd_state *st, float *x, int N, int D);
void uzw_fwd_free(uzw_fwd_state *st);

/* Encode st->mel_win [M, 2A] into st->enc_out [A, D]. */
void uzw_encode(const uzw_model *m, uzw_fwd_state *st);
/* Compute the cross-attention K/V of every decoder layer from st->enc_out and empty the cache. */
void uzw_decoder_begin(const uzw_model *m, uzw_fwd_state *st);
/* Empty the self-attention cache only (keeps cross K/V). */
static inline void uzw_decoder_reset(uzw_fwd_state *st) { st->n_past = 0; }
/* Run n tokens at positions n_past .. n_past+n-1, append their K/V to the cache, and leave the
 * logits of the last one in st->logits [V]. Returns 0, or -1 if the context would overflow T. */
int uzw_decoder_step(const uzw_model *m, uzw_fwd_state *st, const int32_t *tokens, int n);
/* After a step of n tokens: the logits of its position i (0 <= i < n) into out [V]. Valid only
 * until the next step (it reads the step's residual stream). */
void uzw_decoder_logits_at(const uzw_model *m, uzw_fwd_state *st, int i, float *out);

#endif
