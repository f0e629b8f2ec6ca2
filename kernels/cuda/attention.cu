// attention.cu - FlashAttention-2 style multi-query attention on tensor cores (k_attn.h,
// uzwk_flash_attention), head width Dh = 64.
//
// One block takes a tile Qi of BQ query rows of one (batch, head); each of its BQ/16 warps owns 16
// of those rows. The block walks the key range in tiles Kj, Vj of BK rows, double-buffered in
// shared memory and filled with cp.async while the previous tile is being used. Per key tile and
// warp:
//   S  = Qi Kj^T               mma.sync m16n8k16 (f16 in, fp32 accumulate), K fragments by ldmatrix
//   S *= scale * log2(e)       (softmax in base 2: exp(x) = 2^(x log2 e))
//   mask                       keys j >= Nk, and with causal j > q_offset + i, get -inf
//   m' = max(m, rowmax S)      online softmax per row: running max m, running sum l, and the
//   P  = 2^(S - m')            output accumulator O rescaled by 2^(m - m') when the max grows
//   l  = l 2^(m-m') + rowsum P
//   O  = O 2^(m-m') + P Vj     P rounded to f16 straight from the S accumulators: the C fragment
//                              of m16n8k16 holds, per thread, the same (row, column pairs) as the
//                              A fragment, so two adjacent 8-key S tiles form one 16-key A tile;
//                              V fragments by ldmatrix.trans
// and at the end out = O / l (0 for a row without keys), staged through shared memory for 16-byte
// coalesced stores. Everything stays in fp32 except the f16 inputs, P and the output.
//
// The mma.sync m16n8k16 fragment and ldmatrix layouts are spelled out in mma_ptx.cuh.
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <math.h>
#include <stdint.h>

#include "cuda_check.cuh"
#include "k_attn.h"
#include "mma_ptx.cuh"

namespace {

constexpr int DH = UZWK_DH; /* 64 */
constexpr int LDS = DH + 8;  /* shared row pitch in halves (144 bytes): 8 consecutive rows of an
                                ldmatrix phase fall in 8 different 16-byte bank groups */

/* ------------------------------------------------------------------ kernel */
struct FlashArgs {
    const __half *q; /* dev, row i of batch b at q + b*q_bstride + i*ldq; head h at column h*64 */
    int ldq;
    long q_bstride;
    const __half *k; /* dev, row j of batch b at k + b*kv_bstride + j*ldk */
    const __half *v; /* dev, likewise */
    int ldk;
    long kv_bstride;
    __half *out; /* dev, row i of batch b at out + b*o_bstride + i*ldo */
    int ldo;
    long o_bstride;
    int Nq, Nk, causal, q_offset;
    float scale_log2; /* scale * log2(e) */
};

/* Copy ROWS rows of 64 halves (rows of ld halves in global, from src) into the shared tile dst
 * [ROWS][LDS]; rows >= nvalid are zero-filled (never read from global). */
template <int ROWS, int NT>
__device__ __forceinline__ void load_tile_async(__half *dst, const __half *src, long ld, int nvalid, int tid) {
    static_assert((ROWS * 8) % NT == 0, "tile chunks must divide among the threads");
#pragma unroll
    for (int it = 0; it < ROWS * 8 / NT; ++it) {
        const int c = tid + it * NT;
        const int r = c >> 3, ch = c & 7; /* row, 16-byte chunk of the row */
        const bool ok = r < nvalid;
        cp_async16(dst + r * LDS + ch * 8, ok ? src + (long)r * ld + ch * 8 : src, ok ? 16 : 0);
    }
}

template <int BQ, int BK>
/* No minimum-blocks hint: capping at 128 registers (2 blocks of 8 warps per multiprocessor)
 * spills in the 128x64 kernel on sm_80 and the 64x64 one on sm_90. */
__global__ void __launch_bounds__(BQ * 2) flash_attention_kernel(const FlashArgs a) {
    constexpr int NWARPS = BQ / 16, NT = NWARPS * 32;
    constexpr int NKT = BK / 8;            /* 8-key column tiles of S */
    constexpr int STAGE = 2 * BK * LDS;    /* one key tile: Kj [BK][LDS] then Vj [BK][LDS] */
    constexpr int QSIZE = BQ * LDS;        /* Qi [BQ][LDS] */
    constexpr int SMEM = STAGE + (STAGE > QSIZE ? STAGE : QSIZE);
    static_assert(BQ % 16 == 0 && BK % 16 == 0, "tile sizes");
    static_assert(SMEM * 2 <= 48 * 1024, "static shared memory limit");
    /* [stage 0: Kj, Vj][stage 1: Kj, Vj] with Qi aliasing stage 1: Qi is read into registers
     * before the first load into stage 1, and reused as the output staging area at the end. */
    __shared__ __align__(16) __half smem[SMEM];
    __half *const Qi = smem + STAGE; /* [BQ][LDS] */

    const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
    const int g = lane >> 2, t = lane & 3; /* fragment row group, thread in group */
    const int h = blockIdx.y, b = blockIdx.z;
    const int q0 = blockIdx.x * BQ;      /* first query row of the block */
    const int wq0 = q0 + warp * 16;      /* first query row of this warp */
    const int Nq = a.Nq, Nk = a.Nk, causal = a.causal, q_offset = a.q_offset;
    const int nq_block = min(BQ, Nq - q0);

    const __half *Qg = a.q + b * a.q_bstride + (long)q0 * a.ldq + h * DH; /* [nq_block, ldq] */
    const __half *Kg = a.k + b * a.kv_bstride + h * DH;                   /* [Nk, ldk] */
    const __half *Vg = a.v + b * a.kv_bstride + h * DH;                   /* [Nk, ldk] */

    /* Keys this block needs: all Nk, or with causal up to the last query row's position. */
    int kend = Nk;
    if (causal) kend = min(Nk, q_offset + q0 + nq_block);
    const int ntiles = kend > 0 ? (kend + BK - 1) / BK : 0;

    /* Load Qi and the first key tile. */
    load_tile_async<BQ, NT>(Qi, Qg, a.ldq, nq_block, tid);
    cp_async_commit();
    if (ntiles > 0) {
        load_tile_async<BK, NT>(smem, Kg, a.ldk, min(BK, Nk), tid);
        load_tile_async<BK, NT>(smem + BK * LDS, Vg, a.ldk, min(BK, Nk), tid);
    }
    cp_async_commit();
    cp_async_wait<0>();
    __syncthreads();

    /* This warp's 16 query rows as A fragments, one per 16 columns of Dh. */
    uint32_t qf[DH / 16][4];
#pragma unroll
    for (int ks = 0; ks < DH / 16; ++ks) {
        /* matrices: 0 rows 0-7 cols 0-7 (a0), 1 rows 8-15 (a1), 2 cols 8-15 (a2), 3 both (a3) */
        const int r = warp * 16 + (lane & 7) + ((lane >> 3) & 1) * 8;
        const int col = ks * 16 + (lane >> 4) * 8;
        ldmatrix_x4(qf[ks], Qi + r * LDS + col);
    }
    __syncthreads(); /* Qi (stage 1) is overwritten by key tile 1 below */

    float o[DH / 8][4]; /* O: 16 rows x 64 columns of this warp, as 8 C fragments */
#pragma unroll
    for (int dt = 0; dt < DH / 8; ++dt) o[dt][0] = o[dt][1] = o[dt][2] = o[dt][3] = 0.f;
    float m[2] = {-INFINITY, -INFINITY}; /* running max of rows g, g+8 (base-2 scaled scores) */
    float l[2] = {0.f, 0.f};             /* running sum of this thread's columns of those rows */

    for (int kt = 0; kt < ntiles; ++kt) {
        const int k0 = kt * BK, st = kt & 1;
        /* Prefetch key tile kt+1 into the other stage (freed by the barrier that ended kt-1). */
        if (kt + 1 < ntiles) {
            const int k1 = k0 + BK;
            __half *Kn = smem + (st ^ 1) * STAGE;
            load_tile_async<BK, NT>(Kn, Kg + (long)k1 * a.ldk, a.ldk, min(BK, Nk - k1), tid);
            load_tile_async<BK, NT>(Kn + BK * LDS, Vg + (long)k1 * a.ldk, a.ldk, min(BK, Nk - k1), tid);
            cp_async_commit();
            cp_async_wait<1>(); /* tile kt landed (this thread's part) */
        } else {
            cp_async_wait<0>();
        }
        __syncthreads(); /* ... and every thread's part */

        const __half *Kj = smem + st * STAGE; /* [BK][LDS] */
        const __half *Vj = Kj + BK * LDS;     /* [BK][LDS] */
        /* A warp whose rows are all past Nq, or (causal) all before key k0, has nothing to add. */
        const bool active = wq0 < Nq && (!causal || k0 <= q_offset + wq0 + 15);
        if (active) {
            /* S = Qi Kj^T: 16 rows x BK keys, C fragment s[n] covers keys k0 + 8n .. 8n+7. */
            float s[NKT][4];
#pragma unroll
            for (int n = 0; n < NKT; ++n) {
                s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.f;
#pragma unroll
                for (int kp = 0; kp < DH / 32; ++kp) {
                    /* matrix m = Kj[8n .. 8n+7][32kp + 8m .. +7]: b0, b1 of Dh step 2kp (m = 0, 1)
                     * and of step 2kp+1 (m = 2, 3), since B[d][j] = Kj[j][d]. */
                    uint32_t kb[4];
                    ldmatrix_x4(kb, Kj + (n * 8 + (lane & 7)) * LDS + kp * 32 + (lane >> 3) * 8);
                    mma16816(s[n], qf[2 * kp], kb[0], kb[1]);
                    mma16816(s[n], qf[2 * kp + 1], kb[2], kb[3]);
                }
            }
            /* Scale into base 2 and mask (only tiles that reach past Nk or past the diagonal). */
            const bool need_mask = k0 + BK > Nk || (causal && k0 + BK - 1 > q_offset + wq0);
#pragma unroll
            for (int n = 0; n < NKT; ++n)
#pragma unroll
                for (int e = 0; e < 4; ++e) {
                    float x = s[n][e] * a.scale_log2;
                    if (need_mask) {
                        const int j = k0 + n * 8 + 2 * t + (e & 1); /* key */
                        const int i = wq0 + g + (e >> 1) * 8;        /* query row */
                        if (j >= Nk || (causal && j > q_offset + i)) x = -INFINITY;
                    }
                    s[n][e] = x;
                }
            /* Online softmax for the thread's two rows (r = 0: row g, r = 1: row g+8). */
#pragma unroll
            for (int r = 0; r < 2; ++r) {
                float mx = -INFINITY;
#pragma unroll
                for (int n = 0; n < NKT; ++n) mx = fmaxf(mx, fmaxf(s[n][2 * r], s[n][2 * r + 1]));
                /* the row's other columns live in the 3 other threads of the group */
                mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
                mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
                const float m_new = fmaxf(m[r], mx);
                /* all keys so far masked: subtract 0 so that -inf - -inf never makes a NaN */
                const float m_use = m_new == -INFINITY ? 0.f : m_new;
                const float alpha = ex2(m[r] - m_use); /* 0 when m was -inf */
                m[r] = m_new;
                l[r] *= alpha;
#pragma unroll
                for (int dt = 0; dt < DH / 8; ++dt) {
                    o[dt][2 * r] *= alpha;
                    o[dt][2 * r + 1] *= alpha;
                }
#pragma unroll
                for (int n = 0; n < NKT; ++n) {
                    const float p0 = ex2(s[n][2 * r] - m_use), p1 = ex2(s[n][2 * r + 1] - m_use);
                    s[n][2 * r] = p0;
                    s[n][2 * r + 1] = p1;
                    l[r] += p0 + p1;
                }
            }
            /* O += P Vj, 16 keys per step: S tiles 2kk (keys +0..7) and 2kk+1 (keys +8..15) are the
             * A fragment's columns 0-7 (a0 row g, a1 row g+8) and 8-15 (a2, a3). */
#pragma unroll
            for (int kk = 0; kk < BK / 16; ++kk) {
                uint32_t pa[4];
                pa[0] = pack_f16x2(s[2 * kk][0], s[2 * kk][1]);
                pa[1] = pack_f16x2(s[2 * kk][2], s[2 * kk][3]);
                pa[2] = pack_f16x2(s[2 * kk + 1][0], s[2 * kk + 1][1]);
                pa[3] = pack_f16x2(s[2 * kk + 1][2], s[2 * kk + 1][3]);
#pragma unroll
                for (int dp = 0; dp < DH / 16; ++dp) {
                    /* matrix m = Vj[16kk + 8(m&1) .. +7][16dp + 8(m>>1) .. +7], transposed:
                     * b0 (m=0), b1 (m=1) of columns 16dp..+7 and b0 (m=2), b1 (m=3) of 16dp+8.. */
                    uint32_t vb[4];
                    const int row = kk * 16 + (lane & 7) + ((lane >> 3) & 1) * 8;
                    const int col = dp * 16 + (lane >> 4) * 8;
                    ldmatrix_x4_trans(vb, Vj + row * LDS + col);
                    mma16816(o[2 * dp], pa, vb[0], vb[1]);
                    mma16816(o[2 * dp + 1], pa, vb[2], vb[3]);
                }
            }
        }
        __syncthreads(); /* every warp is done with stage st before it is refilled */
    }

    /* out = O / l: complete the row sums across the group, then stage the warp's 16 rows in Qi
     * (all stages are free: the loop ended on a barrier with no copy in flight). */
    float inv[2];
#pragma unroll
    for (int r = 0; r < 2; ++r) {
        float lr = l[r];
        lr += __shfl_xor_sync(0xffffffffu, lr, 1);
        lr += __shfl_xor_sync(0xffffffffu, lr, 2);
        inv[r] = lr > 0.f ? 1.f / lr : 0.f; /* a row without keys gives zeros */
    }
    __half *Ow = Qi + warp * 16 * LDS; /* [16][LDS], this warp's rows only */
#pragma unroll
    for (int dt = 0; dt < DH / 8; ++dt) {
        *reinterpret_cast<uint32_t *>(Ow + g * LDS + dt * 8 + 2 * t) = pack_f16x2(o[dt][0] * inv[0], o[dt][1] * inv[0]);
        *reinterpret_cast<uint32_t *>(Ow + (g + 8) * LDS + dt * 8 + 2 * t) =
            pack_f16x2(o[dt][2] * inv[1], o[dt][3] * inv[1]);
    }
    __syncwarp();
    __half *Og = a.out + b * a.o_bstride + h * DH; /* [Nq, ldo] */
#pragma unroll
    for (int it = 0; it < 16 * 8 / 32; ++it) {
        const int c = lane + it * 32;
        const int r = c >> 3, ch = c & 7;
        const int i = wq0 + r;
        if (i < Nq)
            *reinterpret_cast<uint4 *>(Og + (long)i * a.ldo + ch * 8) =
                *reinterpret_cast<const uint4 *>(Ow + r * LDS + ch * 8);
    }
}

template <int BQ, int BK>
int launch_flash(uzwk_ctx *c, const FlashArgs &a, int Bt, int H) {
    dim3 grid((unsigned)((a.Nq + BQ - 1) / BQ), (unsigned)H, (unsigned)Bt);
    flash_attention_kernel<BQ, BK><<<grid, BQ * 2, 0, (cudaStream_t)uzwk_ctx_stream(c)>>>(a);
    return UZWK_LAUNCHED(c, "flash_attention_kernel");
}

bool aligned16(const void *p) { return ((uintptr_t)p & 15u) == 0; }

} // namespace

/* Variants (registry "flash_attention"): 0 = 64 query rows (4 warps) x 64-key tiles (the engine's),
 * 1 = 128 rows (8 warps) x 64 keys, 2 = 64 rows x 32 keys, 3 = 128 rows x 32 keys. */
extern "C" int uzwk_flash_attention(uzwk_ctx *c, const uzwk_f16 *q, int ldq, long q_bstride, const uzwk_f16 *k,
                                    const uzwk_f16 *v, int ldk, long kv_bstride, uzwk_f16 *out, int ldo,
                                    long o_bstride, int Bt, int Nq, int Nk, int H, int causal, int q_offset,
                                    float scale, int variant) {
    if (Bt < 0 || Nq < 0 || Nk < 0 || H < 0 || q_offset < 0)
        return uzwk_fail(c, "uzwk_flash_attention: bad sizes Bt=%d Nq=%d Nk=%d H=%d q_offset=%d", Bt, Nq, Nk, H,
                         q_offset);
    if (variant < 0 || variant > 3) return uzwk_fail(c, "uzwk_flash_attention: no variant %d (0..3)", variant);
    if (Bt == 0 || Nq == 0 || H == 0) return 0;
    if (H > 65535 || Bt > 65535) return uzwk_fail(c, "uzwk_flash_attention: H=%d or Bt=%d over 65535", H, Bt);
    const int D = H * UZWK_DH;
    if (ldq < D || ldo < D || (Nk > 0 && ldk < D))
        return uzwk_fail(c, "uzwk_flash_attention: ldq=%d ldk=%d ldo=%d below H*64=%d", ldq, ldk, ldo, D);
    /* 16-byte copies: every row start of every head must be 16-byte aligned. */
    if (!aligned16(q) || !aligned16(out) || (Nk > 0 && (!aligned16(k) || !aligned16(v))) || ldq % 8 || ldk % 8 ||
        ldo % 8 || q_bstride % 8 || kv_bstride % 8 || o_bstride % 8)
        return uzwk_fail(c,
                         "uzwk_flash_attention: q, k, v, out must be 16-byte aligned and ldq=%d ldk=%d ldo=%d, "
                         "strides %ld %ld %ld multiples of 8 elements",
                         ldq, ldk, ldo, q_bstride, kv_bstride, o_bstride);
    if (Nk > 0 && (!k || !v)) return uzwk_fail(c, "uzwk_flash_attention: NULL k or v");

    FlashArgs a;
    a.q = reinterpret_cast<const __half *>(q);
    a.ldq = ldq;
    a.q_bstride = q_bstride;
    /* with Nk = 0 nothing is read from k/v; point them at q so the kernel never sees NULL */
    a.k = reinterpret_cast<const __half *>(Nk > 0 ? k : q);
    a.v = reinterpret_cast<const __half *>(Nk > 0 ? v : q);
    a.ldk = ldk;
    a.kv_bstride = kv_bstride;
    a.out = reinterpret_cast<__half *>(out);
    a.ldo = ldo;
    a.o_bstride = o_bstride;
    a.Nq = Nq;
    a.Nk = Nk;
    a.causal = causal ? 1 : 0;
    a.q_offset = q_offset;
    a.scale_log2 = scale * 1.4426950408889634f;
    switch (variant) {
    case 0: return launch_flash<64, 64>(c, a, Bt, H);
    case 1: return launch_flash<128, 64>(c, a, Bt, H);
    case 2: return launch_flash<64, 32>(c, a, Bt, H);
    default: return launch_flash<128, 32>(c, a, Bt, H);
    }
}
