// kv_cache.cu - appending new key/value rows to the self-attention cache (k_attn.h,
// uzwk_kv_append). Grid (R, 2): block (r, 0) copies row r of k_new, block (r, 1) row r of v_new,
// to row pos[r] of cache slot slot[r]. Consecutive threads copy consecutive 16-byte pieces
// (coalesced) when every row start is 16-byte aligned, single halves otherwise. slot and pos are
// read on the device (graph-safe); a row with a negative slot or position is skipped (padding).
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <stdint.h>

#include "cuda_check.cuh"
#include "k_attn.h"

namespace {

constexpr int THREADS = 128;

template <bool VEC>
__global__ void __launch_bounds__(THREADS)
    kv_append_kernel(const __half *k_new, /* dev [R, ldn] */
                     const __half *v_new, /* dev [R, ldn] */
                     int ldn, __half *kc, /* dev, slot s row p at kc + s*slot_stride + p*D */
                     __half *vc,          /* dev, likewise */
                     long slot_stride, const int32_t *slot, const int32_t *pos, int D) {
    const int r = blockIdx.x;
    const int sl = slot[r], ps = pos[r];
    if (sl < 0 || ps < 0) return;
    const __half *src = (blockIdx.y ? v_new : k_new) + (long)r * ldn;          /* [D] */
    __half *dst = (blockIdx.y ? vc : kc) + (long)sl * slot_stride + (long)ps * D; /* [D] */
    if (VEC) {
        const uint4 *s4 = reinterpret_cast<const uint4 *>(src);
        uint4 *d4 = reinterpret_cast<uint4 *>(dst);
        for (int i = threadIdx.x; i < D / 8; i += THREADS) d4[i] = __ldg(s4 + i);
    } else {
        for (int i = threadIdx.x; i < D; i += THREADS) dst[i] = src[i];
    }
}

bool aligned16(const void *p) { return ((uintptr_t)p & 15u) == 0; }

} // namespace

extern "C" int uzwk_kv_append(uzwk_ctx *c, const uzwk_f16 *k_new, const uzwk_f16 *v_new, int ldn, uzwk_f16 *kc,
                              uzwk_f16 *vc, long slot_stride, const int32_t *slot, const int32_t *pos, int R, int D) {
    if (R < 0 || D < 0 || ldn < D || slot_stride < 0)
        return uzwk_fail(c, "uzwk_kv_append: bad sizes R=%d D=%d ldn=%d slot_stride=%ld", R, D, ldn, slot_stride);
    if (R == 0 || D == 0) return 0;
    if (!k_new || !v_new || !kc || !vc || !slot || !pos) return uzwk_fail(c, "uzwk_kv_append: NULL pointer");
    const bool vec = D % 8 == 0 && ldn % 8 == 0 && slot_stride % 8 == 0 && aligned16(k_new) && aligned16(v_new) &&
                     aligned16(kc) && aligned16(vc);
    const dim3 grid((unsigned)R, 2);
    cudaStream_t s = (cudaStream_t)uzwk_ctx_stream(c);
    const __half *kn = reinterpret_cast<const __half *>(k_new), *vn = reinterpret_cast<const __half *>(v_new);
    __half *kch = reinterpret_cast<__half *>(kc), *vch = reinterpret_cast<__half *>(vc);
    if (vec)
        kv_append_kernel<true><<<grid, THREADS, 0, s>>>(kn, vn, ldn, kch, vch, slot_stride, slot, pos, D);
    else
        kv_append_kernel<false><<<grid, THREADS, 0, s>>>(kn, vn, ldn, kch, vch, slot_stride, slot, pos, D);
    return UZWK_LAUNCHED(c, "kv_append_kernel");
}
