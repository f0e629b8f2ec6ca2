// quant_rows.cu - uzwk_quantize_rows (k_qgemm.h): the dynamic per-row INT8 quantisation of fp16
// activations that feeds uzwk_gemm_w8a8, bit for bit engine/model/qmat_ref.c's uzw_quantize_row
// (offset 0):
//   amax = max_i |x[i]| (f32, exact: the inputs are f16), xscale = amax / 127 (IEEE division),
//   inv = amax > 0 ? 127 / amax : 0 (IEEE division), q[i] = clamp(rint(x[i] * inv), -127, 127)
//   with one IEEE f32 multiply and round-half-even (__fdiv_rn, __fmul_rn, __float2int_rn: nothing
//   the compiler may contract or approximate). The maximum is order-free, so the parallel
//   reduction gives exactly the sequential result; like the CPU loop's `fabsf(v) > amax` test it
//   never lets a NaN in.
// One warp per row, 8 rows per 256-thread block: each lane reads 16-byte pieces (8 halves) of the
// row, four in flight, for the maximum (warp shuffle reduction), then reads them again (L1 hits:
// the row was just read by the same warp) and writes 8 int8 per piece with one 8-byte store.
// Memory-bound: N*I*2 bytes read from DRAM once, N*I + 4N written.
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <stdint.h>

#include "cuda_check.cuh"
#include "k_qgemm.h"

namespace {

constexpr int QR_ROWS = 8; /* rows (warps) per block */
constexpr int QR_UNROLL = 4;

/* max(m, |each of the 8 halves of v|), skipping NaN as the CPU rule does. */
__device__ __forceinline__ float absmax8(const uint4 &v, float m) {
    const uint32_t w[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
    for (int e = 0; e < 4; e++) {
        const float2 f = __half22float2(*reinterpret_cast<const __half2 *>(&w[e]));
        const float a = fabsf(f.x), b = fabsf(f.y);
        m = a > m ? a : m;
        m = b > m ? b : m;
    }
    return m;
}

/* One value: clamp(rint(v * inv), -127, 127) as a byte. */
__device__ __forceinline__ uint32_t q8_byte(float v, float inv) {
    int q = __float2int_rn(__fmul_rn(v, inv));
    q = q > 127 ? 127 : q < -127 ? -127 : q;
    return (uint32_t)q & 0xFFu;
}

/* The 8 halves of v as 8 int8, lowest column in the lowest byte. */
__device__ __forceinline__ uint2 quant8(const uint4 &v, float inv) {
    const uint32_t w[4] = {v.x, v.y, v.z, v.w};
    uint32_t o[2] = {0u, 0u};
#pragma unroll
    for (int e = 0; e < 4; e++) {
        const float2 f = __half22float2(*reinterpret_cast<const __half2 *>(&w[e]));
        o[e >> 1] |= (q8_byte(f.x, inv) | (q8_byte(f.y, inv) << 8)) << ((e & 1) * 16);
    }
    return make_uint2(o[0], o[1]);
}

__global__ void __launch_bounds__(QR_ROWS * 32)
    quantize_rows_kernel(const __half *__restrict__ x, /* dev [N, ldx] */
                         int ldx, int8_t *__restrict__ xq, /* dev [N, ldq] */
                         int ldq, float *__restrict__ xscale, /* dev [N] */
                         int N, int I) {
    const int lane = threadIdx.x & 31;
    const int n = blockIdx.x * QR_ROWS + (threadIdx.x >> 5);
    if (n >= N) return; /* whole warps: no barrier below, shuffles stay within the warp */
    const __half *xr = x + (size_t)n * ldx;
    const int np = I >> 3; /* 8-half pieces (I % 16 == 0) */

    float amax = 0.0f;
    for (int p0 = lane; p0 < np; p0 += 32 * QR_UNROLL) {
        uint4 v[QR_UNROLL];
#pragma unroll
        for (int u = 0; u < QR_UNROLL; u++) {
            const int p = p0 + u * 32;
            v[u] = p < np ? __ldg(reinterpret_cast<const uint4 *>(xr) + p) : make_uint4(0u, 0u, 0u, 0u);
        }
#pragma unroll
        for (int u = 0; u < QR_UNROLL; u++) amax = absmax8(v[u], amax);
    }
#pragma unroll
    for (int off = 16; off > 0; off >>= 1) {
        const float o = __shfl_xor_sync(0xffffffffu, amax, off);
        amax = o > amax ? o : amax;
    }

    const float inv = amax > 0.0f ? __fdiv_rn(127.0f, amax) : 0.0f;
    if (lane == 0) xscale[n] = __fdiv_rn(amax, 127.0f);
    int8_t *qr = xq + (size_t)n * ldq;
    for (int p = lane; p < np; p += 32) {
        const uint4 v = __ldg(reinterpret_cast<const uint4 *>(xr) + p);
        *reinterpret_cast<uint2 *>(qr + 8 * p) = quant8(v, inv);
    }
}

} // namespace

extern "C" int uzwk_quantize_rows(uzwk_ctx *c, const uzwk_f16 *x, int ldx, int8_t *xq, int ldq, float *xscale, int N,
                                  int I) {
    if (!c) return -1;
    if (N < 1 || I < 1) return uzwk_fail(c, "uzwk_quantize_rows: N=%d I=%d: both must be >= 1", N, I);
    if (ldx < I || ldq < I) return uzwk_fail(c, "uzwk_quantize_rows: ldx=%d ldq=%d below I=%d", ldx, ldq, I);
    if (!x || !xq || !xscale) return uzwk_fail(c, "uzwk_quantize_rows: NULL operand");
    if (I % 16 != 0) return uzwk_fail(c, "uzwk_quantize_rows: I=%d is not a multiple of 16", I);
    if (ldx % 8 != 0 || ldq % 16 != 0)
        return uzwk_fail(c, "uzwk_quantize_rows: ldx=%d must be a multiple of 8 and ldq=%d of 16", ldx, ldq);
    if ((uintptr_t)x % 16 != 0 || (uintptr_t)xq % 16 != 0 || (uintptr_t)xscale % 4 != 0)
        return uzwk_fail(c, "uzwk_quantize_rows: x and xq must be 16-byte aligned, xscale f32-aligned");
    const unsigned blocks = (unsigned)((N + QR_ROWS - 1) / QR_ROWS);
    quantize_rows_kernel<<<blocks, QR_ROWS * 32, 0, (cudaStream_t)uzwk_ctx_stream(c)>>>(
        reinterpret_cast<const __half *>(x), ldx, xq, ldq, xscale, N, I);
    return UZWK_LAUNCHED(c, "quantize_rows_kernel");
}
