// gemm_common.cuh - what the matrix products share: the uzwk_gemm implementations (k_gemm.h: TC and
// the CUBLAS epilogue in gemm.cu, SKINNY in gemv.cu) and the INT8 ones (k_qgemm.h, through
// qgemm_common.cuh): the epilogue stores (so that every implementation rounds the same), the
// bounds-checked 8-half load, the operand bundle, and the SKINNY kernels' row pointers and
// cross-warp reduction (gemv.cu, qgemm_w8a16.cu).
#ifndef UZWK_GEMM_COMMON_CUH
#define UZWK_GEMM_COMMON_CUH

#include <cuda_fp16.h>
#include <stdint.h>

#include "k_gemm.h"

/* GELU with the exact erf. */
static __device__ __forceinline__ float gelu_erf(float v) {
    return 0.5f * v * (1.0f + erff(v * 0.70710678118654752f));
}

/* y[idx] <- v (already acc + bias) through the epilogue epi (a uzwk_epi). */
static __device__ __forceinline__ void epi_store1(void *y, size_t idx, float v, int epi) {
    switch (epi) {
    case UZWK_EPI_F16: static_cast<__half *>(y)[idx] = __float2half_rn(v); break;
    case UZWK_EPI_F16_GELU: static_cast<__half *>(y)[idx] = __float2half_rn(gelu_erf(v)); break;
    case UZWK_EPI_F32_ADD: static_cast<float *>(y)[idx] += v; break;
    default: static_cast<float *>(y)[idx] = v; break;
    }
}

/* y[idx], y[idx+1] <- v0, v1; idx even, y and ldy such that the pair is 4 (f16) / 8 (f32) aligned. */
static __device__ __forceinline__ void epi_store2(void *y, size_t idx, float v0, float v1, int epi) {
    switch (epi) {
    case UZWK_EPI_F16:
        *reinterpret_cast<__half2 *>(static_cast<__half *>(y) + idx) = __floats2half2_rn(v0, v1);
        break;
    case UZWK_EPI_F16_GELU:
        *reinterpret_cast<__half2 *>(static_cast<__half *>(y) + idx) = __floats2half2_rn(gelu_erf(v0), gelu_erf(v1));
        break;
    case UZWK_EPI_F32_ADD: {
        float2 *p = reinterpret_cast<float2 *>(static_cast<float *>(y) + idx);
        float2 o = *p;
        o.x += v0;
        o.y += v1;
        *p = o;
        break;
    }
    default: *reinterpret_cast<float2 *>(static_cast<float *>(y) + idx) = make_float2(v0, v1); break;
    }
}

/* y[idx] <- v0 and, when two, y[idx+1] <- v1 (final values): one 2-element store when vec (the
 * pair aligned as epi_store2 needs), else element by element. */
static __device__ __forceinline__ void epi_store_pair(void *y, size_t idx, float v0, float v1, bool two, int vec,
                                                      int epi) {
    if (two && vec) {
        epi_store2(y, idx, v0, v1, epi);
    } else {
        epi_store1(y, idx, v0, epi);
        if (two) epi_store1(y, idx + 1, v1, epi);
    }
}

/* The A fragments (mma m16n8k16 f16 or m16n8k32 s8: registers a0..a3 = row g low k, row g+8 low k,
 * row g high k, row g+8 high k) of two consecutive k-steps from 16 bytes of row g (lo) and of row
 * g+8 (hi): a0 from words 0-1 of each, a1 from words 2-3. */
static __device__ __forceinline__ void rows_to_a_frags(const uint4 &lo, const uint4 &hi, uint32_t (&a0)[4],
                                                       uint32_t (&a1)[4]) {
    a0[0] = lo.x;
    a0[1] = hi.x;
    a0[2] = lo.y;
    a0[3] = hi.y;
    a1[0] = lo.z;
    a1[1] = hi.z;
    a1[2] = lo.w;
    a1[3] = hi.w;
}

/* Halves row[k .. k+7] with the ones at or past I read as 0; any alignment. */
static __device__ __forceinline__ uint4 load8_scalar(const __half *row, int k, int I) {
    const unsigned short *p = reinterpret_cast<const unsigned short *>(row);
    uint32_t w[4];
#pragma unroll
    for (int e = 0; e < 4; e++) {
        uint32_t lo = (k + 2 * e < I) ? __ldg(p + k + 2 * e) : 0u;
        uint32_t hi = (k + 2 * e + 1 < I) ? __ldg(p + k + 2 * e + 1) : 0u;
        w[e] = lo | (hi << 16);
    }
    return make_uint4(w[0], w[1], w[2], w[3]);
}

/* One product's operands, as the launch functions pass them on. */
struct gemm_args {
    const __half *x; /* dev [N, ldx] */
    int ldx;
    const __half *W; /* dev [O, ldw] */
    int ldw;
    const float *bias; /* dev [O] or NULL */
    void *y;           /* dev [N, ldy] f16 or f32 (epi) */
    int ldy, N, I, O;
    int epi;
};

/* Bytes per element of y under epilogue epi. */
static inline size_t epi_esize(int epi) { return epi == UZWK_EPI_F32_ADD || epi == UZWK_EPI_F32 ? 4 : 2; }

/* 2-element vector stores at even columns (epi_store_pair's vec): ldy even and y aligned to two
 * elements. */
static inline int epi_vec_ok(const void *y, int ldy, int epi) {
    return ldy % 2 == 0 && (uintptr_t)y % (2 * epi_esize(epi)) == 0;
}

/* ---------------------------------------------------------------- SKINNY building blocks
 * The SKINNY kernels (gemv.cu: fp16 W; qgemm_w8a16.cu: int8 W) compute y^T = W . x^T for N <= 32
 * with m16n8 mma: a block owns RB = 16*MT outputs o (rows of W), lane (g = lane/4, t = lane%4)
 * loads W rows o0 + 16mt + g and + 8, and x rows 8nt + g; the WARPS warps split I, and their
 * partial sums meet in shared memory. */

/* W rows o0 + 16mt + g (wrow[mt][0]) and + 8 (wrow[mt][1]), NULL past O; x rows 8nt + g (xrow[nt]),
 * NULL past N. */
template <int MT, int NT, typename TW>
static __device__ __forceinline__ void skinny_rows(const TW *W, int ldw, int O, int o0, const __half *x, int ldx, int N,
                                                   int g, const TW *(&wrow)[MT][2], const __half *(&xrow)[NT]) {
#pragma unroll
    for (int mt = 0; mt < MT; mt++)
#pragma unroll
        for (int h = 0; h < 2; h++) {
            const int o = o0 + mt * 16 + h * 8 + g;
            wrow[mt][h] = o < O ? W + (size_t)o * ldw : nullptr;
        }
#pragma unroll
    for (int nt = 0; nt < NT; nt++) {
        const int n = nt * 8 + g;
        xrow[nt] = n < N ? x + (size_t)n * ldx : nullptr;
    }
}

/* The main loop over the nch chunks of I: warp w takes chunks w, w + WARPS, ...; per step U chunks
 * c, first load_w(wv[u], c) for all U (the W loads in flight together), then compute(wv[u], c). WV:
 * the type of one chunk's W registers (an array type). */
template <int U, int WARPS, typename WV, typename LoadW, typename Compute>
static __device__ __forceinline__ void skinny_mainloop(int warp, int nch, LoadW &&load_w, Compute &&compute) {
    for (int c0 = warp; c0 < nch; c0 += WARPS * U) {
        WV wv[U];
#pragma unroll
        for (int u = 0; u < U; u++) load_w(wv[u], c0 + u * WARPS);
#pragma unroll
        for (int u = 0; u < U; u++) compute(wv[u], c0 + u * WARPS);
    }
}

/* The block's end: each warp's partial y^T (acc: MT x NT m16n8 fragments, fragment rows = outputs
 * o0 + 16mt + .., columns = rows of x 8nt + ..) to shared memory, then, consecutive threads on
 * consecutive o, the sum over the warps in warp order (deterministic) of each of the block's
 * outputs with n < N and o < O, handed to out(n, o, sum). Shared: red [WARPS][8*NT][RS] floats,
 * RS = RB + 4 so that the fragment stores (2t*RS + g) hit 32 distinct banks. */
template <int MT, int NT, int WARPS, typename Out>
static __device__ __forceinline__ void skinny_reduce(const float (&acc)[MT][NT][4], int tid, int o0, int N, int O,
                                                     Out &&out) {
    constexpr int RB = MT * 16; /* output rows (o) per block */
    constexpr int NC = NT * 8;  /* rows of x covered */
    constexpr int RS = RB + 4;
    __shared__ float red[WARPS * NC * RS]; /* [WARPS][NC][RS]: partial y^T per warp, n-major */
    const int lane = tid & 31, warp = tid >> 5;
    const int g = lane >> 2, t = lane & 3;
    float *mine = red + warp * NC * RS; /* mine[n][r], r = output row in the block, n = row of x */
#pragma unroll
    for (int mt = 0; mt < MT; mt++)
#pragma unroll
        for (int nt = 0; nt < NT; nt++) {
            const int r = mt * 16 + g, n = nt * 8 + 2 * t;
            mine[n * RS + r] = acc[mt][nt][0];
            mine[(n + 1) * RS + r] = acc[mt][nt][1];
            mine[n * RS + r + 8] = acc[mt][nt][2];
            mine[(n + 1) * RS + r + 8] = acc[mt][nt][3];
        }
    __syncthreads();
    for (int e = tid; e < RB * NC; e += WARPS * 32) {
        const int r = e % RB, n = e / RB;
        const int o = o0 + r;
        if (n >= N || o >= O) continue;
        float s = 0.0f;
#pragma unroll
        for (int w = 0; w < WARPS; w++) s += red[w * NC * RS + n * RS + r];
        out(n, o, s);
    }
}

#endif
