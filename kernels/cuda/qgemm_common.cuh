// qgemm_common.cuh - what the INT8 products (k_qgemm.h: qgemm_w8a16.cu, qgemm_w8a8.cu) share: the
// exact int8 -> f16 widening in registers, the m16n8k32 s8 mma.sync wrapper, the streamed 16-byte
// load, the scaled epilogue store of an accumulator pair, the int8 tile layout, and the host-side
// argument checks. The fp16 product's helpers (epi_store1/2, epi_store_pair, epi_vec_ok, gelu_erf,
// epi_esize, the SKINNY building blocks: gemm_common.cuh; cp.async, mma16816: mma_ptx.cuh; the
// tiled main loop and epilogue walk: pipeline.cuh) are used as they are, so both products round
// their outputs the same way.
//
// mma.sync m16n8k32 .s8 fragments (PTX ISA "Matrix Fragments for mma.m16n8k32"; g = lane/4,
// t = lane%4; each register holds 4 consecutive k as bytes, lowest k in the lowest byte):
//   A (16x32, row)  a0 = A[g][4t..4t+3]  a1 = A[g+8][4t..]  a2 = A[g][16+4t..]  a3 = A[g+8][16+4t..]
//   B (32x8,  col)  b0 = B[4t..4t+3][g]  b1 = B[16+4t..16+4t+3][g]
//   C (16x8,  s32)  c0,c1 = C[g][2t], C[g][2t+1]   c2,c3 = C[g+8][2t], C[g+8][2t+1]
#ifndef UZWK_QGEMM_COMMON_CUH
#define UZWK_QGEMM_COMMON_CUH

#include <cuda_fp16.h>
#include <stdint.h>

#include "gemm_common.cuh"
#include "k_qgemm.h"
#include "mma_ptx.cuh"
#include "pipeline.cuh"

/* ---------------------------------------------------------------- device helpers */

/* Four int8 (one 32-bit word, byte 0 lowest) -> two f16x2, exactly: lo = (byte 0, byte 1),
 * hi = (byte 2, byte 3), the lower byte in the lower half. q + 128 (flipping the sign bit) is an
 * unsigned byte u; the half with bits 0x64 in the high byte and u in the low byte is 1024 + u
 * (f16 has unit spacing in [1024, 2048)); subtracting 1152 = 1024 + 128 leaves q, exactly, since
 * every value involved is a small integer. 5 instructions per 4 weights, no int -> float cvt. */
static __device__ __forceinline__ void i8x4_to_f16x2(uint32_t w, uint32_t &lo, uint32_t &hi) {
    const uint32_t u = w ^ 0x80808080u;
    const uint32_t l = __byte_perm(u, 0x64646464u, 0x4140u); /* u0, 0x64, u1, 0x64 */
    const uint32_t h = __byte_perm(u, 0x64646464u, 0x4342u); /* u2, 0x64, u3, 0x64 */
    const uint32_t bias = 0x64806480u;                       /* f16x2 (1152, 1152) */
    asm("sub.rn.f16x2 %0, %1, %2;\n" : "=r"(lo) : "r"(l), "r"(bias));
    asm("sub.rn.f16x2 %0, %1, %2;\n" : "=r"(hi) : "r"(h), "r"(bias));
}

/* Word j (0..3, a compile-time constant after unrolling) of a 16-byte vector. */
static __device__ __forceinline__ uint32_t u4_word(const uint4 &v, int j) {
    return j == 0 ? v.x : j == 1 ? v.y : j == 2 ? v.z : v.w;
}

/* d += A(16x32 s8, row) . B(32x8 s8, col), int32 accumulate (exact: |sum| < 2^31 is the caller's
 * bound, 127 * 127 * I with I <= 131072). */
static __device__ __forceinline__ void mma16832_s8(int (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
    asm("mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
        "{%0, %1, %2, %3};\n"
        : "+r"(d[0]), "+r"(d[1]), "+r"(d[2]), "+r"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

/* 16 bytes read once (weights): not kept in L1. p 16-byte aligned. */
static __device__ __forceinline__ uint4 ld_stream16_i8(const int8_t *p) {
    uint4 v;
    asm("ld.global.nc.L1::no_allocate.v4.u32 {%0,%1,%2,%3}, [%4];\n"
        : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
        : "l"(p));
    return v;
}

/* Output (row, col) and (row, col+1), col even, from accumulators a0, a1:
 * v = a * rs * wscale[col] + bias[col] (rs = the row's activation scale, 1 for W8A16), then the
 * epilogue. Nothing outside N x O is read or written. vec: y and ldy allow 2-element stores. */
static __device__ __forceinline__ void q_store_pair(void *y, int ldy, int N, int O, int row, int col, float a0,
                                                    float a1, float rs, const float *__restrict__ wscale,
                                                    const float *__restrict__ bias, int epi, int vec) {
    if (row >= N || col >= O) return;
    const bool two = col + 1 < O;
    const float v0 = fmaf(a0 * rs, __ldg(wscale + col), bias ? __ldg(bias + col) : 0.0f);
    const float v1 = two ? fmaf(a1 * rs, __ldg(wscale + col + 1), bias ? __ldg(bias + col + 1) : 0.0f) : 0.0f;
    epi_store_pair(y, (size_t)row * ldy + col, v0, v1, two, vec, epi);
}

/* Columns of I per k-tile of both TC kernels (W8A16: 64 halves of x, 64 bytes of W; W8A8: 64 bytes
 * of each). */
constexpr int QBK = 64;

/* Element offset of 16-byte chunk c of row r in an unswizzled int8 tile [rows][QBK] (cp_async_tile's
 * off; header of qgemm_w8a8.cu for the banks). */
struct i8_tile_off {
    __device__ __forceinline__ int operator()(int r, int c) const { return r * QBK + c * 16; }
};

/* The lane's (g = lane/4, t = lane%4) B slices of a warp tile's W in an int8 tile [rows][QBK]:
 * b[j] = bytes 16t .. 16t+15 of row wcol + 8j + g (one 16-byte shared load each; banks: header of
 * qgemm_w8a8.cu). */
template <int NI>
static __device__ __forceinline__ void lds_w_slices(uint4 (&b)[NI], const int8_t *sW, int wcol, int g, int t) {
#pragma unroll
    for (int j = 0; j < NI; j++) b[j] = *reinterpret_cast<const uint4 *>(sW + (wcol + j * 8 + g) * QBK + t * 16);
}

/* ---------------------------------------------------------------- host helpers */

/* The requirements of k_qgemm.h for one product; x_esize = 2 (f16 x) or 1 (int8 xq). 0 or -1 with
 * the first broken rule in the context. */
static inline int qgemm_check_args(uzwk_ctx *c, const char *fn, const void *x, int ldx, int x_esize, const int8_t *W,
                                   int ldw, const float *wscale, const float *bias, const void *y, int ldy, int N, int I,
                                   int O, int epi) {
    if (N < 1 || I < 1 || O < 1)
        return uzwk_fail(c, "%s: N=%d I=%d O=%d: every dimension must be >= 1", fn, N, I, O);
    if (ldx < I || ldw < I || ldy < O)
        return uzwk_fail(c, "%s: leading dimensions ld%s=%d ldw=%d ldy=%d below I=%d / O=%d", fn,
                         x_esize == 1 ? "q" : "x", ldx, ldw, ldy, I, O);
    if (epi < 0 || epi > (int)UZWK_EPI_F32) return uzwk_fail(c, "%s: unknown epilogue %d", fn, epi);
    if (!x || !W || !wscale || !y) return uzwk_fail(c, "%s: NULL operand (x, W, wscale and y are required)", fn);
    if (I % 16 != 0) return uzwk_fail(c, "%s: I=%d is not a multiple of 16", fn, I);
    if (ldw % 16 != 0) return uzwk_fail(c, "%s: ldw=%d is not a multiple of 16", fn, ldw);
    if (((size_t)ldx * (size_t)x_esize) % 16 != 0)
        return uzwk_fail(c, "%s: ld%s=%d: rows of the activations must start on 16 bytes (a multiple of %d)", fn,
                         x_esize == 1 ? "q" : "x", ldx, 16 / x_esize);
    if ((uintptr_t)x % 16 != 0 || (uintptr_t)W % 16 != 0)
        return uzwk_fail(c, "%s: activations and W must be 16-byte aligned (%p, %p)", fn, x, (const void *)W);
    if ((uintptr_t)y % epi_esize(epi) != 0 || (uintptr_t)wscale % 4 != 0 || (uintptr_t)bias % 4 != 0)
        return uzwk_fail(c, "%s: y, wscale or bias not aligned to its element", fn);
    return 0;
}

#endif
