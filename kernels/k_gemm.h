/*
 * k_gemm.h - matrix products of the forward pass (kernels/cuda/gemm.cu, gemv.cu, conv.cu).
 * y[N,O] = x[N,I] . W[O,I]^T (+ bias[O]), then an epilogue; x and W fp16 row-major (W is the
 * PyTorch Linear layout), accumulation fp32. Three implementations with one signature:
 *   CUBLAS  cublasGemmEx (fp16 in, fp32 compute) into an fp16/fp32 temporary, then the epilogue as
 *           a separate kernel: the baseline;
 *   TC      our tensor-core kernel (mma.sync m16n8k16) with the epilogue fused;
 *   SKINNY  our kernel for few rows (N <= 32, the decode steps): memory-bound, reads W once with
 *           16-byte loads and keeps the N rows of x in shared memory.
 * CPU reference: uzw_linear_ref on the fp16 values widened to f32.
 */
#ifndef UZWK_GEMM_H
#define UZWK_GEMM_H

#include "uzwk.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    UZWK_EPI_F16 = 0,   /* y f16 [N, ldy] = acc + bias                          */
    UZWK_EPI_F16_GELU,  /* y f16 = GELU(acc + bias), exact erf                  */
    UZWK_EPI_F32_ADD,   /* y f32 += acc + bias (into the fp32 residual stream)  */
    UZWK_EPI_F32        /* y f32 = acc + bias (logits)                          */
} uzwk_epi;

typedef enum { UZWK_GEMM_AUTO = 0, UZWK_GEMM_CUBLAS, UZWK_GEMM_TC, UZWK_GEMM_SKINNY } uzwk_gemm_impl;

/* bias: dev f32 [O] or NULL. ldx, ldw >= I; ldy >= O. AUTO picks SKINNY for N <= 32 and the
 * faster of CUBLAS/TC otherwise (the choice and its measurements: docs/kernels.md). `variant`
 * selects the tile configuration of TC / the rows-per-block of SKINNY (registry). */
int uzwk_gemm(uzwk_ctx *c, const uzwk_f16 *x, int ldx, const uzwk_f16 *W, int ldw, const float *bias, void *y,
              int ldy, int N, int I, int O, uzwk_epi epi, uzwk_gemm_impl impl, int variant);

/* im2col for Conv1d(kernel 3, zero padding 1, stride s): cols[To, Ci*3] f16 with
 * cols[t, ci*3 + k] = x(ci, t*s + k - 1) (0 outside 0..Ti-1), To = (Ti - 1) / s + 1, so that the
 * conv is uzwk_gemm(cols, W viewed as [Co, Ci*3]). x is either channel-major f32 [Ci, Ti] (the
 * log-mel; x_f32 = 1) or time-major f16 [Ti, Ci] (conv1's output; x_f32 = 0). */
int uzwk_im2col_k3(uzwk_ctx *c, const void *x, int x_f32, uzwk_f16 *cols, int Ci, int Ti, int stride);

#ifdef __cplusplus
}
#endif
#endif
