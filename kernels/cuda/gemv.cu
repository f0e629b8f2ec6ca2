// gemv.cu - the SKINNY implementation of uzwk_gemm (k_gemm.h) for few rows of x (N <= 32: the
// decode steps): y[N,O] = x[N,I] . W[O,I]^T (+ bias) with the epilogue fused. Memory-bound on W,
// which is read exactly once with 16-byte loads; x (at most 32 rows) is re-read from L1/L2.
//
// Tensor cores make the arithmetic free here: the product is computed transposed, y^T = W . x^T,
// with m16n8k16 mma.sync where W supplies the A operand (16 output rows per m-tile) straight from
// global memory into registers and x the B operand (8 rows of x per n-tile; N is rounded up to
// NT = ceil(N/8) n-tiles, the missing rows read as 0 without touching memory).
//   Fragments without shared memory: the sum over k does not care which k a fragment slot holds,
//   as long as A and B agree. Lane (g = lane/4, t = lane%4) loads 16 bytes W[o+g][k+8t .. k+8t+7]
//   and W[o+g+8][same], and 16 bytes x[n+g][k+8t .. +7]; those 8 halves feed two mma: mma j in
//   {0, 1} takes halves {4j, 4j+1} as the fragment's k = 2t, 2t+1 and halves {4j+2, 4j+3} as
//   k = 2t+8, 2t+9 (a0/a2 from row g, a1/a3 from row g+8, b0/b1 from x row g). Every lane with
//   the same t maps the fragment's k the same way, so each product pairs W[o][k'] with x[n][k'];
//   the two mma cover the 32 columns k .. k+31 once.
//   Accumulators: lane holds y^T[o+g][n+2t], [o+g][n+2t+1], [o+g+8][n+2t], [o+g+8][n+2t+1].
// Work split: a block owns RB = 16*MT output rows; its WARPS warps split I (warp w takes the
// 32-column chunks w, w+WARPS, ...; U chunks in flight per lane per step), then the partial sums
// meet in shared memory, are added in warp order (deterministic), and the block writes its RB x N
// outputs through the epilogue (consecutive threads on consecutive o).
// Variants (registry "gemm_skinny"): 0: 16 rows/block, 8 warps, 4 chunks in flight; 1: 16 rows,
// 16 warps, 2 in flight; 2: 32 rows, 8 warps, 2 in flight; 3: 16 rows, 4 warps, 4 in flight.
// N > 32 is processed in pieces of 32 rows (W is then read once per piece).
// Alignment: 16-byte loads need x and W 16-byte aligned and ldx, ldw multiples of 8; otherwise (and
// for a chunk that crosses I) the same kernel reads with bounds-checked scalar loads.
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <stdint.h>
#include <stdio.h>

#include "cuda_check.cuh"
#include "gemm_common.cuh"
#include "k_gemm.h"
#include "mma_ptx.cuh"

namespace {

/* epi_store1 (the same arithmetic as gemm.cu's), load8_scalar, skinny_rows, skinny_reduce: gemm_common.cuh;
 * mma16816: mma_ptx.cuh */

/* 16 bytes of W, streamed: not kept in L1 (each element is used once). */
__device__ __forceinline__ uint4 ld_stream16(const __half *p) {
    uint4 v;
    asm("ld.global.nc.L1::no_allocate.v4.u32 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
                 : "l"(p));
    return v;
}

/* row[k .. k+7] (0 past I, all 0 for a NULL row). VEC: row 16-byte aligned at multiples of 8. */
template <bool VEC, bool STREAM>
__device__ __forceinline__ uint4 load8(const __half *row, int k, int I) {
    if (!row || k >= I) return make_uint4(0u, 0u, 0u, 0u);
    if (VEC && k + 8 <= I) {
        if (STREAM) return ld_stream16(row + k);
        return __ldg(reinterpret_cast<const uint4 *>(row + k));
    }
    return load8_scalar(row, k, I);
}

template <int MT, int WARPS, int NT, int U, bool VEC>
__global__ void __launch_bounds__(WARPS * 32)
    skinny_kernel(const __half *__restrict__ x, /* dev [N, ldx], N <= NT*8 */
                  int ldx, const __half *__restrict__ W, /* dev [O, ldw] */
                  int ldw, const float *__restrict__ bias, /* dev [O] or NULL */
                  void *__restrict__ y,                     /* dev [N, ldy] f16 or f32 */
                  int ldy, int N, int I, int O, int epi) {
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int g = lane >> 2, t = lane & 3;
    const int o0 = blockIdx.x * MT * 16;
    const int nch = (I + 31) >> 5;

    const __half *wrow[MT][2]; /* W rows o0 + mt*16 + g (+8), NULL past O */
    const __half *xrow[NT];    /* x rows nt*8 + g, NULL past N */
    skinny_rows<MT, NT>(W, ldw, O, o0, x, ldx, N, g, wrow, xrow);

    float acc[MT][NT][4];
    zero_frags(acc);

    using WV = uint4[MT][2]; /* one chunk: the lane's 8 halves of W rows g (wv[mt][0]) and g+8 ([1]) */
    skinny_mainloop<U, WARPS, WV>(
        warp, nch,
        [&](WV &wv, int c) {
            const int k = c * 32 + t * 8; /* >= I for a chunk past the end: zeros */
#pragma unroll
            for (int mt = 0; mt < MT; mt++)
#pragma unroll
                for (int h = 0; h < 2; h++) wv[mt][h] = load8<VEC, true>(wrow[mt][h], k, I);
        },
        [&](const WV &wv, int c) {
            const int k = c * 32 + t * 8;
            uint4 xv[NT];
#pragma unroll
            for (int nt = 0; nt < NT; nt++) xv[nt] = load8<VEC, false>(xrow[nt], k, I);
#pragma unroll
            for (int mt = 0; mt < MT; mt++) {
                uint32_t a_lo[4], a_hi[4]; /* halves 0-3, 4-7 */
                rows_to_a_frags(wv[mt][0], wv[mt][1], a_lo, a_hi);
#pragma unroll
                for (int nt = 0; nt < NT; nt++) {
                    mma16816(acc[mt][nt], a_lo, xv[nt].x, xv[nt].y);
                    mma16816(acc[mt][nt], a_hi, xv[nt].z, xv[nt].w);
                }
            }
        });

    skinny_reduce<MT, NT, WARPS>(acc, tid, o0, N, O, [&](int n, int o, float s) {
        if (bias) s += __ldg(bias + o);
        epi_store1(y, (size_t)n * ldy + o, s, epi);
    });
}

template <int MT, int WARPS, int NT, int U>
int skinny_go(uzwk_ctx *c, const gemm_args &a, bool vec) {
    constexpr int RB = MT * 16;
    const dim3 grid((unsigned)((a.O + RB - 1) / RB));
    cudaStream_t st = (cudaStream_t)uzwk_ctx_stream(c);
    if (vec)
        skinny_kernel<MT, WARPS, NT, U, true>
            <<<grid, WARPS * 32, 0, st>>>(a.x, a.ldx, a.W, a.ldw, a.bias, a.y, a.ldy, a.N, a.I, a.O, a.epi);
    else
        skinny_kernel<MT, WARPS, NT, U, false>
            <<<grid, WARPS * 32, 0, st>>>(a.x, a.ldx, a.W, a.ldw, a.bias, a.y, a.ldy, a.N, a.I, a.O, a.epi);
    return UZWK_LAUNCHED(c, "skinny_kernel");
}

/* One piece of at most 32 rows: NT = ceil(N/8) n-tiles. */
template <int MT, int WARPS, int U>
int skinny_piece(uzwk_ctx *c, const gemm_args &a, bool vec) {
    switch ((a.N + 7) / 8) {
    case 1: return skinny_go<MT, WARPS, 1, U>(c, a, vec);
    case 2: return skinny_go<MT, WARPS, 2, U>(c, a, vec);
    case 3: return skinny_go<MT, WARPS, 3, U>(c, a, vec);
    case 4: return skinny_go<MT, WARPS, 4, U>(c, a, vec);
    default: return uzwk_fail(c, "uzwk_gemm SKINNY: piece of %d rows (internal)", a.N);
    }
}

constexpr int SKINNY_N_VARIANTS = 4;

int skinny_variant(uzwk_ctx *c, const gemm_args &a, bool vec, int variant) {
    switch (variant) {
    case 0: return skinny_piece<1, 8, 4>(c, a, vec);
    case 1: return skinny_piece<1, 16, 2>(c, a, vec);
    case 2: return skinny_piece<2, 8, 2>(c, a, vec);
    case 3: return skinny_piece<1, 4, 4>(c, a, vec);
    default: return uzwk_fail(c, "uzwk_gemm SKINNY: variant %d not in 0..%d", variant, SKINNY_N_VARIANTS - 1);
    }
}

} // namespace

/* Called by uzwk_gemm (gemm.cu), which has checked the dimensions and pointers. */
extern "C" int uzwk_gemm_skinny(uzwk_ctx *c, const uzwk_f16 *x, int ldx, const uzwk_f16 *W, int ldw,
                                const float *bias, void *y, int ldy, int N, int I, int O, uzwk_epi epi, int variant) {
    if (variant < 0 || variant >= SKINNY_N_VARIANTS)
        return uzwk_fail(c, "uzwk_gemm SKINNY: variant %d not in 0..%d", variant, SKINNY_N_VARIANTS - 1);
    if (N <= 0 || O <= 0) return 0;
    const size_t es = epi_esize((int)epi);
    const bool vec = ((uintptr_t)x % 16 == 0) && ((uintptr_t)W % 16 == 0) && ldx % 8 == 0 && ldw % 8 == 0;
    for (int n0 = 0; n0 < N; n0 += 32) {
        const gemm_args a = {reinterpret_cast<const __half *>(x) + (size_t)n0 * ldx, ldx,
                             reinterpret_cast<const __half *>(W), ldw, bias, (char *)y + (size_t)n0 * ldy * es, ldy,
                             N - n0 < 32 ? N - n0 : 32, I, O, (int)epi}; /* x, y rows n0 .. n0+31 (or N-1) */
        if (skinny_variant(c, a, vec, variant)) return -1;
    }
    return 0;
}
