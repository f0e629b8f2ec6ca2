// mma_ptx.cuh - the inline-PTX wrappers the tensor-core kernels share (gemm.cu, gemv.cu,
// attention.cu, decode_attention.cu): shared-memory addresses, cp.async, ldmatrix, mma.sync
// m16n8k16 (f16 in, fp32 accumulate) and its accumulator clearing, f32 -> f16x2 packing and ex2.
// Needs sm_80 or later.
//
// mma.sync m16n8k16 fragments (lane = 4*g + t, g = lane/4, t = lane%4), per thread:
//   A (16x16, row-major)  a0 = A[g][2t..2t+1]  a1 = A[g+8][2t..]  a2 = A[g][2t+8..]  a3 = A[g+8][2t+8..]
//   B (16x8,  k x n)      b0 = B[2t..2t+1][g]  b1 = B[2t+8..2t+9][g]
//   C (16x8,  fp32)       c0,c1 = C[g][2t], C[g][2t+1]   c2,c3 = C[g+8][2t], C[g+8][2t+1]
// ldmatrix.x4: lanes 8m..8m+7 give the row addresses of 8x8 matrix m; register m of a thread then
// holds matrix m's [g][2t..2t+1] (with .trans: [2t..2t+1][g], i.e. the transposed matrix).
#ifndef UZWK_MMA_PTX_CUH
#define UZWK_MMA_PTX_CUH

#include <cuda_fp16.h>
#include <stdint.h>

/* The shared-state-space address of a generic pointer into shared memory. */
static __device__ __forceinline__ uint32_t smem_u32(const void *p) { return (uint32_t)__cvta_generic_to_shared(p); }

/* 16-byte asynchronous copy global -> shared (dst, src 16-byte aligned); only the first src_bytes
 * (0 .. 16) are read, the rest of the 16 bytes is zero-filled (src_bytes = 0: src is not read). */
static __device__ __forceinline__ void cp_async16(void *dst, const void *src, int src_bytes) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smem_u32(dst)),
                 "l"(__cvta_generic_to_global(src)), "r"(src_bytes)
                 : "memory");
}
static __device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }
/* Wait until at most PENDING of this thread's committed groups are still in flight. */
template <int PENDING>
static __device__ __forceinline__ void cp_async_wait() {
    asm volatile("cp.async.wait_group %0;\n" ::"n"(PENDING) : "memory");
}

/* Four 8x8 b16 matrices from shared memory; p is this lane's row address (see above). */
static __device__ __forceinline__ void ldmatrix_x4(uint32_t (&r)[4], const void *p) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(smem_u32(p))
                 : "memory");
}
static __device__ __forceinline__ void ldmatrix_x4_trans(uint32_t (&r)[4], const void *p) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(smem_u32(p))
                 : "memory");
}

/* d += A(16x16, row) . B(16x8, col), f16 in, f32 accumulate. */
static __device__ __forceinline__ void mma16816(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
    asm("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
        "{%0, %1, %2, %3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

/* Every accumulator of an M x N array of m16n8 C fragments to 0. */
template <int M, int N>
static __device__ __forceinline__ void zero_frags(float (&acc)[M][N][4]) {
#pragma unroll
    for (int i = 0; i < M; i++)
#pragma unroll
        for (int j = 0; j < N; j++)
#pragma unroll
            for (int e = 0; e < 4; e++) acc[i][j][e] = 0.0f;
}

/* Two floats -> f16x2, round to nearest even (lo in the low half = the lower column). */
static __device__ __forceinline__ uint32_t pack_f16x2(float lo, float hi) {
    uint32_t r;
    asm("cvt.rn.f16x2.f32 %0, %1, %2;\n" : "=r"(r) : "f"(hi), "f"(lo));
    return r;
}

/* 2^x (ex2.approx.ftz); 2^-inf = 0. */
static __device__ __forceinline__ float ex2(float x) {
    float y;
    asm("ex2.approx.ftz.f32 %0, %1;\n" : "=f"(y) : "f"(x));
    return y;
}

#endif
