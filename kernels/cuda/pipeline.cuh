// pipeline.cuh - the skeleton the tiled tensor-core products share (gemm.cu TC, qgemm_w8a16.cu TC,
// qgemm_w8a8.cu): block / warp tile coordinates, the cp.async tile loader with zero fill, the
// multi-stage cp.async main loop, the epilogue walk over a warp's m16n8 accumulator fragments, and
// the host-side grid and shared-memory setup. Each kernel keeps its own tile layout (swizzle),
// fragment loads and mma and hands them to these templates as lambdas; everything inlines into
// the kernel (no calls, no stack frame), and the hot loops keep the instruction mix of the loops
// they replaced (same mma, cp.async and shared loads per k-tile). Needs sm_80 or later (cp.async).
//
// Main loop (pipelined_mainloop): STAGES shared-memory buffers; k-tile kt lives in buffer
// kt % STAGES. The prologue issues the copies of k-tiles 0 .. STAGES-2, one commit group each
// (an empty group past the last tile, so the group count stays uniform). Iteration kt: wait until
// at most STAGES-2 groups are pending (so k-tile kt has landed: STAGES-1+kt groups were committed),
// __syncthreads (everyone's copies of tile kt are visible, and everyone is done computing on tile
// kt-1, whose buffer the next copy overwrites), issue k-tile kt+STAGES-1 into buffer
// (kt-1) % STAGES, commit, compute on buffer kt % STAGES. One barrier per k-tile; after the loop
// only empty groups can be pending.
#ifndef UZWK_PIPELINE_CUH
#define UZWK_PIPELINE_CUH

#include <cuda_runtime.h>
#include <stddef.h>

#include "cuda_check.cuh"
#include "mma_ptx.cuh"

/* ---------------------------------------------------------------- device side */

/* log2 of a power of two (compile time). */
__host__ __device__ constexpr int ilog2_pow2(int v) { return v <= 1 ? 0 : 1 + ilog2_pow2(v >> 1); }

/* Block tile BM x BN of the output (rows of x by rows of W) at (m0, n0) = (blockIdx.x * BM,
 * blockIdx.y * BN); WM x WN warps, warp (wm, wn) owning the WTM x WTN warp tile at
 * (m0 + wm * WTM, n0 + wn * WTN), made of MI x NI m16n8 accumulator fragments. */
template <int BM, int BN, int WM, int WN>
struct block_tiling {
    static constexpr int THREADS = WM * WN * 32;
    static constexpr int WTM = BM / WM, WTN = BN / WN;
    static constexpr int MI = WTM / 16, NI = WTN / 8;
    static_assert(WTM % 16 == 0 && WTN % 8 == 0, "warp tile must be a multiple of 16x8");

    int tid, lane, wm, wn, m0, n0;

    __device__ __forceinline__ block_tiling() {
        tid = threadIdx.x;
        lane = tid & 31;
        const int warp = tid >> 5;
        wm = warp / WN;
        wn = warp % WN;
        m0 = blockIdx.x * BM;
        n0 = blockIdx.y * BN;
    }
    /* The warp tile's first row / column inside the block tile. */
    __device__ __forceinline__ int wrow() const { return wm * WTM; }
    __device__ __forceinline__ int wcol() const { return wn * WTN; }
};

/* f(r, c) for the 16-byte chunks (r, c) of a ROWS x CPR-chunk tile that thread tid of THREADS
 * stages: chunks tid, tid + THREADS, ..., numbered row-major (r = q / CPR, c = q % CPR), so 8
 * consecutive threads take consecutive chunks. */
template <int ROWS, int CPR, int THREADS, typename F>
static __device__ __forceinline__ void for_tile_chunks(int tid, F &&f) {
    static_assert((CPR & (CPR - 1)) == 0, "chunks per row must be a power of two");
    static_assert((ROWS * CPR) % THREADS == 0, "tile chunks must divide among the threads");
    constexpr int SH = ilog2_pow2(CPR);
#pragma unroll
    for (int i = 0; i < ROWS * CPR / THREADS; i++) {
        const int q = tid + i * THREADS;
        f(q >> SH, q & (CPR - 1));
    }
}

/* cp.async of rows row0 .. row0+ROWS-1, elements k0 .. k0 + CPR*16/sizeof(T) - 1 of g [nrows, ld]
 * (16-byte aligned rows) into the shared tile s, chunk (r, c) at element offset off(r, c). Chunks
 * of rows >= nrows or starting at or past I are zero-filled without reading g. TAIL: a chunk may
 * cross I (its part past I is zero-filled); without TAIL, I is a multiple of the chunk (16 bytes). */
template <int ROWS, int CPR, int THREADS, bool TAIL, typename T, typename Off>
static __device__ __forceinline__ void cp_async_tile(T *s, const T *__restrict__ g, int ld, int row0, int nrows, int k0,
                                                     int I, int tid, Off off) {
    constexpr int EPC = 16 / (int)sizeof(T); /* elements per chunk */
    for_tile_chunks<ROWS, CPR, THREADS>(tid, [&](int r, int c) {
        const int gr = row0 + r, gk = k0 + c * EPC;
        const bool ok = gr < nrows && gk < I;
        T *dst = s + off(r, c);
        /* a zero-filled chunk (0 source bytes) names g itself, which is not read */
        if constexpr (TAIL) {
            const int bytes = ok ? min(EPC, I - gk) * (int)sizeof(T) : 0;
            const T *src = ok ? g + (size_t)gr * ld + gk : g;
            cp_async16(dst, src, bytes);
        } else {
            cp_async16(dst, ok ? g + (size_t)gr * ld + gk : g, ok ? 16 : 0);
        }
    });
}

/* The main loop over KT k-tiles (header). load_stage(st, kt): issue the copies of k-tile kt into
 * buffer st (no commit); compute_stage(st): the math on buffer st. */
template <int STAGES, typename Load, typename Compute>
static __device__ __forceinline__ void pipelined_mainloop(int KT, Load &&load_stage, Compute &&compute_stage) {
    static_assert(STAGES >= 2, "at least double buffering");
#pragma unroll
    for (int s = 0; s < STAGES - 1; s++) {
        if (s < KT) load_stage(s, s);
        cp_async_commit();
    }
    for (int kt = 0; kt < KT; kt++) {
        cp_async_wait<STAGES - 2>(); /* tile kt has landed (this thread's copies) */
        __syncthreads();             /* everyone's copies visible; everyone done with tile kt-1 */
        const int nk = kt + STAGES - 1;
        if (nk < KT) load_stage(nk % STAGES, nk);
        cp_async_commit();
        compute_stage(kt % STAGES);
    }
}

/* The epilogue walk over a warp's MI x NI m16n8 accumulator fragments, the warp tile's top-left
 * output at (row0, col0). Lane (g = lane/4, t = lane%4) holds, of fragment (i, j), acc[i][j][0..1]
 * at row0 + 16i + g, columns col0 + 8j + 2t and +1, and acc[i][j][2..3] at the row 8 below.
 * row_value(row) is evaluated once per row (e.g. a per-row scale); then
 * store(row, col, v0, v1, row_value(row)) per accumulator pair. */
template <int MI, int NI, typename T, typename RowValue, typename Store>
static __device__ __forceinline__ void warp_tile_epilogue(const T (&acc)[MI][NI][4], int row0, int col0, int lane,
                                                          RowValue &&row_value, Store &&store) {
    const int g = lane >> 2, t = lane & 3;
#pragma unroll
    for (int i = 0; i < MI; i++) {
        const int row = row0 + i * 16 + g;
        const auto rv0 = row_value(row);
        const auto rv1 = row_value(row + 8);
#pragma unroll
        for (int j = 0; j < NI; j++) {
            const int col = col0 + j * 8 + 2 * t;
            store(row, col, acc[i][j][0], acc[i][j][1], rv0);
            store(row + 8, col, acc[i][j][2], acc[i][j][3], rv1);
        }
    }
}

/* The same walk without a per-row value: store(row, col, v0, v1). */
template <int MI, int NI, typename T, typename Store>
static __device__ __forceinline__ void warp_tile_epilogue(const T (&acc)[MI][NI][4], int row0, int col0, int lane,
                                                          Store &&store) {
    warp_tile_epilogue(
        acc, row0, col0, lane, [](int) { return 0; },
        [&](int row, int col, T v0, T v1, int) { store(row, col, v0, v1); });
}

/* ---------------------------------------------------------------- host side */

/* The grid of a tiled product, (ceil(N/BM), ceil(O/BN)), and kern's opt-in to smem bytes of
 * dynamic shared memory where that is over the default 48 KiB. 0, or -1 with a message (what:
 * the implementation's name for it). */
template <typename Kernel>
static inline int tiled_launch_setup(uzwk_ctx *c, const char *what, Kernel *kern, size_t smem, int N, int O, int BM,
                                     int BN, dim3 *grid) {
    const int gy = (O + BN - 1) / BN;
    if (gy > 65535) return uzwk_fail(c, "%s: O = %d needs %d column tiles (> 65535)", what, O, gy);
    *grid = dim3((unsigned)((N + BM - 1) / BM), (unsigned)gy);
    if (smem > 48 * 1024)
        UZWK_CUDA_TRY(c, cudaFuncSetAttribute(kern, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem));
    return 0;
}

#endif
