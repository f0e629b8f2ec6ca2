// gemm_common.cuh - what the uzwk_gemm implementations (k_gemm.h) share: TC and the CUBLAS
// epilogue (gemm.cu) and SKINNY (gemv.cu): the epilogue store (so that every implementation rounds
// the same), the bounds-checked 8-half load and the operand bundle.
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

#endif
