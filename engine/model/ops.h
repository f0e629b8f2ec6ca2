/*
 * ops.h - the CPU operations of the Whisper forward pass. Each exists twice with one signature:
 * uzw_<op> (the fast path: OpenBLAS sgemm where there is a matmul) and uzw_<op>_ref (plain loops,
 * the oracle that tests and later CUDA kernels are checked against).
 */
#ifndef UZW_OPS_H
#define UZW_OPS_H

#include <stddef.h>

/* y[N,O] = x[N,I] . W[O,I]^T + b[O] (b may be NULL). */
void uzw_linear(const float *x, const float *W, const float *b, float *y, int N, int In, int Out);
void uzw_linear_ref(const float *x, const float *W, const float *b, float *y, int N, int In, int Out);

/* y[N,D] = LayerNorm(x[N,D]) * w + b, eps 1e-5, statistics in double. y may equal x. */
void uzw_layernorm(const float *x, const float *w, const float *b, float *y, int N, int D);

/* x[n] = GELU(x) with the exact erf form. */
void uzw_gelu(float *x, size_t n);

/* Conv1d with kernel 3, zero padding 1: x[Ci,Ti], W[Co,Ci,3], b[Co] -> y[Co,To],
 * To = (Ti + 2 - 3) / stride + 1. cols: scratch of Ci*3*To floats (im2col). */
void uzw_conv1d_k3(const float *x, const float *W, const float *b, float *y, int Ci, int Ti, int Co, int stride,
                   float *cols);
void uzw_conv1d_k3_ref(const float *x, const float *W, const float *b, float *y, int Ci, int Ti, int Co, int stride);
static inline int uzw_conv1d_k3_out(int Ti, int stride) { return (Ti + 2 - 3) / stride + 1; }

/* Multi-head attention: q[Nq, ldq], k[Nk, ldk], v[Nk, ldk] with H heads of Dh columns each
 * (head h owns columns [h*Dh, (h+1)*Dh)); out[Nq, H*Dh]. Scale 1/sqrt(Dh). With causal = 1, query i
 * (absolute position q_offset + i) sees keys 0 .. q_offset + i. scores: scratch of Nq*Nk floats, or
 * H*Nq*Nk when Nq <= UZW_ATTN_FEW_QUERIES (decode steps: heads run in parallel, each on its own rows).
 * Softmax in f32 with max subtraction. */
#define UZW_ATTN_FEW_QUERIES 4
void uzw_attention(const float *q, int ldq, const float *k, const float *v, int ldk, float *out, int Nq, int Nk,
                   int H, int Dh, int causal, int q_offset, float *scores);
void uzw_attention_ref(const float *q, int ldq, const float *k, const float *v, int ldk, float *out, int Nq, int Nk,
                       int H, int Dh, int causal, int q_offset);

/* x[n] += y[n] */
void uzw_add(float *x, const float *y, size_t n);

/* Set the number of threads the matmuls use (0: all cores). */
void uzw_ops_set_threads(int n);

#endif
