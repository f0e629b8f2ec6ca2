// qgemm_w8a16.cu - uzwk_gemm_w8a16 (k_qgemm.h): y = epi(wscale[o] * x[N,I] . W[O,I]^T + bias) with
// fp16 x and int8 W, the weights widened to f16 in registers (exact), products on mma.sync
// m16n8k16 with fp32 accumulation, the per-row weight scale applied once per output in the
// epilogue. Two kernels, chosen by N.
//
// SKINNY (N <= 32, the decode steps): memory-bound on W, which is read exactly once with 16-byte
// streamed loads (ld.global.nc.L1::no_allocate), straight into registers (no shared memory on the
// way). The product is computed transposed, y^T = W . x^T: W supplies the A operand (16 output
// rows per m-tile), x the B operand (8 rows of x per n-tile, NT = ceil(N/8); rows past N are zero
// registers, never read).
//   Fragments: the sum over k does not care which k a fragment slot holds as long as A and B agree.
//   Lane (g = lane/4, t = lane%4) loads, per 64-column chunk at k, the 16 bytes W[o+g][k+16t ..
//   k+16t+15] and W[o+g+8][same], and the 16 halves x[n+g][k+16t .. +15] (two 16-byte loads).
//   Those 16 columns feed four mma: mma j (0..3) takes the lane's columns 4j, 4j+1 as the
//   fragment's k = 2t, 2t+1 and 4j+2, 4j+3 as k = 2t+8, 2t+9 (a0/a2 from W row g, a1/a3 from row
//   g+8, b0/b1 from x row g). Every lane with the same t maps fragment slots to columns the same
//   way, so each product pairs W[o][i] with x[n][i]; the four mma cover the 64 columns once.
//   Widening: int8 word j of a W row (its columns 4j..4j+3) becomes two f16x2, (4j, 4j+1) = a0 or
//   a1 and (4j+2, 4j+3) = a2 or a3 (qgemm_common.cuh: xor, two byte_perm, two f16x2 subtractions).
// Work split: a block owns RB = 16*MT output rows; its WARPS warps split I (warp w takes chunks w,
// w+WARPS, ...; U chunks in flight per lane per step, so a block holds U*MT*2*16 bytes per lane of
// W in flight); the partial sums meet in shared memory, are added in warp order (deterministic),
// scaled by wscale, biased, and written through the epilogue (consecutive threads, consecutive o).
//   No split of I across blocks: at O = 1280 the 80 blocks of variant 0 each put their whole
//   20 KB slice of W in flight in one step (8 warps x 32 lanes x U=4 x 2 x 16 B = 32 KB), i.e.
//   the matrix is read in a single wave, and a cross-block reduction would cost a second launch or
//   non-deterministic atomics. x is not staged in shared memory either: the warps of a block read
//   disjoint columns of x, so there is no reuse inside a block to capture (the reuse is across the
//   blocks resident on an SM, which the L1-cached __ldg loads of x get).
// Variants (registry "qgemm_w8a16_skinny"): 0: 16 rows/block, 8 warps, 4 chunks in flight;
// 1: 16 rows, 4 warps, 4 in flight; 2: 32 rows, 8 warps, 2 in flight (x re-read half as often: for
// N = 32).
//
// TC (N > 32): block tile BM x BN (rows of x by rows of W), BK = 64 columns of I per k-tile, warps
// WM x WN each owning a (BM/WM) x (BN/WN) warp tile of m16n8k16 mma (f16 in, fp32 accumulate).
// Pipeline as gemm.cu's TC (pipeline.cuh): STAGES buffers filled by cp.async.cg 16-byte copies
// (zero-filled past N, O and I) STAGES-1 tiles ahead; one __syncthreads per k-tile. The int8 W tile
// goes to shared memory as int8 (half the bytes of the fp16 kernel's) and is widened to f16 in
// registers after the shared-memory read: no ldmatrix, plain 16-byte shared loads with a lane ->
// column map that suits both operands:
//   Lane t owns tile columns 16t .. 16t+15 (of 64). Sub-step h (0, 1) takes columns 16t+8h .. +7:
//   for the x tile one 16-byte chunk per row (rows g and g+8 of each m16 tile), for the W tile the
//   bytes 16t+8h .. +7 of the lane's 16-byte load of row g of each n8 tile. In the two k16 mma of
//   a sub-step (s = 0, 1) columns +4s, +4s+1 are the fragment's k = 2t, 2t+1 and +4s+2, +4s+3 are
//   k = 2t+8, 2t+9, for A (x) and B (W) alike.
//   Shared layout and banks: x tile [BM][64 halves] = eight 16-byte chunks per 128-byte row,
//   chunk c of row r stored at c ^ (r & 1). A 16-byte shared load is served in four phases of 8
//   lanes; a phase is rows 2p, 2p+1 (g) by t = 0..3, reading chunks 2t+h: with the swizzle the even
//   row takes the chunks of one parity and the odd row the other, 8 distinct 16-byte bank groups.
//   W tile [BN][64 bytes], unswizzled: rows 2p and 2p+1 of a phase are the two 64-byte halves of a
//   128-byte line and t picks the 16-byte chunk: 8 distinct groups. cp.async writes (8 consecutive
//   threads = one x row's 8 chunks, or two W rows' 4 chunks) are conflict-free under both layouts.
// Variants (registry "qgemm_w8a16_tc"): 0: 128x128x64, 8 warps 2x4 (warp tile 64x32), 3 stages,
// 72 KiB shared; 1: the same with 4 stages, 96 KiB; 2: 64x64x64, 4 warps 2x2 (32x32), 4 stages,
// 48 KiB (more blocks for N of a few hundred).
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <stdint.h>

#include "cuda_check.cuh"
#include "k_qgemm.h"
#include "qgemm_common.cuh"

namespace {

/* ================================================================ SKINNY */

template <int MT, int WARPS, int NT, int U>
__global__ void __launch_bounds__(WARPS * 32)
    w8a16_skinny_kernel(const __half *__restrict__ x,       /* dev [N, ldx], N <= NT*8 */
                        int ldx, const int8_t *__restrict__ W, /* dev [O, ldw] */
                        int ldw, const float *__restrict__ wscale, /* dev [O] */
                        const float *__restrict__ bias,            /* dev [O] or NULL */
                        void *__restrict__ y,                      /* dev [N, ldy] f16 or f32 */
                        int ldy, int N, int I, int O, int epi) {
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int g = lane >> 2, t = lane & 3;
    const int o0 = blockIdx.x * MT * 16;
    const int nch = (I + 63) >> 6; /* 64-column chunks */

    const int8_t *wrow[MT][2]; /* W rows o0 + mt*16 + g (+8), NULL past O */
    const __half *xrow[NT];    /* x rows nt*8 + g, NULL past N */
    skinny_rows<MT, NT>(W, ldw, O, o0, x, ldx, N, g, wrow, xrow);

    float acc[MT][NT][4];
    zero_frags(acc);

    using WV = uint4[MT][2]; /* one chunk: the lane's 16 weights of rows g (wv[mt][0]) and g+8 ([1]) */
    skinny_mainloop<U, WARPS, WV>(
        warp, nch,
        [&](WV &wv, int c) {
            const int k = c * 64 + t * 16; /* I % 16 == 0: all 16 columns in, or none */
#pragma unroll
            for (int mt = 0; mt < MT; mt++)
#pragma unroll
                for (int h = 0; h < 2; h++)
                    wv[mt][h] = (wrow[mt][h] && k < I) ? ld_stream16_i8(wrow[mt][h] + k) : make_uint4(0u, 0u, 0u, 0u);
        },
        [&](const WV &wv, int c) {
            const int k = c * 64 + t * 16;
            uint4 xv[NT][2]; /* halves k .. k+7, k+8 .. k+15 of x row nt*8 + g */
#pragma unroll
            for (int nt = 0; nt < NT; nt++) {
                if (xrow[nt] && k < I) {
                    xv[nt][0] = __ldg(reinterpret_cast<const uint4 *>(xrow[nt] + k));
                    xv[nt][1] = __ldg(reinterpret_cast<const uint4 *>(xrow[nt] + k + 8));
                } else {
                    xv[nt][0] = make_uint4(0u, 0u, 0u, 0u);
                    xv[nt][1] = make_uint4(0u, 0u, 0u, 0u);
                }
            }
#pragma unroll
            for (int mt = 0; mt < MT; mt++)
#pragma unroll
                for (int j = 0; j < 4; j++) {
                    uint32_t a[4];
                    i8x4_to_f16x2(u4_word(wv[mt][0], j), a[0], a[2]); /* row g:   cols 4j,4j+1 | 4j+2,4j+3 */
                    i8x4_to_f16x2(u4_word(wv[mt][1], j), a[1], a[3]); /* row g+8: the same */
#pragma unroll
                    for (int nt = 0; nt < NT; nt++) {
                        const uint4 &xs = xv[nt][j >> 1]; /* halves 4j .. 4j+3 are words 2(j&1), 2(j&1)+1 */
                        const uint32_t b0 = (j & 1) ? xs.z : xs.x;
                        const uint32_t b1 = (j & 1) ? xs.w : xs.y;
                        mma16816(acc[mt][nt], a, b0, b1);
                    }
                }
        });

    skinny_reduce<MT, NT, WARPS>(acc, tid, o0, N, O, [&](int n, int o, float s) {
        const float v = fmaf(s, __ldg(wscale + o), bias ? __ldg(bias + o) : 0.0f);
        epi_store1(y, (size_t)n * ldy + o, v, epi);
    });
}

/* One product's operands as the launch functions pass them on. */
struct w8a16_args {
    const __half *x; /* dev [N, ldx] */
    int ldx;
    const int8_t *W; /* dev [O, ldw] */
    int ldw;
    const float *wscale; /* dev [O] */
    const float *bias;   /* dev [O] or NULL */
    void *y;             /* dev [N, ldy] */
    int ldy, N, I, O, epi;
};

template <int MT, int WARPS, int NT, int U>
int skinny_go(uzwk_ctx *c, const w8a16_args &a) {
    constexpr int RB = MT * 16;
    const dim3 grid((unsigned)((a.O + RB - 1) / RB));
    w8a16_skinny_kernel<MT, WARPS, NT, U><<<grid, WARPS * 32, 0, (cudaStream_t)uzwk_ctx_stream(c)>>>(
        a.x, a.ldx, a.W, a.ldw, a.wscale, a.bias, a.y, a.ldy, a.N, a.I, a.O, a.epi);
    return UZWK_LAUNCHED(c, "w8a16_skinny_kernel");
}

/* NT = ceil(N/8) n-tiles, N <= 32. */
template <int MT, int WARPS, int U>
int skinny_nt(uzwk_ctx *c, const w8a16_args &a) {
    switch ((a.N + 7) / 8) {
    case 1: return skinny_go<MT, WARPS, 1, U>(c, a);
    case 2: return skinny_go<MT, WARPS, 2, U>(c, a);
    case 3: return skinny_go<MT, WARPS, 3, U>(c, a);
    case 4: return skinny_go<MT, WARPS, 4, U>(c, a);
    default: return uzwk_fail(c, "uzwk_gemm_w8a16 skinny: N = %d is not in 1..32 (internal)", a.N);
    }
}

int w8a16_skinny(uzwk_ctx *c, const w8a16_args &a, int variant) {
    switch (variant) {
    case 0: return skinny_nt<1, 8, 4>(c, a);
    case 1: return skinny_nt<1, 4, 4>(c, a);
    case 2: return skinny_nt<2, 8, 2>(c, a);
    default:
        return uzwk_fail(c, "uzwk_gemm_w8a16 skinny: variant %d not in 0..%d", variant, UZWK_QGEMM_W8A16_VARIANTS - 1);
    }
}

/* ================================================================ TC */

/* QBK = 64 columns of I per k-tile, i8_tile_off (the W tile's layout): qgemm_common.cuh */

/* Offset in halves of chunk c (8 halves) of row r in an x tile [rows][QBK], swizzled (header). */
__device__ __forceinline__ int xswz(int r, int c) { return r * QBK + ((c ^ (r & 1)) << 3); }

/* One k-tile (64 columns) of the warp tile: MI x NI m16n8 tiles, four k16 mma each (header). */
template <int MI, int NI>
__device__ __forceinline__ void w8a16_tc_compute(const __half *sX, const int8_t *sW, int wrow, int wcol, int lane,
                                                 float (&acc)[MI][NI][4]) {
    const int g = lane >> 2, t = lane & 3;
    uint4 wq[NI]; /* W row wcol + 8j + g, bytes 16t .. 16t+15 */
    lds_w_slices(wq, sW, wcol, g, t);
#pragma unroll
    for (int h = 0; h < 2; h++) {
        uint32_t bf[NI][4]; /* k16 step 0: b0 b1 = bf[0] bf[1]; step 1: bf[2] bf[3] */
#pragma unroll
        for (int j = 0; j < NI; j++) {
            i8x4_to_f16x2(h ? wq[j].z : wq[j].x, bf[j][0], bf[j][1]); /* bytes 8h .. 8h+3 */
            i8x4_to_f16x2(h ? wq[j].w : wq[j].y, bf[j][2], bf[j][3]); /* bytes 8h+4 .. 8h+7 */
        }
#pragma unroll
        for (int i = 0; i < MI; i++) {
            const int r = wrow + i * 16 + g;
            uint32_t a0[4], a1[4]; /* halves 0-3, 4-7 of the chunk */
            rows_to_a_frags(*reinterpret_cast<const uint4 *>(sX + xswz(r, 2 * t + h)),     /* row g */
                            *reinterpret_cast<const uint4 *>(sX + xswz(r + 8, 2 * t + h)), /* row g+8 */
                            a0, a1);
#pragma unroll
            for (int j = 0; j < NI; j++) {
                mma16816(acc[i][j], a0, bf[j][0], bf[j][1]);
                mma16816(acc[i][j], a1, bf[j][2], bf[j][3]);
            }
        }
    }
}

/* The TC kernel (header). Grid: x over ceil(N/BM) row tiles, y over ceil(O/BN) column tiles. */
template <int BM, int BN, int WM, int WN, int STAGES>
__global__ void __launch_bounds__(WM *WN * 32)
    w8a16_tc_kernel(const __half *__restrict__ x,       /* dev [N, ldx] */
                    int ldx, const int8_t *__restrict__ W, /* dev [O, ldw] */
                    int ldw, const float *__restrict__ wscale, /* dev [O] */
                    const float *__restrict__ bias,            /* dev [O] or NULL */
                    void *__restrict__ y,                      /* dev [N, ldy] f16 or f32 */
                    int ldy, int N, int I, int O, int epi, int vec_store) {
    using BT = block_tiling<BM, BN, WM, WN>;
    constexpr int THREADS = BT::THREADS, MI = BT::MI, NI = BT::NI;
    extern __shared__ uint4 q16_smem[];
    __half *sX = reinterpret_cast<__half *>(q16_smem);                 /* [STAGES][BM][QBK] swizzled */
    int8_t *sW = reinterpret_cast<int8_t *>(sX + STAGES * BM * QBK); /* [STAGES][BN][QBK] */
    const BT bt;

    float acc[MI][NI][4];
    zero_frags(acc);
    pipelined_mainloop<STAGES>(
        (I + QBK - 1) / QBK,
        [&](int st, int kt) {
            cp_async_tile<BM, 8, THREADS, false>(sX + st * BM * QBK, x, ldx, bt.m0, N, kt * QBK, I, bt.tid,
                                                 [](int r, int c) { return xswz(r, c); });
            cp_async_tile<BN, 4, THREADS, false>(sW + st * BN * QBK, W, ldw, bt.n0, O, kt * QBK, I, bt.tid,
                                                 i8_tile_off());
        },
        [&](int st) {
            w8a16_tc_compute<MI, NI>(sX + st * BM * QBK, sW + st * BN * QBK, bt.wrow(), bt.wcol(), bt.lane, acc);
        });

    warp_tile_epilogue(acc, bt.m0 + bt.wrow(), bt.n0 + bt.wcol(), bt.lane, [&](int row, int col, float a0, float a1) {
        q_store_pair(y, ldy, N, O, row, col, a0, a1, 1.0f, wscale, bias, epi, vec_store);
    });
}

template <int BM, int BN, int WM, int WN, int STAGES>
int tc_go(uzwk_ctx *c, const w8a16_args &a) {
    const size_t smem = (size_t)STAGES * (BM * QBK * sizeof(__half) + BN * QBK);
    auto kern = w8a16_tc_kernel<BM, BN, WM, WN, STAGES>;
    dim3 grid;
    if (tiled_launch_setup(c, "uzwk_gemm_w8a16 TC", kern, smem, a.N, a.O, BM, BN, &grid)) return -1;
    kern<<<grid, WM * WN * 32, smem, (cudaStream_t)uzwk_ctx_stream(c)>>>(a.x, a.ldx, a.W, a.ldw, a.wscale, a.bias, a.y,
                                                                          a.ldy, a.N, a.I, a.O, a.epi,
                                                                          epi_vec_ok(a.y, a.ldy, a.epi));
    return UZWK_LAUNCHED(c, "w8a16_tc_kernel");
}

int w8a16_tc(uzwk_ctx *c, const w8a16_args &a, int variant) {
    switch (variant) {
    case 0: return tc_go<128, 128, 2, 4, 3>(c, a);
    case 1: return tc_go<128, 128, 2, 4, 4>(c, a);
    case 2: return tc_go<64, 64, 2, 2, 4>(c, a);
    default:
        return uzwk_fail(c, "uzwk_gemm_w8a16 TC: variant %d not in 0..%d", variant, UZWK_QGEMM_W8A16_VARIANTS - 1);
    }
}

} // namespace

extern "C" int uzwk_gemm_w8a16(uzwk_ctx *c, const uzwk_f16 *x, int ldx, const int8_t *W, int ldw, const float *wscale,
                               const float *bias, void *y, int ldy, int N, int I, int O, uzwk_epi epi, int variant) {
    if (!c) return -1;
    if (qgemm_check_args(c, "uzwk_gemm_w8a16", x, ldx, 2, W, ldw, wscale, bias, y, ldy, N, I, O, (int)epi)) return -1;
    if (variant < 0 || variant >= UZWK_QGEMM_W8A16_VARIANTS)
        return uzwk_fail(c, "uzwk_gemm_w8a16: variant %d not in 0..%d", variant, UZWK_QGEMM_W8A16_VARIANTS - 1);
    const w8a16_args a = {reinterpret_cast<const __half *>(x), ldx, W, ldw, wscale, bias, y, ldy, N, I, O, (int)epi};
    return N <= 32 ? w8a16_skinny(c, a, variant) : w8a16_tc(c, a, variant);
}
