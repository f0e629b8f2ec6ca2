// conv.cu - im2col for Whisper's two Conv1d layers (kernel 3, zero padding 1, stride s), so that the
// convolution is a uzwk_gemm with W viewed as [Co, Ci*3] (k_gemm.h):
//   cols[t, ci*3 + k] = x(ci, t*s + k - 1), 0 outside 0 .. Ti-1, To = (Ti - 1) / s + 1, f16 out.
// Two input layouts:
//   - channel-major f32 [Ci, Ti] (the log-mel, conv1): the gather is a transpose, so a block stages
//     a 32-channel x (31*s + 3)-frame window in shared memory with reads along time (coalesced),
//     then writes 32 output rows x 96 contiguous halves (coalesced); strides above IM2COL_TILED_MAX_S
//     use the flat kernel instead;
//   - time-major f16 [Ti, Ci] (conv1's output, conv2): one thread per output element; consecutive
//     threads write consecutive halves and read within three rows of x (coalesced enough, L1-served).
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <stdint.h>
#include <stdio.h>

#include "cuda_check.cuh"
#include "k_gemm.h"

namespace {

constexpr int IC_TT = 32;               /* output frames per block (tiled kernel) */
constexpr int IC_TC = 32;               /* channels per block (tiled kernel) */
constexpr int IC_THREADS = 256;
constexpr int IM2COL_TILED_MAX_S = 8;   /* window (31*8 + 3) * 32 floats = 32 KiB of shared memory */

/* Window row length for stride s, made odd so that a column walk across channels spreads banks. */
__host__ __device__ inline int ic_span(int s) { return ((IC_TT - 1) * s + 3) | 1; }

__global__ void __launch_bounds__(IC_THREADS)
    im2col_f32_tiled(const float *__restrict__ x, /* dev [Ci, Ti] channel-major */
                     __half *__restrict__ cols,   /* dev [To, Ci*3] */
                     int Ci, int Ti, int To, int s) {
    extern __shared__ float win[]; /* [IC_TC][span] */
    const int span = ic_span(s);
    const int used = (IC_TT - 1) * s + 3; /* frames t0*s-1 .. t0*s-1+used-1 */
    const int t0 = blockIdx.x * IC_TT, ci0 = blockIdx.y * IC_TC;
    const int tin0 = t0 * s - 1;
    for (int e = threadIdx.x; e < IC_TC * used; e += IC_THREADS) {
        const int cl = e / used, u = e - cl * used;
        const int ci = ci0 + cl, ti = tin0 + u;
        win[cl * span + u] = (ci < Ci && ti >= 0 && ti < Ti) ? __ldg(x + (size_t)ci * Ti + ti) : 0.0f;
    }
    __syncthreads();
    const int w3 = IC_TC * 3;
    const size_t ldc = (size_t)Ci * 3;
    for (int e = threadIdx.x; e < IC_TT * w3; e += IC_THREADS) {
        const int tl = e / w3, j = e - tl * w3;
        const int cl = j / 3, k = j - cl * 3;
        const int t = t0 + tl, ci = ci0 + cl;
        if (t < To && ci < Ci) cols[(size_t)t * ldc + (size_t)ci0 * 3 + j] = __float2half_rn(win[cl * span + tl * s + k]);
    }
}

__global__ void im2col_flat(const void *__restrict__ x, /* dev f32 [Ci, Ti] (x_f32) or f16 [Ti, Ci] */
                            int x_f32, __half *__restrict__ cols, /* dev [To, Ci*3] */
                            int Ci, int Ti, int To, int s) {
    const size_t w = (size_t)Ci * 3, total = (size_t)To * w;
    for (size_t e = blockIdx.x * (size_t)blockDim.x + threadIdx.x; e < total; e += (size_t)gridDim.x * blockDim.x) {
        const int t = (int)(e / w), j = (int)(e - (size_t)t * w);
        const int ci = j / 3, k = j - ci * 3;
        const long ti = (long)t * s + k - 1;
        __half v = __float2half_rn(0.0f);
        if (ti >= 0 && ti < Ti) {
            if (x_f32)
                v = __float2half_rn(__ldg(static_cast<const float *>(x) + (size_t)ci * Ti + ti));
            else
                v = static_cast<const __half *>(x)[(size_t)ti * Ci + ci];
        }
        cols[e] = v;
    }
}

} // namespace

extern "C" int uzwk_im2col_k3(uzwk_ctx *c, const void *x, int x_f32, uzwk_f16 *cols, int Ci, int Ti, int stride) {
    if (!c) return -1;
    if (Ci < 1 || Ti < 1 || stride < 1) return uzwk_fail(c, "uzwk_im2col_k3: bad Ci=%d Ti=%d stride=%d", Ci, Ti, stride);
    if (!x || !cols) return uzwk_fail(c, "uzwk_im2col_k3: NULL pointer");
    const int To = (Ti - 1) / stride + 1;
    cudaStream_t st = (cudaStream_t)uzwk_ctx_stream(c);
    __half *out = reinterpret_cast<__half *>(cols);
    if (x_f32 && stride <= IM2COL_TILED_MAX_S) {
        const dim3 grid((unsigned)((To + IC_TT - 1) / IC_TT), (unsigned)((Ci + IC_TC - 1) / IC_TC));
        if (grid.y > 65535) return uzwk_fail(c, "uzwk_im2col_k3: Ci = %d too large", Ci);
        const size_t smem = (size_t)IC_TC * ic_span(stride) * sizeof(float);
        im2col_f32_tiled<<<grid, IC_THREADS, smem, st>>>(static_cast<const float *>(x), out, Ci, Ti, To, stride);
        return UZWK_LAUNCHED(c, "im2col_f32_tiled");
    }
    const size_t total = (size_t)To * Ci * 3;
    size_t blocks = (total + 255) / 256;
    const size_t cap = (size_t)uzwk_ctx_sm_count(c) * 32;
    if (cap > 0 && blocks > cap) blocks = cap;
    im2col_flat<<<(unsigned)blocks, 256, 0, st>>>(x, x_f32, out, Ci, Ti, To, stride);
    return UZWK_LAUNCHED(c, "im2col_flat");
}
