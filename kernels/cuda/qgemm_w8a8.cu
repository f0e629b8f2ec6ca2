// qgemm_w8a8.cu - uzwk_gemm_w8a8 (k_qgemm.h): y = epi((float)(xq[N,I] . W[O,I]^T) * xscale[n] *
// wscale[o] + bias[o]) with int8 activations (one scale per row, from uzwk_quantize_rows) and int8
// weights (one scale per output row): the compute-bound encoder products (N = 1500).
//
// Tiling: block tile BM x BN (rows of xq by rows of W), BK = 64 columns of I (64 bytes) per k-tile;
// warps WM x WN, each owning a (BM/WM) x (BN/WN) warp tile of mma.sync m16n8k32 s8 x s8 -> s32
// (fragments: qgemm_common.cuh). The integer sums are exact (|sum| <= 127 * 127 * I < 2^31 for
// I <= 131072), so the result differs from the CPU reference only by the float rounding of the
// epilogue: (float)acc, two multiplies by the scales, the bias add.
// Pipeline: STAGES buffers, cp.async.cg 16-byte copies (zero-filled past N, O and I; I % 16 == 0,
// so a copy is all in or all out) STAGES-1 tiles ahead of the math; one __syncthreads per k-tile
// (pipeline.cuh: the same main loop as gemm.cu's TC kernel).
// Fragments without ldmatrix: both operands are int8 and K-contiguous, and each m16n8k32 register
// holds 4 consecutive k, so lane t reads 16 contiguous bytes, columns 16t .. 16t+15 of the k-tile,
// of each row it needs (rows g and g+8 of each m16 tile of xq, row g of each n8 tile of W), with
// one 16-byte shared load. Two mma cover the k-tile: mma m (0, 1) takes the lane's bytes 8m .. 8m+3
// as the fragment's k = 4t .. 4t+3 (a0, a1, b0) and bytes 8m+4 .. 8m+7 as k = 16+4t .. 16+4t+3
// (a2, a3, b1). The map from fragment slots to columns depends on t only, and is the same for A
// and B, so each product pairs xq[n][i] with W[o][i]; the two mma cover the 64 columns once.
// Shared layout and banks: both tiles are [rows][64 bytes], unswizzled and unpadded. A 16-byte
// shared load is served in four phases of 8 lanes; a phase is two consecutive rows (g = 2p, 2p+1;
// the rows a warp reads start at even offsets) by t = 0..3: the two rows are the two 64-byte halves
// of one 128-byte line and t picks the 16-byte chunk, so the 8 lanes touch 8 distinct 16-byte bank
// groups. The cp.async writes (8 consecutive threads = 4 chunks of 2 consecutive rows) are
// conflict-free for the same reason.
// Epilogue: straight from the accumulators (lane holds columns 2t, 2t+1 of rows g and g+8 of each
// m16n8 tile), through q_store_pair (2-element vector stores where y and ldy allow).
// Variants (registry "qgemm_w8a8"): 0: 128x128x64, 8 warps 2x4 (warp tile 64x32), 4 stages,
// 64 KiB shared; 1: the same with 3 stages, 48 KiB; 2: 64x64x64, 4 warps 2x2 (32x32), 4 stages,
// 32 KiB (more blocks for few rows).
#include <cuda_runtime.h>
#include <stdint.h>

#include "cuda_check.cuh"
#include "k_qgemm.h"
#include "qgemm_common.cuh"

namespace {

/* QBK = 64 bytes (columns of I) per k-tile, i8_tile_off (the tiles' layout): qgemm_common.cuh */

/* One k-tile (64 columns) of the warp tile: MI x NI m16n8 tiles, two k32 mma each (header). */
template <int MI, int NI>
__device__ __forceinline__ void w8a8_compute(const int8_t *sX, const int8_t *sW, int wrow, int wcol, int lane,
                                             int (&acc)[MI][NI][4]) {
    const int g = lane >> 2, t = lane & 3;
    uint4 b[NI]; /* W row wcol + 8j + g, bytes 16t .. 16t+15 */
    lds_w_slices(b, sW, wcol, g, t);
#pragma unroll
    for (int i = 0; i < MI; i++) {
        const int r = wrow + i * 16 + g;
        uint32_t a0[4], a1[4]; /* bytes 0-7, 8-15 of the lane's 16 */
        rows_to_a_frags(*reinterpret_cast<const uint4 *>(sX + r * QBK + t * 16),       /* row g */
                        *reinterpret_cast<const uint4 *>(sX + (r + 8) * QBK + t * 16), /* row g+8 */
                        a0, a1);
#pragma unroll
        for (int j = 0; j < NI; j++) {
            mma16832_s8(acc[i][j], a0, b[j].x, b[j].y);
            mma16832_s8(acc[i][j], a1, b[j].z, b[j].w);
        }
    }
}

/* The kernel (header). Grid: x over ceil(N/BM) row tiles, y over ceil(O/BN) column tiles. */
template <int BM, int BN, int WM, int WN, int STAGES>
__global__ void __launch_bounds__(WM *WN * 32)
    w8a8_kernel(const int8_t *__restrict__ xq,     /* dev [N, ldq] */
                int ldq, const float *__restrict__ xscale, /* dev [N] */
                const int8_t *__restrict__ W,              /* dev [O, ldw] */
                int ldw, const float *__restrict__ wscale, /* dev [O] */
                const float *__restrict__ bias,            /* dev [O] or NULL */
                void *__restrict__ y,                      /* dev [N, ldy] f16 or f32 */
                int ldy, int N, int I, int O, int epi, int vec_store) {
    using BT = block_tiling<BM, BN, WM, WN>;
    constexpr int THREADS = BT::THREADS, MI = BT::MI, NI = BT::NI;
    extern __shared__ uint4 q8_smem[];
    int8_t *sX = reinterpret_cast<int8_t *>(q8_smem); /* [STAGES][BM][QBK] */
    int8_t *sW = sX + STAGES * BM * QBK;              /* [STAGES][BN][QBK] */
    const BT bt;

    int acc[MI][NI][4] = {};
    pipelined_mainloop<STAGES>(
        (I + QBK - 1) / QBK,
        [&](int st, int kt) {
            cp_async_tile<BM, 4, THREADS, false>(sX + st * BM * QBK, xq, ldq, bt.m0, N, kt * QBK, I, bt.tid,
                                                 i8_tile_off());
            cp_async_tile<BN, 4, THREADS, false>(sW + st * BN * QBK, W, ldw, bt.n0, O, kt * QBK, I, bt.tid,
                                                 i8_tile_off());
        },
        [&](int st) {
            w8a8_compute<MI, NI>(sX + st * BM * QBK, sW + st * BN * QBK, bt.wrow(), bt.wcol(), bt.lane, acc);
        });

    /* the row's activation scale, read once per row (0 past N: such rows are not stored) */
    warp_tile_epilogue(
        acc, bt.m0 + bt.wrow(), bt.n0 + bt.wcol(), bt.lane,
        [&](int row) { return row < N ? __ldg(xscale + row) : 0.0f; },
        [&](int row, int col, int a0, int a1, float xs) {
            q_store_pair(y, ldy, N, O, row, col, (float)a0, (float)a1, xs, wscale, bias, epi, vec_store);
        });
}

/* One product's operands as the launch functions pass them on. */
struct w8a8_args {
    const int8_t *xq; /* dev [N, ldq] */
    int ldq;
    const float *xscale; /* dev [N] */
    const int8_t *W;     /* dev [O, ldw] */
    int ldw;
    const float *wscale; /* dev [O] */
    const float *bias;   /* dev [O] or NULL */
    void *y;             /* dev [N, ldy] */
    int ldy, N, I, O, epi;
};

template <int BM, int BN, int WM, int WN, int STAGES>
int w8a8_go(uzwk_ctx *c, const w8a8_args &a) {
    const size_t smem = (size_t)STAGES * (BM + BN) * QBK;
    auto kern = w8a8_kernel<BM, BN, WM, WN, STAGES>;
    dim3 grid;
    if (tiled_launch_setup(c, "uzwk_gemm_w8a8", kern, smem, a.N, a.O, BM, BN, &grid)) return -1;
    kern<<<grid, WM * WN * 32, smem, (cudaStream_t)uzwk_ctx_stream(c)>>>(
        a.xq, a.ldq, a.xscale, a.W, a.ldw, a.wscale, a.bias, a.y, a.ldy, a.N, a.I, a.O, a.epi,
        epi_vec_ok(a.y, a.ldy, a.epi));
    return UZWK_LAUNCHED(c, "w8a8_kernel");
}

} // namespace

extern "C" int uzwk_gemm_w8a8(uzwk_ctx *c, const int8_t *xq, int ldq, const float *xscale, const int8_t *W, int ldw,
                              const float *wscale, const float *bias, void *y, int ldy, int N, int I, int O,
                              uzwk_epi epi, int variant) {
    if (!c) return -1;
    if (qgemm_check_args(c, "uzwk_gemm_w8a8", xq, ldq, 1, W, ldw, wscale, bias, y, ldy, N, I, O, (int)epi)) return -1;
    if (!xscale || (uintptr_t)xscale % 4 != 0) return uzwk_fail(c, "uzwk_gemm_w8a8: xscale NULL or not f32-aligned");
    if (I > 131072) return uzwk_fail(c, "uzwk_gemm_w8a8: I = %d > 131072 could overflow the int32 accumulator", I);
    const w8a8_args a = {xq, ldq, xscale, W, ldw, wscale, bias, y, ldy, N, I, O, (int)epi};
    switch (variant) {
    case 0: return w8a8_go<128, 128, 2, 4, 4>(c, a);
    case 1: return w8a8_go<128, 128, 2, 4, 3>(c, a);
    case 2: return w8a8_go<64, 64, 2, 2, 4>(c, a);
    default:
        return uzwk_fail(c, "uzwk_gemm_w8a8: variant %d not in 0..%d", variant, UZWK_QGEMM_W8A8_VARIANTS - 1);
    }
}
