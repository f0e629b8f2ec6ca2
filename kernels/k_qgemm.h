/*
 * k_qgemm.h - INT8 matrix products of the forward pass (issue 6; kernels/cuda/qgemm_w8a16.cu,
 * qgemm_w8a8.cu, quant_rows.cu). Same product and epilogues as k_gemm.h, y[N,O] = x[N,I] . w[O,I]^T
 * (+ bias[O]), with the weights stored as INT8 with one f32 scale per output row:
 *   w[o, i] = W[o, i] * wscale[o],   W int8 [O, ldw] row-major (the PyTorch Linear layout), never -128.
 * The quantisation rules are engine/model/qmat.h's (docs/quantization.md); the CPU references are
 * uzw_matmul_w8a16_ref / uzw_matmul_w8a8_ref / uzw_quantize_row there.
 *
 *   W8A16  fp16 activations: the int8 weights become f16 in registers (|q| <= 127 is exact in f16),
 *          products on mma.sync m16n8k16 with fp32 accumulation, wscale applied once per output in
 *          the epilogue. N <= 32 (decode steps): a memory-bound kernel that streams W once with
 *          16-byte loads; N > 32: a tiled tensor-core kernel (cp.async pipeline).
 *   W8A8   int8 activations with one f32 scale per row (uzwk_quantize_rows): int32 accumulation on
 *          mma.sync m16n8k32 s8 (exact), y = epi(acc * xscale[n] * wscale[o] + bias[o]).
 *
 * Requirements (checked; a call that breaks one fails with a message and returns -1):
 *   N, I, O >= 1; ldx, ldq, ldw >= I; ldy >= O; I % 16 == 0; ldw % 16 == 0 and ldq % 16 == 0
 *   (int8 rows start on 16 bytes); ldx % 8 == 0 (fp16 rows start on 16 bytes); x, xq and W 16-byte
 *   aligned; y aligned to its element (2 bytes f16, 4 bytes f32); wscale, xscale, bias f32 aligned.
 *   W8A8 also needs I <= 131072, so that 127 * 127 * I fits the int32 accumulator.
 *   O and N are arbitrary (the vocabulary 51865 / 51866 included).
 * `variant` picks the launch configuration (registry "qgemm_w8a16_skinny" / "qgemm_w8a16_tc" /
 * "qgemm_w8a8"; 0 = the engine's). For W8A16 the same number indexes the skinny table when N <= 32
 * and the tensor-core table otherwise; both tables have UZWK_QGEMM_W8A16_VARIANTS entries.
 */
#ifndef UZWK_QGEMM_H
#define UZWK_QGEMM_H

#include "k_gemm.h"

#ifdef __cplusplus
extern "C" {
#endif

#define UZWK_QGEMM_W8A16_VARIANTS 3
#define UZWK_QGEMM_W8A8_VARIANTS 3

/* y[n, o] = epi( wscale[o] * sum_i x[n, i] * W[o, i] + bias[o] ).
 * x: dev f16 [N, ldx]; W: dev int8 [O, ldw]; wscale: dev f32 [O]; bias: dev f32 [O] or NULL;
 * y: dev [N, ldy], f16 (UZWK_EPI_F16, _F16_GELU) or f32 (UZWK_EPI_F32_ADD adds into it, _F32). */
int uzwk_gemm_w8a16(uzwk_ctx *c, const uzwk_f16 *x, int ldx, const int8_t *W, int ldw, const float *wscale,
                    const float *bias, void *y, int ldy, int N, int I, int O, uzwk_epi epi, int variant);

/* Per row n of x (dev f16 [N, ldx]): amax = max_i |x[n, i]|, xscale[n] = amax / 127,
 * xq[n, i] = clamp(round_half_even(x[n, i] * (amax > 0 ? 127 / amax : 0)), -127, 127) in IEEE f32
 * arithmetic: bit for bit uzw_quantize_row(offset 0). xq: dev int8 [N, ldq] (columns I .. ldq-1 are
 * not written); xscale: dev f32 [N]. Finite inputs (an inf or NaN row gives what the CPU rule gives
 * for it only by accident). */
int uzwk_quantize_rows(uzwk_ctx *c, const uzwk_f16 *x, int ldx, int8_t *xq, int ldq, float *xscale, int N, int I);

/* y[n, o] = epi( (float)(sum_i xq[n, i] * W[o, i]) * xscale[n] * wscale[o] + bias[o] ).
 * xq: dev int8 [N, ldq] and xscale: dev f32 [N] (from uzwk_quantize_rows; the caller owns them);
 * W, wscale, bias, y as uzwk_gemm_w8a16. */
int uzwk_gemm_w8a8(uzwk_ctx *c, const int8_t *xq, int ldq, const float *xscale, const int8_t *W, int ldw,
                   const float *wscale, const float *bias, void *y, int ldy, int N, int I, int O, uzwk_epi epi,
                   int variant);

#ifdef __cplusplus
}
#endif
#endif
