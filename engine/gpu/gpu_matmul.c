/* gpu_matmul.c - the one entry of the forward pass's products with a weight matrix
 * (uzw_gpu_matmul, gpu.h): the kernel follows what the matrix holds on the device.
 *   fp16                 uzwk_gemm (AUTO: skinny for N <= 32, else the faster of TC / cuBLAS)
 *   INT8                 uzwk_gemm_w8a16: fp16 activations, int8 weights widened in registers
 *   INT8, a8 (W8A8)      uzwk_quantize_rows of x into the state's int8 scratch (one scale per row,
 *                        the CPU's uzw_quantize_row rule), then uzwk_gemm_w8a8 (int32 accumulation)
 * The epilogue (bias, GELU, f32 residual add, f32 logits) is the kernel's in every case. */
#ifdef UZW_HAVE_CUDA

#include "gpu/gpu.h"

int uzw_gpu_matmul(uzw_gpu_state *s, const uzwk_f16 *x, int ldx, const uzw_gpu_mat *w, const float *bias, void *y,
                   int ldy, int N, int I, int O, uzwk_epi epi) {
    uzwk_ctx *c = s->c;
    if (w->rows != O || w->cols != I)
        return uzwk_fail(c, "gpu matmul: a [%d, %d] matrix used as [%d, %d]", w->rows, w->cols, O, I);
    if (w->h) return uzwk_gemm(c, x, ldx, w->h, I, bias, y, ldy, N, I, O, epi, UZWK_GEMM_AUTO, 0);
    if (!w->q || !w->s) return uzwk_fail(c, "gpu matmul: a [%d, %d] matrix without weights", O, I);
    if (!w->a8) return uzwk_gemm_w8a16(c, x, ldx, w->q, I, w->s, bias, y, ldy, N, I, O, epi, 0);
    if (!s->xq || N > s->xq_rows || I > s->xq_cols)
        return uzwk_fail(c, "gpu matmul: W8A8 product of %d x %d activations, int8 scratch %d x %d", N, I, s->xq_rows,
                         s->xq_cols);
    /* xq [N, I] int8 (ldq = I), xs [N] */
    if (uzwk_quantize_rows(c, x, ldx, s->xq, I, s->xs, N, I)) return -1;
    return uzwk_gemm_w8a8(c, s->xq, I, s->xs, w->q, I, w->s, bias, y, ldy, N, I, O, epi, 0);
}

#endif /* UZW_HAVE_CUDA */
