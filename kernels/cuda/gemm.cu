// gemm.cu - y[N,O] = x[N,I] . W[O,I]^T (+ bias[O]), then an epilogue (k_gemm.h): the dispatch
// uzwk_gemm with its AUTO policy, the cuBLAS baseline (cublasGemmEx into an fp32 temporary in the
// context scratch, then a separate epilogue kernel) and our tensor-core kernel TC with the
// epilogue fused. The SKINNY kernel (N <= 32, decode steps) is in gemv.cu.
//
// TC kernel: tiling and shared memory
//   Block tile BM x BN (rows of x by rows of W) with BK = 32 along I; warps arranged WM x WN, each
//   owning a WTM x WTN = (BM/WM) x (BN/WN) warp tile made of (WTM/16) x (WTN/8) m16n8k16 mma.sync
//   instructions (f16 inputs, f32 accumulators in registers). Variants (registry "gemm_tc"):
//     0: 128x128x32, 8 warps 2x4 (warp tile 64x32), 3 stages, 48 KiB shared
//     1: 128x128x32, 8 warps 2x4 (warp tile 64x32), 4 stages, 64 KiB shared
//     2:  64x128x32, 4 warps 2x2 (warp tile 32x64), 3 stages, 36 KiB shared
//     3:   64x64x32, 4 warps 2x2 (warp tile 32x32), 3 stages, 24 KiB shared
//   Both operands are K-contiguous (x row-major [N, ldx], W row-major [O, ldw]), which is what
//   mma .row.col wants: A = x tile, B = W tile, both stored in shared memory as [rows][32 halves].
//   Pipeline (pipeline.cuh, shared with the INT8 products): STAGES buffers; cp.async.cg 16-byte
//   copies (zero-filled with src-size for the tails in N, O and I) run STAGES-1 tiles ahead of the
//   math; one __syncthreads per k-tile.
//   Fragments come from shared memory with ldmatrix.x4: for A, lanes 0-15 give rows 0-15 at
//   k 0-7 and lanes 16-31 rows 0-15 at k 8-15 (matrices = a0 a1 a2 a3); for B, lanes 0-7 give W
//   rows 0-7 at k 0-7, lanes 8-15 rows 0-7 at k 8-15, lanes 16-31 the same for rows 8-15
//   (matrices = b0 b1 of n-tile j, b0 b1 of n-tile j+1). Non-transposed ldmatrix of a row-of-W
//   8x8 matrix hands lane (g = lane/4, t = lane%4) the pair W[g][2t..2t+1], which is exactly the
//   col-major B fragment (k = 2t.., n = g).
//   Bank conflicts: a row is 64 bytes = four 16-byte chunks. Chunk c of row r is stored at chunk
//   position c ^ ((r >> 1) & 3) (XOR swizzle). An ldmatrix phase reads one chunk from each of
//   8 consecutive rows; their 16-byte bank groups, (r & 1) * 4 + (c ^ ((r >> 1) & 3)) mod 8, are
//   all different, so it is conflict-free; the cp.async writes (4 chunks of 2 rows per 8 lanes)
//   are conflict-free by the same formula. No padding, so stage sizes stay powers of two.
//   Epilogue: straight from the accumulators (lane holds columns 2t, 2t+1 of rows g and g+8 of each
//   m16n8 tile): + bias, then f16 / exact-erf GELU f16 / fp32 residual add / fp32 store, as
//   2-element vector stores when y and ldy allow.
//   Alignment: the cp.async path needs x and W 16-byte aligned and ldx, ldw multiples of 8 (any I:
//   a partial last chunk is zero-filled by src-size). Otherwise the same kernel stages the tiles
//   with bounds-checked scalar loads (slow but any layout).
#include <cublas_v2.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>

#include "cuda_check.cuh"
#include "gemm_common.cuh"
#include "k_gemm.h"
#include "mma_ptx.cuh"
#include "pipeline.cuh"

/* gemv.cu: the SKINNY implementation (same arguments; any N, processed in pieces of 32 rows). */
extern "C" int uzwk_gemm_skinny(uzwk_ctx *c, const uzwk_f16 *x, int ldx, const uzwk_f16 *W, int ldw,
                                const float *bias, void *y, int ldy, int N, int I, int O, uzwk_epi epi, int variant);

namespace {

/* ---------------------------------------------------------------- TC building blocks */

constexpr int BK = 32; /* halves of I per k-tile: four 16-byte chunks per row */

/* Offset in halves of chunk c (8 halves) of row r in a [rows][BK] tile, XOR swizzled (header). */
__device__ __forceinline__ int swz(int r, int c) { return r * BK + ((c ^ ((r >> 1) & 3)) << 3); }

/* ldmatrix_x4, mma16816: mma_ptx.cuh; load8_scalar, epi_store1/2, epi_store_pair, epi_vec_ok: gemm_common.cuh;
 * block_tiling, cp_async_tile, pipelined_mainloop, warp_tile_epilogue, tiled_launch_setup: pipeline.cuh */

/* Stage rows row0 .. row0+ROWS-1, columns k0 .. k0+31 of g [nrows, ld] into the swizzled tile s;
 * rows >= nrows and columns >= I become 0. VEC: cp.async (g 16-byte aligned, ld % 8 == 0); else
 * bounds-checked scalar loads stored to shared memory (any layout). */
template <int ROWS, int THREADS, bool VEC>
__device__ __forceinline__ void load_tile(__half *s, const __half *__restrict__ g, int ld, int row0, int nrows, int k0,
                                          int I, int tid) {
    if constexpr (VEC) {
        cp_async_tile<ROWS, 4, THREADS, true>(s, g, ld, row0, nrows, k0, I, tid,
                                              [](int r, int c) { return swz(r, c); });
    } else {
        for_tile_chunks<ROWS, 4, THREADS>(tid, [&](int r, int cc) {
            const int gr = row0 + r, gk = k0 + cc * 8;
            const bool ok = gr < nrows && gk < I;
            const uint4 v = ok ? load8_scalar(g + (size_t)gr * ld, gk, I) : make_uint4(0u, 0u, 0u, 0u);
            *reinterpret_cast<uint4 *>(s + swz(r, cc)) = v;
        });
    }
}

/* One BK = 32 slice of the warp tile: two k16 steps of ldmatrix + MI x NI mma. */
template <int MI, int NI>
__device__ __forceinline__ void tc_compute(const __half *sA, const __half *sB, int wrow, int wcol, int lane,
                                           float (&acc)[MI][NI][4]) {
#pragma unroll
    for (int kk = 0; kk < 2; kk++) {
        uint32_t a[MI][4], b[NI / 2][4]; /* b[jj]: b0 b1 of n-tile 2jj, then b0 b1 of n-tile 2jj+1 */
#pragma unroll
        for (int i = 0; i < MI; i++) {
            const int r = wrow + i * 16 + (lane & 15);
            const int cc = kk * 2 + (lane >> 4);
            ldmatrix_x4(a[i], sA + swz(r, cc));
        }
#pragma unroll
        for (int jj = 0; jj < NI / 2; jj++) {
            const int r = wcol + jj * 16 + (lane & 7) + ((lane >> 4) << 3);
            const int cc = kk * 2 + ((lane >> 3) & 1);
            ldmatrix_x4(b[jj], sB + swz(r, cc));
        }
#pragma unroll
        for (int i = 0; i < MI; i++)
#pragma unroll
            for (int j = 0; j < NI; j++) mma16816(acc[i][j], a[i], b[j / 2][2 * (j & 1)], b[j / 2][2 * (j & 1) + 1]);
    }
}

/* Epilogue of one accumulator pair (row, col), (row, col+1); col is even. */
__device__ __forceinline__ void store_pair(void *y, int ldy, int N, int O, int row, int col, float v0, float v1,
                                           const float *__restrict__ bias, int epi, int vec_store) {
    if (row >= N || col >= O) return;
    const bool two = col + 1 < O;
    if (bias) {
        v0 += __ldg(bias + col);
        if (two) v1 += __ldg(bias + col + 1);
    }
    epi_store_pair(y, (size_t)row * ldy + col, v0, v1, two, vec_store, epi);
}

/* The TC kernel (header). Grid: x over ceil(N/BM) row tiles, y over ceil(O/BN) column tiles.
 * vec_store: y and ldy allow 2-element vector stores at even columns. */
template <int BM, int BN, int WM, int WN, int STAGES, bool VEC>
__global__ void __launch_bounds__(WM *WN * 32)
    tc_gemm_kernel(const __half *__restrict__ x, /* dev [N, ldx] */
                   int ldx, const __half *__restrict__ W, /* dev [O, ldw] */
                   int ldw, const float *__restrict__ bias, /* dev [O] or NULL */
                   void *__restrict__ y,                     /* dev [N, ldy] f16 or f32 */
                   int ldy, int N, int I, int O, int epi, int vec_store) {
    using BT = block_tiling<BM, BN, WM, WN>;
    constexpr int THREADS = BT::THREADS, MI = BT::MI, NI = BT::NI;
    static_assert(BT::WTN % 16 == 0, "warp tile columns must be a multiple of 16 (ldmatrix.x4 of B: two n8 tiles)");
    extern __shared__ uint4 tc_smem[];
    __half *sA = reinterpret_cast<__half *>(tc_smem); /* [STAGES][BM][BK] swizzled */
    __half *sB = sA + STAGES * BM * BK;               /* [STAGES][BN][BK] swizzled */
    const BT bt;

    float acc[MI][NI][4];
    zero_frags(acc);
    pipelined_mainloop<STAGES>(
        (I + BK - 1) / BK,
        [&](int st, int kt) {
            load_tile<BM, THREADS, VEC>(sA + st * BM * BK, x, ldx, bt.m0, N, kt * BK, I, bt.tid);
            load_tile<BN, THREADS, VEC>(sB + st * BN * BK, W, ldw, bt.n0, O, kt * BK, I, bt.tid);
        },
        [&](int st) { tc_compute<MI, NI>(sA + st * BM * BK, sB + st * BN * BK, bt.wrow(), bt.wcol(), bt.lane, acc); });

    warp_tile_epilogue(acc, bt.m0 + bt.wrow(), bt.n0 + bt.wcol(), bt.lane, [&](int row, int col, float v0, float v1) {
        store_pair(y, ldy, N, O, row, col, v0, v1, bias, epi, vec_store);
    });
}

/* gemm_args, epi_esize: gemm_common.cuh */

/* The cp.async path's requirement. */
inline bool tc_operands_aligned(const gemm_args &a) {
    return ((uintptr_t)a.x % 16 == 0) && ((uintptr_t)a.W % 16 == 0) && a.ldx % 8 == 0 && a.ldw % 8 == 0;
}

template <int BM, int BN, int WM, int WN, int STAGES, bool VEC>
int tc_go(uzwk_ctx *c, const gemm_args &a) {
    const size_t smem = (size_t)STAGES * (BM + BN) * BK * sizeof(__half);
    auto kern = tc_gemm_kernel<BM, BN, WM, WN, STAGES, VEC>;
    dim3 grid;
    if (tiled_launch_setup(c, "uzwk_gemm TC", kern, smem, a.N, a.O, BM, BN, &grid)) return -1;
    kern<<<grid, WM * WN * 32, smem, (cudaStream_t)uzwk_ctx_stream(c)>>>(a.x, a.ldx, a.W, a.ldw, a.bias, a.y, a.ldy, a.N,
                                                                          a.I, a.O, a.epi,
                                                                          epi_vec_ok(a.y, a.ldy, a.epi));
    return UZWK_LAUNCHED(c, "tc_gemm_kernel");
}

template <int BM, int BN, int WM, int WN, int STAGES>
int tc_launch(uzwk_ctx *c, const gemm_args &a) {
    return tc_operands_aligned(a) ? tc_go<BM, BN, WM, WN, STAGES, true>(c, a)
                                  : tc_go<BM, BN, WM, WN, STAGES, false>(c, a);
}

constexpr int TC_N_VARIANTS = 4;

int gemm_tc(uzwk_ctx *c, const gemm_args &a, int variant) {
    switch (variant) {
    case 0: return tc_launch<128, 128, 2, 4, 3>(c, a);
    case 1: return tc_launch<128, 128, 2, 4, 4>(c, a);
    case 2: return tc_launch<64, 128, 2, 2, 3>(c, a);
    case 3: return tc_launch<64, 64, 2, 2, 3>(c, a);
    default: return uzwk_fail(c, "uzwk_gemm TC: variant %d not in 0..%d", variant, TC_N_VARIANTS - 1);
    }
}

/* ---------------------------------------------------------------- CUBLAS */

/* y rows [0, nr) <- epilogue(t + bias); t fp32 [nr, O] dense. */
__global__ void cublas_epilogue_kernel(const float *__restrict__ t, /* dev [nr, O] */
                                       const float *__restrict__ bias, /* dev [O] or NULL */
                                       void *__restrict__ y,           /* dev [nr, ldy] */
                                       int ldy, int nr, int O, int epi) {
    const size_t total = (size_t)nr * O;
    for (size_t e = blockIdx.x * (size_t)blockDim.x + threadIdx.x; e < total; e += (size_t)gridDim.x * blockDim.x) {
        const int r = (int)(e / (size_t)O), o = (int)(e % (size_t)O);
        float v = t[e];
        if (bias) v += __ldg(bias + o);
        epi_store1(y, (size_t)r * ldy + o, v, epi);
    }
}

int gemm_cublas(uzwk_ctx *c, const gemm_args &a) {
    cublasHandle_t h = (cublasHandle_t)uzwk_ctx_cublas(c);
    size_t sbytes = 0;
    float *tmp = (float *)uzwk_ctx_scratch(c, &sbytes); /* dev [rows, O] fp32 */
    const size_t row_bytes = (size_t)a.O * sizeof(float);
    if (!h) return uzwk_fail(c, "uzwk_gemm CUBLAS: the context has no cuBLAS handle");
    if (!tmp || sbytes < row_bytes)
        return uzwk_fail(c, "uzwk_gemm CUBLAS: scratch of %zu bytes cannot hold one fp32 row of O = %d (%zu bytes)",
                         sbytes, a.O, row_bytes);
    size_t per = sbytes / row_bytes;
    if (per > (size_t)a.N) per = (size_t)a.N;
    if (per > (size_t)INT_MAX / 2) per = (size_t)INT_MAX / 2;
    const float alpha = 1.0f, beta = 0.0f;
    const size_t es = epi_esize(a.epi);
    cudaStream_t st = (cudaStream_t)uzwk_ctx_stream(c);
    for (int r0 = 0; r0 < a.N; r0 += (int)per) {
        const int nr = a.N - r0 < (int)per ? a.N - r0 : (int)per;
        /* column-major view: C[O, nr] = op(A)=W^T-as-stored (A is [I, O] col-major, ld ldw) times
         * B = x^T as stored ([I, nr] col-major, ld ldx); C col-major [O, nr] ld O = tmp [nr, O]. */
        cublasStatus_t s = cublasGemmEx(h, CUBLAS_OP_T, CUBLAS_OP_N, a.O, nr, a.I, &alpha, a.W, CUDA_R_16F, a.ldw,
                                        a.x + (size_t)r0 * a.ldx, CUDA_R_16F, a.ldx, &beta, tmp, CUDA_R_32F, a.O,
                                        CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
        if (s != CUBLAS_STATUS_SUCCESS)
            return uzwk_fail(c, "cublasGemmEx(m=%d n=%d k=%d): %s (%s:%d)", a.O, nr, a.I, cublasGetStatusString(s),
                             __FILE__, __LINE__);
        const size_t total = (size_t)nr * a.O;
        size_t blocks = (total + 255) / 256;
        const size_t cap = (size_t)uzwk_ctx_sm_count(c) * 16;
        if (blocks > cap && cap > 0) blocks = cap;
        cublas_epilogue_kernel<<<(unsigned)blocks, 256, 0, st>>>(tmp, a.bias, (char *)a.y + (size_t)r0 * a.ldy * es,
                                                                  a.ldy, nr, a.O, a.epi);
        if (UZWK_LAUNCHED(c, "cublas_epilogue_kernel")) return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- AUTO policy */

/* The one place the choice is made (measurements: docs/kernels.md). */
uzwk_gemm_impl gemm_auto_pick(const gemm_args &a) {
    if (a.N <= 32) return UZWK_GEMM_SKINNY;
    if (tc_operands_aligned(a)) return UZWK_GEMM_TC;
    return UZWK_GEMM_CUBLAS;
}

} // namespace

extern "C" int uzwk_gemm(uzwk_ctx *c, const uzwk_f16 *x, int ldx, const uzwk_f16 *W, int ldw, const float *bias, void *y,
                         int ldy, int N, int I, int O, uzwk_epi epi, uzwk_gemm_impl impl, int variant) {
    if (!c) return -1;
    if (N < 0 || O < 0 || I < 1 || ldx < I || ldw < I || ldy < O || ldy < 1)
        return uzwk_fail(c, "uzwk_gemm: bad dimensions N=%d I=%d O=%d ldx=%d ldw=%d ldy=%d", N, I, O, ldx, ldw, ldy);
    if ((int)epi < 0 || (int)epi > (int)UZWK_EPI_F32) return uzwk_fail(c, "uzwk_gemm: unknown epilogue %d", (int)epi);
    if (N == 0 || O == 0) return 0;
    if (!x || !W || !y) return uzwk_fail(c, "uzwk_gemm: NULL operand");
    const gemm_args a = {reinterpret_cast<const __half *>(x), ldx, reinterpret_cast<const __half *>(W), ldw, bias, y,
                         ldy, N, I, O, (int)epi};
    if (impl == UZWK_GEMM_AUTO) {
        impl = gemm_auto_pick(a);
        if (impl == UZWK_GEMM_CUBLAS) variant = 0; /* the variant meant TC's or SKINNY's configuration */
    }
    switch (impl) {
    case UZWK_GEMM_CUBLAS:
        if (variant != 0) return uzwk_fail(c, "uzwk_gemm CUBLAS: variant %d not 0", variant);
        return gemm_cublas(c, a);
    case UZWK_GEMM_TC: return gemm_tc(c, a, variant);
    case UZWK_GEMM_SKINNY: return uzwk_gemm_skinny(c, x, ldx, W, ldw, bias, y, ldy, N, I, O, epi, variant);
    default: return uzwk_fail(c, "uzwk_gemm: unknown implementation %d", (int)impl);
    }
}
