/*
 * gpu.h - the Whisper forward pass on the CUDA backend (kernels/): weights on the device in fp16
 * (LayerNorm parameters and biases fp32), an fp32 residual stream, an fp16 KV cache, and the same
 * operations as the CPU reference in engine/model (encoder.c, decoder.c), which it must match
 * within fp16 tolerance. Compiled with UZW_HAVE_CUDA only.
 *
 * INT8 models (docs/quantization.md): each INT8 matrix stays INT8 on the device ([O, I] + one f32
 * scale per row) and every product goes through uzw_gpu_matmul, which picks the kernel from what
 * the matrix holds: fp16 -> uzwk_gemm; INT8 -> uzwk_gemm_w8a16 (fp16 activations); INT8 marked a8
 * (W8A8: the encoder and the cross-attention K/V) -> uzwk_quantize_rows into the state's int8
 * scratch, then uzwk_gemm_w8a8. Convolutions, LayerNorms, biases and positions stay as before.
 *
 * Lifetimes: uzw_gpu_model (the weights, one device allocation) lives as long as the context that
 * uploaded it; uzw_gpu_state (activations and KV cache, two allocations sized from the dimensions
 * and the number of sequences) is rebuilt when the number of sequences grows.
 */
#ifndef UZW_GPU_H
#define UZW_GPU_H

#ifdef UZW_HAVE_CUDA

#include <stdint.h>

#include "k_attn.h"
#include "k_elem.h"
#include "k_gemm.h"
#include "k_mel.h"
#include "k_qgemm.h"
#include "k_select.h"
#include "uzwk.h"
#include "model/model.h"

/* Carving one allocation into 256-byte aligned pieces: the next piece of `bytes` at *off (moved
 * past it); NULL while base is NULL (the sizing pass). */
static inline void *uzw_gpu_carve(char *base, size_t *off, size_t bytes) {
    size_t o = (*off + 255) & ~(size_t)255;
    *off = o + bytes;
    return base ? base + o : NULL;
}

/* One weight matrix [O, I] on the device: fp16 (h), or INT8 (q) with one f32 scale per row (s),
 * w[o, i] = q[o, i] * s[o]; a8: products quantise their activations to int8 (W8A8). Row-major with
 * leading dimension I; stacked matrices (q|k|v, cross k|v) stack their scales the same way. */
typedef struct {
    const uzwk_f16 *h;  /* [O, I] f16, or NULL                   */
    const int8_t *q;    /* [O, I] int8, or NULL                  */
    const float *s;     /* [O] f32 scales (with q)               */
    int a8;             /* 1: W8A8 (with q)                      */
    int rows, cols;     /* O, I                                  */
} uzw_gpu_mat;

typedef struct {
    const float *attn_ln_w, *attn_ln_b;   /* [D] f32                                    */
    uzw_gpu_mat qkv_w;                    /* [3D, D]: q, k, v projections stacked       */
    const float *qkv_b;                   /* [3D]: q bias, zeros (k has none), v bias   */
    uzw_gpu_mat o_w; const float *o_b;    /* [D, D], [D]                                 */
    const float *xattn_ln_w, *xattn_ln_b; /* decoder only                               */
    uzw_gpu_mat xq_w; const float *xq_b;  /* [D, D], [D]                                 */
    uzw_gpu_mat xkv_w; const float *xkv_b;/* [2D, D]: cross k, v stacked; [2D]           */
    uzw_gpu_mat xo_w; const float *xo_b;  /* [D, D], [D]                                 */
    const float *mlp_ln_w, *mlp_ln_b;     /* [D]                                        */
    uzw_gpu_mat fc1_w; const float *fc1_b;/* [F, D], [F]                                 */
    uzw_gpu_mat fc2_w; const float *fc2_b;/* [D, F], [D]                                 */
} uzw_gpu_layer;

typedef struct uzw_gpu_model {
    uzw_dims dims;
    int quant;                   /* UZW_QUANT_NONE / W8A16 / W8A8 (model.h): what the source was */
    int any_a8;                  /* some matrix is W8A8: the state carves the int8 scratch       */
    void *arena;                 /* dev: every tensor below, 256-byte aligned */
    size_t arena_bytes;
    const uzwk_f16 *conv1_w;     /* [D, M*3] (Conv1d [D, M, 3] flattened) */
    const float *conv1_b;        /* [D] */
    const uzwk_f16 *conv2_w;     /* [D, D*3] */
    const float *conv2_b;        /* [D] */
    const float *enc_pos;        /* [A, D] f32 sinusoids */
    const float *ln_post_w, *ln_post_b; /* [D] */
    uzw_gpu_mat tok_emb;         /* [V, D], also the output projection */
    const uzwk_f16 *dec_pos;     /* [T, D] */
    const float *dec_ln_w, *dec_ln_b; /* [D] */
    const float *mel_filters;    /* [M, 201] f32 */
    const int32_t *suppress;      int n_suppress;       /* dev copies of the model's lists */
    const int32_t *suppress_begin; int n_suppress_begin;
    uzw_gpu_layer *enc, *dec;    /* host arrays [La], [Lt] of device pointers */
} uzw_gpu_model;

/* Upload a loaded model as fp16 matrices + fp32 vectors; an INT8 model's INT8 matrices as int8 +
 * f32 scales (a stacked matrix whose parts are not all INT8, e.g. one kept in f16 by
 * `quantize --keep`, is uploaded as fp16, its INT8 parts widened). 0 or -1 (err). */
int uzw_gpu_model_upload(uzwk_ctx *c, const uzw_model *m, uzw_gpu_model *g, char *err, size_t err_size);
/* Random weights at the shape d (for the shape benchmarks; no tokenizer, no suppress lists):
 * matrices uniform in +-1/sqrt(fan_in), LayerNorm weights near 1, biases small. quant
 * (UZW_QUANT_*): NONE gives fp16 matrices; W8A16 / W8A8 give INT8 matrices (q uniform in
 * [-127, 127], scales near 1/(127 sqrt(fan_in))), with the a8 marks of model_load.c's rule (W8A8:
 * the encoder's matrices and the cross K/V). 0 or -1. */
int uzw_gpu_model_random(uzwk_ctx *c, const uzw_dims *d, int quant, uint64_t seed, uzw_gpu_model *g, char *err,
                         size_t err_size);
void uzw_gpu_model_free(uzw_gpu_model *g);
/* Bytes of the device arena for the shape d (weights only) of a random model with this quant. */
size_t uzw_gpu_model_bytes(const uzw_dims *d, int quant);

typedef struct uzw_gpu_state {
    uzwk_ctx *c;
    const uzw_gpu_model *g;
    int n_seq_max;               /* S: sequences the KV cache holds */
    int n_rows_max;              /* rows of the decoder activations: max(S, T) */

    void *act;                   /* dev: one allocation for the activations below */
    float *mel;                  /* [M, 2A] f32: the window                                  */
    uzwk_f16 *cols;              /* [2A, max(M, D)*3] im2col                                  */
    uzwk_f16 *conv;              /* [2A, D] conv1 output, time-major                          */
    float *xe;                   /* [A, D] f32 encoder residual stream                        */
    uzwk_f16 *h;                 /* [max(A, rows), D] LayerNorm output                        */
    uzwk_f16 *qkv;               /* [max(A, rows), 3D]                                         */
    uzwk_f16 *att;               /* [max(A, rows), D]                                          */
    uzwk_f16 *ff;                /* [max(A, rows), F]                                          */
    float *x;                    /* [rows, D] f32 decoder residual stream                     */
    float *logits;               /* [max(S, 1), V] f32                                         */
    float *xqk;                  /* [rows, A] f32 alignment-head scores scratch               */
    int32_t *ibuf;               /* [8 * rows] int32: tokens, positions, slots, lengths, ...   */
    int8_t *xq;                  /* [xq_rows, xq_cols] int8 activations of W8A8 products, or NULL */
    float *xs;                   /* [xq_rows] their per-row scales                              */
    int xq_rows, xq_cols;        /* max(A, rows) and F when the model has W8A8 matrices; else 0 */

    void *kv;                    /* dev: one allocation for the caches below */
    uzwk_f16 *enc_out;           /* [A, D] encoder output (after ln_post)                      */
    uzwk_f16 *cross_kv;          /* [Lt, A, 2D] cross-attention keys | values per row          */
    uzwk_f16 *self_k, *self_v;   /* [Lt, S, T, D] physical slots                               */

    int32_t *h_ibuf;             /* host staging for ibuf [8 * rows] */
    uzwk_graph *step_graph[65];  /* captured single-token steps, by batch size (0: none yet) */
} uzw_gpu_state;

/* The regions of s->ibuf, each [n_rows_max] int32: the step's tokens, positions, slots and
 * self-attention lengths, then two constants set once at init (zeros: every sequence reads
 * window 0's cross K/V; A: the cross-attention length). */
enum { IB_TOKENS, IB_POS, IB_SLOT, IB_LEN, IB_ZERO, IB_ALEN, IB_SPARE0, IB_SPARE1 };
static inline int32_t *uzw_gpu_ibuf(const uzw_gpu_state *s, int region) {
    return s->ibuf + (size_t)region * s->n_rows_max;
}

/* Activations and caches for n_seq sequences. 0 or -1 (err). */
int uzw_gpu_state_init(uzw_gpu_state *s, uzwk_ctx *c, const uzw_gpu_model *g, int n_seq, char *err, size_t err_size);
void uzw_gpu_state_free(uzw_gpu_state *s);
/* Device bytes of a state; a8: the model has W8A8 matrices (uzw_gpu_model.any_a8). */
size_t uzw_gpu_state_bytes(const uzw_dims *d, int n_seq, int a8);

/* y[N, O] = epi(x[N, I] . W^T + bias) with whatever w holds (the header comment): every product
 * of the forward pass with a weight matrix goes through here. x: dev f16 [N, ldx]; bias: dev f32
 * [O] or NULL; y: dev [N, ldy] (f16 or f32 by epi). W8A8 needs N <= s->xq_rows and I <= s->xq_cols.
 * Graph-safe (kernel launches only). 0 or -1 (message in uzwk_error). */
int uzw_gpu_matmul(uzw_gpu_state *s, const uzwk_f16 *x, int ldx, const uzw_gpu_mat *w, const float *bias, void *y,
                   int ldy, int N, int I, int O, uzwk_epi epi);

/* Encoder: s->mel [M, 2A] (device) -> s->enc_out [A, D]. uzw_gpu_encode_host uploads the window
 * from the host first. 0 or -1 (message in uzwk_error). */
int uzw_gpu_encode(uzw_gpu_state *s);
int uzw_gpu_encode_host(uzw_gpu_state *s, const float *mel_win);
/* Cross-attention K/V of every decoder layer from enc_out. */
int uzw_gpu_decoder_begin(uzw_gpu_state *s);
/* Optional capture of the alignment heads' cross-attention scores during a prompt (word
 * timestamps): out [n_heads, rows, A] on the host, row = absolute position; positions >= rows
 * are not captured. heads: pairs (layer, head). */
typedef struct {
    const int32_t *heads;
    int n_heads;
    float *out;
    int rows;
    int p0;      /* absolute position of the prompt's first token */
} uzw_gpu_capture;

/* n consecutive tokens of the sequence in physical slot `slot` at positions p0 .. p0+n-1: append
 * their K/V, causal attention, leave the residual stream in s->x [n, D]. cap may be NULL. */
int uzw_gpu_decoder_prompt(uzw_gpu_state *s, const int32_t *tokens_host, int n, int p0, int slot,
                           const uzw_gpu_capture *cap);
/* Logits of rows row0 .. row0+n-1 of s->x into s->logits [n, V] (dev); n <= max(S, 4). */
int uzw_gpu_logits_rows(uzw_gpu_state *s, int row0, int n);
/* One token per sequence for B sequences, every input read from device memory:
 * tokens [B], positions [B] (the new token's position), slots [B]; logits into s->logits [B, V].
 * Graph-safe: launches depend only on B. */
int uzw_gpu_decoder_step_dev(uzw_gpu_state *s, const int32_t *tokens, const int32_t *positions,
                             const int32_t *slots, int B);
/* The same from the host: token b of physical slot slots_host[b], all at `position`. */
int uzw_gpu_decoder_step_host(uzw_gpu_state *s, const int32_t *tokens_host, const int *slots_host, int position,
                              int B);
/* Copy a physical slot's first n_past rows of every layer to another slot. */
int uzw_gpu_copy_slot(uzw_gpu_state *s, int from, int to, int n_past);
/* x[N, D] += fc2(GELU(fc1(LN(x)))) with the layer's MLP (encoder and decoder). */
int uzw_gpu_mlp_residual(uzw_gpu_state *s, const uzw_gpu_layer *L, float *x, int N);

/* Greedy decoding of B sequences on the device (token selection on the device; a captured graph
 * per step; only the chosen ids return). prompt: [n_prompt] shared by every sequence (decoded
 * once into slot 0 and copied). Up to max_new tokens each; rules as in k_select.h.
 * tokens_out [B, max_new] host, n_out [B], sum_logprob [B]. 0 or -1. */
typedef struct {
    int use_graph;              /* capture the step once per B and replay it */
    int fixed_tokens;           /* > 0: ignore EOT and decode exactly this many (benchmarks) */
} uzw_gpu_greedy_opts;
int uzw_gpu_greedy(uzw_gpu_state *s, const int32_t *prompt, int n_prompt, int B, int max_new,
                   const uzwk_select_rules *rules, const uzw_gpu_greedy_opts *o, int32_t *tokens_out, int *n_out,
                   float *sum_logprob);

#endif /* UZW_HAVE_CUDA */
#endif
