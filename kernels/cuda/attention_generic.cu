// attention_generic.cu - plain attention for any head width (k_attn_generic.h): one warp per
// (sequence, query row, head); each lane owns head columns lane, lane+32, ...; scores are fp32
// warp-reduced dot products; online softmax (running max m, sum l) rescales the lane's output.
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <math.h>

#include "cuda_check.cuh"
#include "k_attn_generic.h"

#define MAX_PER_LANE 8 /* Dh <= 256 */

__global__ static void attention_generic_kernel(const __half *q, int ldq, long q_bstride, const __half *k,
                                                const __half *v, int ldk, long kv_stride, const int32_t *kv_index,
                                                const int32_t *len, __half *out, int ldo, long o_bstride, int Bt,
                                                int Nq, int Nk, int H, int Dh, int causal, int q_offset,
                                                float scale) {
    long warp = ((long)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    int lane = threadIdx.x & 31;
    if (warp >= (long)Bt * Nq * H) return;
    int h = (int)(warp % H), i = (int)((warp / H) % Nq), b = (int)(warp / ((long)H * Nq));
    const __half *qr = q + b * q_bstride + (long)i * ldq + h * Dh;            /* [Dh] */
    long kv0 = (long)(kv_index ? kv_index[b] : b) * kv_stride;
    const __half *Kb = k + kv0 + h * Dh, *Vb = v + kv0 + h * Dh;              /* rows of ldk */
    int n = len ? len[b] : Nk;
    if (causal && q_offset + i + 1 < n) n = q_offset + i + 1;
    float qv[MAX_PER_LANE], acc[MAX_PER_LANE];
#pragma unroll
    for (int r = 0; r < MAX_PER_LANE; r++) {
        int col = lane + 32 * r;
        qv[r] = col < Dh ? __half2float(qr[col]) : 0.0f;
        acc[r] = 0.0f;
    }
    float m = -INFINITY, l = 0.0f;
    for (int j = 0; j < n; j++) {
        const __half *kr = Kb + (long)j * ldk;
        float s = 0.0f;
#pragma unroll
        for (int r = 0; r < MAX_PER_LANE; r++) {
            int col = lane + 32 * r;
            if (col < Dh) s += qv[r] * __half2float(kr[col]);
        }
        for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
        s *= scale;
        float m_new = fmaxf(m, s), corr = expf(m - m_new), p = expf(s - m_new);
        l = l * corr + p;
        const __half *vr = Vb + (long)j * ldk;
#pragma unroll
        for (int r = 0; r < MAX_PER_LANE; r++) {
            int col = lane + 32 * r;
            if (col < Dh) acc[r] = acc[r] * corr + p * __half2float(vr[col]);
        }
        m = m_new;
    }
    __half *orow = out + b * o_bstride + (long)i * ldo + h * Dh;
    float inv = l > 0.0f ? 1.0f / l : 0.0f;
#pragma unroll
    for (int r = 0; r < MAX_PER_LANE; r++) {
        int col = lane + 32 * r;
        if (col < Dh) orow[col] = __float2half_rn(acc[r] * inv);
    }
}

extern "C" int uzwk_attention_generic(uzwk_ctx *c, const uzwk_f16 *q, int ldq, long q_bstride, const uzwk_f16 *k,
                                      const uzwk_f16 *v, int ldk, long kv_stride, const int32_t *kv_index,
                                      const int32_t *len, uzwk_f16 *out, int ldo, long o_bstride, int Bt, int Nq,
                                      int Nk, int H, int Dh, int causal, int q_offset, float scale) {
    if (Dh < 1 || Dh > 32 * MAX_PER_LANE) return uzwk_fail(c, "attention_generic: head width %d (1..256)", Dh);
    long warps = (long)Bt * Nq * H;
    if (warps <= 0) return 0;
    int threads = 128;
    long blocks = (warps * 32 + threads - 1) / threads;
    if (blocks > 0x7fffffffL) return uzwk_fail(c, "attention_generic: %ld blocks", blocks);
    attention_generic_kernel<<<(unsigned)blocks, threads, 0, (cudaStream_t)uzwk_ctx_stream(c)>>>(
        (const __half *)q, ldq, q_bstride, (const __half *)k, (const __half *)v, ldk, kv_stride, kv_index, len,
        (__half *)out, ldo, o_bstride, Bt, Nq, Nk, H, Dh, causal, q_offset, scale);
    return UZWK_LAUNCHED(c, "attention_generic_kernel");
}
