// decode_attention.cu - attention of one new query per sequence over its KV cache (k_attn.h,
// uzwk_decode_attention), head width Dh = 64: flash-decoding.
//
// Pass 1, grid (n_chunks, H, B): block (c, h, b) takes keys [c*chunk, min((c+1)*chunk, len[b]))
// of sequence b, head h. A warp is 4 lane groups of 8 lanes; lane i of a group owns head columns
// 8i .. 8i+7, so one 16-byte load per lane reads a whole 128-byte K (or V) row per group. Each
// group walks its share of the chunk's keys, U keys per step (all their K and V loads issued
// before the first use), with an online softmax in fp32: scores s = q . k (fp32 dot products of
// the f16 values, reduced over the 8 lanes by shuffles), running max m, sum l and unnormalised
// output o[64] rescaled by 2^(m - m') when the max grows (scores in base 2: exp(x) = 2^(x log2 e)).
// The groups, then the warps, merge their (m, l, o) the same way. A block whose chunk starts at or
// past len[b] contributes the empty partial (m = -inf, l = 0, o = 0).
// With one chunk the block writes out = o / l directly (single pass); otherwise it writes
// (o[64], m, l) to the scratch partials [B, H, n_chunks, 66] and
// pass 2, grid (H, B), 64 threads: out = sum_c o_c 2^(m_c - M) / sum_c l_c 2^(m_c - M),
// M = max_c m_c; 0 for a sequence without keys.
// len and kv_index are read on the device, so a captured graph replays with new values.
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <math.h>
#include <stdint.h>

#include "cuda_check.cuh"
#include "k_attn.h"
#include "mma_ptx.cuh" /* ex2 */

namespace {

constexpr int DH = UZWK_DH;       /* 64 */
constexpr int PART = DH + 2;      /* one partial: o[64], m, l */
constexpr int U = 4;              /* keys per lane group per step */
constexpr int MIN_CHUNK = 32;     /* auto chunks are never shorter */

struct DecodeArgs {
    const __half *q;         /* dev [B, ldq]; head h at columns h*64 */
    int ldq;
    const __half *k;         /* dev; K_b = k + kv_index[b]*kv_stride, rows of ldk */
    const __half *v;         /* dev; likewise */
    int ldk;
    long kv_stride;
    const int32_t *kv_index; /* dev [B] */
    const int32_t *len;      /* dev [B] */
    int max_len;
    __half *out;             /* dev [B, ldo] */
    int ldo;
    int H, chunk, n_chunks;
    float scale_log2;        /* scale * log2(e) */
    float *part;             /* dev [B, H, n_chunks, PART], NULL for the single pass */
};

/* 2^(m - M) with M >= m the merged max; 0 for an empty part (m = -inf), whatever M is. */
__device__ __forceinline__ float rescale(float m, float M) { return m == -INFINITY ? 0.f : ex2(m - M); }

/* The sequence's key count, clamped to 0 .. max_len (the grid covers max_len keys). */
__device__ __forceinline__ int seq_len(const DecodeArgs &a, int b) { return max(0, min(a.len[b], a.max_len)); }

__device__ __forceinline__ void unpack8(const uint4 &u, float f[8]) {
    const __half2 *h = reinterpret_cast<const __half2 *>(&u);
#pragma unroll
    for (int i = 0; i < 4; ++i) {
        const float2 x = __half22float2(h[i]);
        f[2 * i] = x.x;
        f[2 * i + 1] = x.y;
    }
}

template <int NW>
__global__ void __launch_bounds__(NW * 32) decode_partial_kernel(const DecodeArgs a) {
    constexpr int NG = NW * 4; /* lane groups in the block */
    __shared__ float sm_m[NW], sm_l[NW];
    __shared__ float sm_o[NW][DH];

    const int ci = blockIdx.x, h = blockIdx.y, b = blockIdx.z;
    const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
    const int gi = lane >> 3, li = lane & 7; /* lane group in the warp, lane in the group */
    const int L = seq_len(a, b);
    const int c0 = ci * a.chunk;
    const int c1 = min(c0 + a.chunk, L); /* keys [c0, c1); empty when c0 >= L */

    /* q columns 8li .. 8li+7, pre-scaled into base 2 */
    float qf[8];
    unpack8(*reinterpret_cast<const uint4 *>(a.q + (long)b * a.ldq + h * DH + li * 8), qf);
#pragma unroll
    for (int i = 0; i < 8; ++i) qf[i] *= a.scale_log2;

    const long base = (long)a.kv_index[b] * a.kv_stride + h * DH + li * 8;
    const __half *Kb = a.k + base; /* row j at Kb + j*ldk: this lane's 8 columns */
    const __half *Vb = a.v + base;

    float m = -INFINITY, l = 0.f, o[8];
#pragma unroll
    for (int i = 0; i < 8; ++i) o[i] = 0.f;

    /* Step loop, uniform over the warp (the shuffles need all 32 lanes): in a step the warp takes
     * keys jw + gi + u*NG (u < U), jw = c0 + 4*warp + step*NG*U. */
    for (int jw = c0 + warp * 4; jw < c1; jw += NG * U) {
        uint4 kr[U], vr[U];
#pragma unroll
        for (int u = 0; u < U; ++u) {
            const int j = jw + gi + u * NG;
            if (j < c1) {
                kr[u] = __ldg(reinterpret_cast<const uint4 *>(Kb + (long)j * a.ldk));
                vr[u] = __ldg(reinterpret_cast<const uint4 *>(Vb + (long)j * a.ldk));
            } else {
                kr[u] = make_uint4(0, 0, 0, 0);
                vr[u] = make_uint4(0, 0, 0, 0);
            }
        }
        /* s_u = q . k_u over the group's 8 lanes */
        float s[U];
#pragma unroll
        for (int u = 0; u < U; ++u) {
            float kf[8];
            unpack8(kr[u], kf);
            float x = 0.f;
#pragma unroll
            for (int i = 0; i < 8; ++i) x = fmaf(qf[i], kf[i], x);
            s[u] = x;
        }
#pragma unroll
        for (int u = 0; u < U; ++u) {
            s[u] += __shfl_xor_sync(0xffffffffu, s[u], 1);
            s[u] += __shfl_xor_sync(0xffffffffu, s[u], 2);
            s[u] += __shfl_xor_sync(0xffffffffu, s[u], 4);
            if (jw + gi + u * NG >= c1) s[u] = -INFINITY; /* past the chunk or the sequence */
        }
        /* online softmax update with the U new keys */
        float mx = s[0];
#pragma unroll
        for (int u = 1; u < U; ++u) mx = fmaxf(mx, s[u]);
        const float m_new = fmaxf(m, mx);
        const float m_use = m_new == -INFINITY ? 0.f : m_new; /* group without a key yet */
        const float alpha = ex2(m - m_use);
        l *= alpha;
#pragma unroll
        for (int i = 0; i < 8; ++i) o[i] *= alpha;
#pragma unroll
        for (int u = 0; u < U; ++u) {
            const float p = ex2(s[u] - m_use);
            float vf[8];
            unpack8(vr[u], vf);
            l += p;
#pragma unroll
            for (int i = 0; i < 8; ++i) o[i] = fmaf(p, vf[i], o[i]);
        }
        m = m_new;
    }

    /* merge the warp's 4 groups (lanes li, li+8, li+16, li+24 hold the same columns) */
#pragma unroll
    for (int off = 8; off <= 16; off <<= 1) {
        const float m2 = __shfl_xor_sync(0xffffffffu, m, off);
        const float l2 = __shfl_xor_sync(0xffffffffu, l, off);
        const float M = fmaxf(m, m2);
        const float f1 = rescale(m, M), f2 = rescale(m2, M);
        l = l * f1 + l2 * f2;
#pragma unroll
        for (int i = 0; i < 8; ++i) {
            const float o2 = __shfl_xor_sync(0xffffffffu, o[i], off);
            o[i] = o[i] * f1 + o2 * f2;
        }
        m = M;
    }
    if (gi == 0) {
#pragma unroll
        for (int i = 0; i < 8; ++i) sm_o[warp][li * 8 + i] = o[i];
        if (li == 0) {
            sm_m[warp] = m;
            sm_l[warp] = l;
        }
    }
    __syncthreads();

    /* merge the warps: thread d < 64 owns output column d */
    if (tid < DH) {
        float M = -INFINITY;
#pragma unroll
        for (int w = 0; w < NW; ++w) M = fmaxf(M, sm_m[w]);
        float lt = 0.f, ot = 0.f;
#pragma unroll
        for (int w = 0; w < NW; ++w) {
            const float f = rescale(sm_m[w], M);
            lt += sm_l[w] * f;
            ot += sm_o[w][tid] * f;
        }
        if (a.part) {
            float *p = a.part + (((long)b * a.H + h) * a.n_chunks + ci) * PART; /* [PART] */
            p[tid] = ot;
            if (tid == 0) {
                p[DH] = M;
                p[DH + 1] = lt;
            }
        } else {
            a.out[(long)b * a.ldo + h * DH + tid] = __float2half_rn(lt > 0.f ? ot / lt : 0.f);
        }
    }
}

/* Pass 2: merge the chunks of (b, h); 64 threads, one per output column. */
__global__ void __launch_bounds__(DH) decode_combine_kernel(const DecodeArgs a) {
    const int h = blockIdx.x, b = blockIdx.y, d = threadIdx.x;
    const int L = seq_len(a, b);
    const int nc = min(a.n_chunks, (L + a.chunk - 1) / a.chunk); /* chunks with keys */
    const float *p = a.part + ((long)b * a.H + h) * a.n_chunks * PART; /* [n_chunks, PART] */
    float M = -INFINITY;
    for (int ci = 0; ci < nc; ++ci) M = fmaxf(M, p[ci * PART + DH]);
    float lt = 0.f, ot = 0.f;
    for (int ci = 0; ci < nc; ++ci) {
        const float f = rescale(p[ci * PART + DH], M);
        lt += p[ci * PART + DH + 1] * f;
        ot += p[ci * PART + d] * f;
    }
    a.out[(long)b * a.ldo + h * DH + d] = __float2half_rn(lt > 0.f ? ot / lt : 0.f);
}

template <int NW>
int launch_decode(uzwk_ctx *c, const DecodeArgs &a, int B) {
    cudaStream_t s = (cudaStream_t)uzwk_ctx_stream(c);
    decode_partial_kernel<NW><<<dim3((unsigned)a.n_chunks, (unsigned)a.H, (unsigned)B), NW * 32, 0, s>>>(a);
    if (UZWK_LAUNCHED(c, "decode_partial_kernel")) return -1;
    if (a.part) {
        decode_combine_kernel<<<dim3((unsigned)a.H, (unsigned)B), DH, 0, s>>>(a);
        if (UZWK_LAUNCHED(c, "decode_combine_kernel")) return -1;
    }
    return 0;
}

bool aligned16(const void *p) { return ((uintptr_t)p & 15u) == 0; }

} // namespace

/* Variants (registry "decode_attention"): 0 = 4 warps per block (the engine's), 1 = 2 warps.
 * chunk = 0: about 4 blocks per multiprocessor over the whole grid, never fewer than 32 keys per
 * chunk (a multiple of 32); one chunk (no scratch, no second pass) when B*H alone fills that. */
extern "C" int uzwk_decode_attention(uzwk_ctx *c, const uzwk_f16 *q, int ldq, const uzwk_f16 *k, const uzwk_f16 *v,
                                     int ldk, long kv_stride, const int32_t *kv_index, const int32_t *len,
                                     int max_len, uzwk_f16 *out, int ldo, int B, int H, float scale, int chunk,
                                     int variant) {
    if (B < 0 || H < 0 || max_len < 0 || chunk < 0)
        return uzwk_fail(c, "uzwk_decode_attention: bad sizes B=%d H=%d max_len=%d chunk=%d", B, H, max_len, chunk);
    if (variant < 0 || variant > 1) return uzwk_fail(c, "uzwk_decode_attention: no variant %d (0..1)", variant);
    if (B == 0 || H == 0) return 0;
    if (B > 65535 || H > 65535) return uzwk_fail(c, "uzwk_decode_attention: B=%d or H=%d over 65535", B, H);
    const int D = H * UZWK_DH;
    if (ldq < D || ldk < D || ldo < D)
        return uzwk_fail(c, "uzwk_decode_attention: ldq=%d ldk=%d ldo=%d below H*64=%d", ldq, ldk, ldo, D);
    if (!q || !k || !v || !out || !kv_index || !len) return uzwk_fail(c, "uzwk_decode_attention: NULL pointer");
    if (!aligned16(q) || !aligned16(k) || !aligned16(v) || ldq % 8 || ldk % 8 || kv_stride % 8)
        return uzwk_fail(c,
                         "uzwk_decode_attention: q, k, v must be 16-byte aligned and ldq=%d, ldk=%d, kv_stride=%ld "
                         "multiples of 8 elements",
                         ldq, ldk, kv_stride);

    /* chunk size and count */
    int ch = chunk;
    if (ch == 0) {
        const int sm = uzwk_ctx_sm_count(c) > 0 ? uzwk_ctx_sm_count(c) : 1;
        const long bh = (long)B * H, target = 4L * sm;
        const long want = (target + bh - 1) / bh; /* chunks per (b, h) to reach the target */
        long cl = (max_len + want - 1) / want;
        cl = (cl + MIN_CHUNK - 1) / MIN_CHUNK * MIN_CHUNK;
        ch = (int)(cl < MIN_CHUNK ? MIN_CHUNK : cl);
    }
    const int n_chunks = max_len > 0 ? (max_len + ch - 1) / ch : 1;

    DecodeArgs a;
    a.q = reinterpret_cast<const __half *>(q);
    a.ldq = ldq;
    a.k = reinterpret_cast<const __half *>(k);
    a.v = reinterpret_cast<const __half *>(v);
    a.ldk = ldk;
    a.kv_stride = kv_stride;
    a.kv_index = kv_index;
    a.len = len;
    a.max_len = max_len;
    a.out = reinterpret_cast<__half *>(out);
    a.ldo = ldo;
    a.H = H;
    a.chunk = ch;
    a.n_chunks = n_chunks;
    a.scale_log2 = scale * 1.4426950408889634f;
    a.part = NULL;
    if (n_chunks > 1) {
        size_t have = 0;
        void *scratch = uzwk_ctx_scratch(c, &have);
        const size_t need = (size_t)B * H * n_chunks * PART * sizeof(float);
        if (!scratch || have < need)
            return uzwk_fail(c,
                             "uzwk_decode_attention: scratch too small: %zu bytes needed for B=%d H=%d x %d chunks "
                             "of %d keys, the context has %zu",
                             need, B, H, n_chunks, ch, have);
        a.part = static_cast<float *>(scratch);
    }
    return variant == 0 ? launch_decode<4>(c, a, B) : launch_decode<2>(c, a, B);
}
