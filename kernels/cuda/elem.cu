// elem.cu - LayerNorm and the element-wise kernels of the CUDA backend (k_elem.h): LayerNorm and
// the fused residual add + LayerNorm (fp32 statistics, f16 out), bias + exact-erf GELU in place on
// f16, f32 <-> f16 conversion, token + position embedding, the encoder's positional add, and
// deterministic uniform fills.
//
// All of these are memory-bound: each thread moves 16-byte pieces where the size and the pointers'
// alignment allow it and falls back to scalar accesses otherwise (odd widths, offset pointers), so
// any size works. Launch functions return 0 or -1 with the reason in the context.
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <stdint.h>

#include "cuda_check.cuh"
#include "k_elem.h"

namespace {

constexpr float LN_EPS = 1e-5f;
constexpr int LN_WARP_BLOCK = 256; // warp-per-row form: 8 rows per block
constexpr int EW_THREADS = 256;    // element-wise kernels

inline bool aligned(const void *p, size_t a) { return ((uintptr_t)p & (a - 1)) == 0; }

// Grid for a grid-stride loop over `work` items: enough blocks to fill the device, no more.
inline unsigned ew_grid(uzwk_ctx *c, size_t work) {
    size_t blocks = (work + EW_THREADS - 1) / EW_THREADS;
    const int sms = uzwk_ctx_sm_count(c);
    const size_t cap = (size_t)(sms > 0 ? sms : 1) * 16;
    if (blocks > cap) blocks = cap;
    return (unsigned)(blocks ? blocks : 1);
}

union h8 { // 8 halves = 16 bytes
    uint4 u;
    __half2 h[4];
};
union h4 { // 4 halves = 8 bytes
    uint2 u;
    __half2 h[2];
};

// ---------------------------------------------------------------- LayerNorm

// Sum over the GT threads of a row: a warp (GT = 32, shuffles only) or the whole block (GT = 64k;
// red must be a [GT/32] shared array used by this call only). Every thread gets the same value.
template <int GT>
__device__ __forceinline__ float row_sum(float v, float *red) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    if constexpr (GT == 32) {
        (void)red;
        return v;
    } else {
        if ((threadIdx.x & 31) == 0) red[threadIdx.x >> 5] = v;
        __syncthreads();
        float s = 0.0f;
#pragma unroll
        for (int i = 0; i < GT / 32; i++) s += red[i];
        return s;
    }
}

// One row per group of GT threads: GT = 32 is warp-per-row (LN_WARP_BLOCK / 32 rows per block),
// GT = 128 or 256 is block-per-row. Pass 1 loads the row (ADD: x += r (+ bias), written back),
// keeps it in shared memory and sums it; pass 2 sums the centred squares from shared memory;
// pass 3 writes y. Each thread only ever reads back the shared-memory elements it wrote itself,
// so the row cache needs no barrier. VEC: D % 4 == 0 and every pointer aligned for float4/4-half
// accesses. ADD with y == NULL stops after the add.
// Threads per block of the LayerNorm kernels with GT threads per row, and the blocks per SM the
// launch bounds promise: 1024 threads per SM, i.e. up to 64 registers per thread (left to itself,
// ptxas held these kernels at 32 and spilled in the unrolled add loop).
template <int GT>
struct ln_threads {
    static constexpr int value = GT == 32 ? LN_WARP_BLOCK : GT;
    static constexpr int min_blocks = 1024 / value;
};

template <int GT, bool VEC, bool ADD>
__global__ void __launch_bounds__(ln_threads<GT>::value, ln_threads<GT>::min_blocks)
    ln_kernel(float *x /* dev [N, D]; written only if ADD */, const __half *r /* dev [N, D] (ADD) */,
              const float *bias /* dev [D] or NULL (ADD) */, const float *w /* dev [D] */,
              const float *b /* dev [D] */, __half *y /* dev [N, D] */, int N, int D) {
    extern __shared__ float4 ln_smem[];     // [rows per block, D] floats
    __shared__ float red_sum[GT / 32], red_sq[GT / 32];
    constexpr int RPB = GT == 32 ? LN_WARP_BLOCK / 32 : 1;
    const int g = threadIdx.x / GT, lane = threadIdx.x % GT;
    const int row = blockIdx.x * RPB + g;
    if (row >= N) return; // only in the warp-per-row form, whose reductions use no block barrier
    float *srow = reinterpret_cast<float *>(ln_smem) + (size_t)g * D; /* [D] */
    float *xr = x + (size_t)row * D;                                   /* [D] */
    __half *yr = y ? y + (size_t)row * D : nullptr;                    /* [D] */

    float sum = 0.0f;
    if constexpr (VEC) {
        const int D4 = D >> 2;
#pragma unroll 4
        for (int u = lane; u < D4; u += GT) {
            float4 v = reinterpret_cast<const float4 *>(xr)[u];
            if constexpr (ADD) {
                h4 rr;
                rr.u = reinterpret_cast<const uint2 *>(r + (size_t)row * D)[u];
                const float2 r01 = __half22float2(rr.h[0]), r23 = __half22float2(rr.h[1]);
                v.x += r01.x, v.y += r01.y, v.z += r23.x, v.w += r23.y;
                if (bias) {
                    const float4 bb = reinterpret_cast<const float4 *>(bias)[u];
                    v.x += bb.x, v.y += bb.y, v.z += bb.z, v.w += bb.w;
                }
                reinterpret_cast<float4 *>(xr)[u] = v;
            }
            reinterpret_cast<float4 *>(srow)[u] = v;
            sum += (v.x + v.y) + (v.z + v.w);
        }
    } else {
        for (int u = lane; u < D; u += GT) {
            float v = xr[u];
            if constexpr (ADD) {
                v += __half2float(r[(size_t)row * D + u]);
                if (bias) v += bias[u];
                xr[u] = v;
            }
            srow[u] = v;
            sum += v;
        }
    }
    if constexpr (ADD) {
        if (!yr) return; // uniform across the block: y is a kernel argument
    }
    const float mean = row_sum<GT>(sum, red_sum) / (float)D;

    float sq = 0.0f;
    if constexpr (VEC) {
        for (int u = lane; u < (D >> 2); u += GT) {
            const float4 v = reinterpret_cast<const float4 *>(srow)[u];
            const float a = v.x - mean, bq = v.y - mean, cq = v.z - mean, dq = v.w - mean;
            sq += (a * a + bq * bq) + (cq * cq + dq * dq);
        }
    } else {
        for (int u = lane; u < D; u += GT) {
            const float a = srow[u] - mean;
            sq += a * a;
        }
    }
    const float rstd = rsqrtf(row_sum<GT>(sq, red_sq) / (float)D + LN_EPS);

    if constexpr (VEC) {
        for (int u = lane; u < (D >> 2); u += GT) {
            const float4 v = reinterpret_cast<const float4 *>(srow)[u];
            const float4 ww = reinterpret_cast<const float4 *>(w)[u];
            const float4 bb = reinterpret_cast<const float4 *>(b)[u];
            h4 o;
            o.h[0] = __floats2half2_rn(fmaf((v.x - mean) * rstd, ww.x, bb.x), fmaf((v.y - mean) * rstd, ww.y, bb.y));
            o.h[1] = __floats2half2_rn(fmaf((v.z - mean) * rstd, ww.z, bb.z), fmaf((v.w - mean) * rstd, ww.w, bb.w));
            reinterpret_cast<uint2 *>(yr)[u] = o.u;
        }
    } else {
        for (int u = lane; u < D; u += GT) yr[u] = __float2half_rn(fmaf((srow[u] - mean) * rstd, w[u], b[u]));
    }
}

template <int GT, bool ADD>
int ln_launch(uzwk_ctx *c, bool vec, float *x, const __half *r, const float *bias, const float *w, const float *b,
              __half *y, int N, int D) {
    constexpr int rpb = GT == 32 ? LN_WARP_BLOCK / 32 : 1;
    constexpr int threads = GT == 32 ? LN_WARP_BLOCK : GT;
    const size_t smem = (size_t)rpb * (size_t)D * sizeof(float);
    const unsigned grid = (unsigned)((N + rpb - 1) / rpb);
    void (*kern)(float *, const __half *, const float *, const float *, const float *, __half *, int, int) =
        vec ? ln_kernel<GT, true, ADD> : ln_kernel<GT, false, ADD>;
    if (smem > 48 * 1024) { // beyond the default dynamic limit: D > 1536 (warp form) or > 12288
        int dev = 0, optin = 0;
        UZWK_CUDA_TRY(c, cudaGetDevice(&dev));
        UZWK_CUDA_TRY(c, cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev));
        if (smem > (size_t)optin)
            return uzwk_fail(c, "layernorm: D=%d needs %zu bytes of shared memory per block (device: %d)", D, smem,
                             optin);
        UZWK_CUDA_TRY(c, cudaFuncSetAttribute(kern, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem));
    }
    kern<<<grid, threads, smem, (cudaStream_t)uzwk_ctx_stream(c)>>>(x, r, bias, w, b, y, N, D);
    return UZWK_LAUNCHED(c, "ln_kernel");
}

template <bool ADD>
int ln_dispatch(uzwk_ctx *c, float *x, const __half *r, const float *bias, const float *w, const float *b, __half *y,
                int N, int D, int variant) {
    const bool vec = D % 4 == 0 && aligned(x, 16) && (!y || (aligned(w, 16) && aligned(b, 16) && aligned(y, 8))) &&
                     (!ADD || (aligned(r, 8) && (!bias || aligned(bias, 16))));
    switch (variant) {
    case 0: return ln_launch<32, ADD>(c, vec, x, r, bias, w, b, y, N, D);
    case 1: return ln_launch<128, ADD>(c, vec, x, r, bias, w, b, y, N, D);
    case 2: return ln_launch<256, ADD>(c, vec, x, r, bias, w, b, y, N, D);
    default: return uzwk_fail(c, "layernorm: no variant %d", variant);
    }
}

// ---------------------------------------------------------------- bias + GELU

__device__ __forceinline__ float gelu_erf(float v) { return 0.5f * v * (1.0f + erff(v * 0.70710678118654752f)); }

// y = GELU(y + bias) over N rows of F, VW halves per item (8: 16-byte items, F % 8 == 0; 2: half2,
// F even; 1: scalar). An item never crosses a row because VW divides F.
template <int VW>
__global__ void __launch_bounds__(EW_THREADS)
    bias_gelu_kernel(__half *y /* dev [N, F] */, const float *bias /* dev [F] or NULL */, size_t items,
                     int per_row /* F / VW */) {
    const size_t stride = (size_t)gridDim.x * blockDim.x;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < items; i += stride) {
        const int col = (int)(i % (size_t)per_row) * VW;
        if constexpr (VW == 8) {
            h8 v;
            v.u = reinterpret_cast<const uint4 *>(y)[i];
            float bb[8] = {0, 0, 0, 0, 0, 0, 0, 0};
            if (bias) {
                const float4 b0 = reinterpret_cast<const float4 *>(bias + col)[0];
                const float4 b1 = reinterpret_cast<const float4 *>(bias + col)[1];
                bb[0] = b0.x, bb[1] = b0.y, bb[2] = b0.z, bb[3] = b0.w;
                bb[4] = b1.x, bb[5] = b1.y, bb[6] = b1.z, bb[7] = b1.w;
            }
#pragma unroll
            for (int q = 0; q < 4; q++) {
                const float2 f = __half22float2(v.h[q]);
                v.h[q] = __floats2half2_rn(gelu_erf(f.x + bb[2 * q]), gelu_erf(f.y + bb[2 * q + 1]));
            }
            reinterpret_cast<uint4 *>(y)[i] = v.u;
        } else if constexpr (VW == 2) {
            __half2 *y2 = reinterpret_cast<__half2 *>(y);
            const float2 f = __half22float2(y2[i]);
            const float2 bb = bias ? reinterpret_cast<const float2 *>(bias + col)[0] : make_float2(0.0f, 0.0f);
            y2[i] = __floats2half2_rn(gelu_erf(f.x + bb.x), gelu_erf(f.y + bb.y));
        } else {
            const float f = __half2float(y[i]) + (bias ? bias[col] : 0.0f);
            y[i] = __float2half_rn(gelu_erf(f));
        }
    }
}

template <int VW>
int bias_gelu_launch(uzwk_ctx *c, __half *y, const float *bias, int N, int F) {
    const size_t items = (size_t)N * (size_t)(F / VW);
    bias_gelu_kernel<VW><<<ew_grid(c, items), EW_THREADS, 0, (cudaStream_t)uzwk_ctx_stream(c)>>>(y, bias, items,
                                                                                                 F / VW);
    return UZWK_LAUNCHED(c, "bias_gelu_kernel");
}

// ---------------------------------------------------------------- conversions, positional add

// y[n] f16 = x[n] f32; 8 per item when vec (x 16-byte, y 16-byte aligned), the rest scalar.
__global__ void __launch_bounds__(EW_THREADS)
    f32_to_f16_kernel(const float *x /* dev [n] */, __half *y /* dev [n] */, size_t n, int vec) {
    const size_t stride = (size_t)gridDim.x * blockDim.x, gid = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    const size_t nv = vec ? n / 8 : 0;
    for (size_t i = gid; i < nv; i += stride) {
        const float4 a = reinterpret_cast<const float4 *>(x)[2 * i];
        const float4 b = reinterpret_cast<const float4 *>(x)[2 * i + 1];
        h8 o;
        o.h[0] = __floats2half2_rn(a.x, a.y);
        o.h[1] = __floats2half2_rn(a.z, a.w);
        o.h[2] = __floats2half2_rn(b.x, b.y);
        o.h[3] = __floats2half2_rn(b.z, b.w);
        reinterpret_cast<uint4 *>(y)[i] = o.u;
    }
    for (size_t i = nv * 8 + gid; i < n; i += stride) y[i] = __float2half_rn(x[i]);
}

// y[n] f32 = x[n] f16.
__global__ void __launch_bounds__(EW_THREADS)
    f16_to_f32_kernel(const __half *x /* dev [n] */, float *y /* dev [n] */, size_t n, int vec) {
    const size_t stride = (size_t)gridDim.x * blockDim.x, gid = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    const size_t nv = vec ? n / 8 : 0;
    for (size_t i = gid; i < nv; i += stride) {
        h8 v;
        v.u = reinterpret_cast<const uint4 *>(x)[i];
        const float2 a = __half22float2(v.h[0]), b = __half22float2(v.h[1]);
        const float2 cc = __half22float2(v.h[2]), d = __half22float2(v.h[3]);
        reinterpret_cast<float4 *>(y)[2 * i] = make_float4(a.x, a.y, b.x, b.y);
        reinterpret_cast<float4 *>(y)[2 * i + 1] = make_float4(cc.x, cc.y, d.x, d.y);
    }
    for (size_t i = nv * 8 + gid; i < n; i += stride) y[i] = __half2float(x[i]);
}

// x[n] f32 = h[n] f16 + pos[n] f32 (n = N * D, row-major, so the rows do not matter); 4 per item
// when vec (h 8-byte, pos and x 16-byte aligned).
__global__ void __launch_bounds__(EW_THREADS)
    add_pos_kernel(const __half *h /* dev [n] */, const float *pos /* dev [n] */, float *x /* dev [n] */, size_t n,
                   int vec) {
    const size_t stride = (size_t)gridDim.x * blockDim.x, gid = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    const size_t nv = vec ? n / 4 : 0;
    for (size_t i = gid; i < nv; i += stride) {
        h4 v;
        v.u = reinterpret_cast<const uint2 *>(h)[i];
        const float4 p = reinterpret_cast<const float4 *>(pos)[i];
        const float2 a = __half22float2(v.h[0]), b = __half22float2(v.h[1]);
        reinterpret_cast<float4 *>(x)[i] = make_float4(a.x + p.x, a.y + p.y, b.x + p.z, b.y + p.w);
    }
    for (size_t i = nv * 4 + gid; i < n; i += stride) x[i] = __half2float(h[i]) + pos[i];
}

// ---------------------------------------------------------------- embedding

// x[i, :] = tok_emb[tokens[i], :] + pos_emb[positions[i], :], VW columns per item (8: D % 8 == 0
// and the tables and x 16-byte aligned; 1: scalar). The ids are trusted: the launch function cannot
// see device values and the header carries no V or T, so callers validate ids on the host before
// uploading them (the engine does); an id outside the table reads out of bounds.
template <int VW>
__global__ void __launch_bounds__(EW_THREADS)
    embed_kernel(const int32_t *tokens /* dev [n] */, const int32_t *positions /* dev [n] */,
                 const __half *tok_emb /* dev [V, D] */, const __half *pos_emb /* dev [T, D] */,
                 float *x /* dev [n, D] */, size_t items, int per_row /* D / VW */, int D) {
    const size_t stride = (size_t)gridDim.x * blockDim.x;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < items; i += stride) {
        const size_t row = i / (size_t)per_row;
        const int col = (int)(i - row * (size_t)per_row) * VW;
        const __half *te = tok_emb + (size_t)__ldg(tokens + row) * D + col;
        const __half *pe = pos_emb + (size_t)__ldg(positions + row) * D + col;
        float *xr = x + row * (size_t)D + col;
        if constexpr (VW == 8) {
            h8 a, p;
            a.u = __ldg(reinterpret_cast<const uint4 *>(te));
            p.u = __ldg(reinterpret_cast<const uint4 *>(pe));
            float o[8];
#pragma unroll
            for (int q = 0; q < 4; q++) {
                const float2 fa = __half22float2(a.h[q]), fp = __half22float2(p.h[q]);
                o[2 * q] = fa.x + fp.x;
                o[2 * q + 1] = fa.y + fp.y;
            }
            reinterpret_cast<float4 *>(xr)[0] = make_float4(o[0], o[1], o[2], o[3]);
            reinterpret_cast<float4 *>(xr)[1] = make_float4(o[4], o[5], o[6], o[7]);
        } else {
            xr[0] = __half2float(te[0]) + __half2float(pe[0]);
        }
    }
}

// The same from the INT8 token table (docs/quantization.md): x[i, :] = q[t, :] * scale[t] +
// pos_emb[p, :] with t = tokens[i], p = positions[i]; the product rounded to f32 first, then the f32
// sum, each its own rounding (no fused multiply-add): the CPU's uzw_wmat_row followed by its add.
// VW columns per item (8: D % 8 == 0, the int8 table 8-byte, pos_emb and x 16-byte aligned; 1:
// scalar). Ids are trusted as in embed_kernel.
union i8x8 { // 8 int8 = 8 bytes
    uint2 u;
    int8_t b[8];
};

template <int VW>
__global__ void __launch_bounds__(EW_THREADS)
    embed_i8_kernel(const int32_t *tokens /* dev [n] */, const int32_t *positions /* dev [n] */,
                    const int8_t *tok_q /* dev [V, D] */, const float *tok_scale /* dev [V] */,
                    const __half *pos_emb /* dev [T, D] */, float *x /* dev [n, D] */, size_t items,
                    int per_row /* D / VW */, int D) {
    const size_t stride = (size_t)gridDim.x * blockDim.x;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < items; i += stride) {
        const size_t row = i / (size_t)per_row;
        const int col = (int)(i - row * (size_t)per_row) * VW;
        const int32_t t = __ldg(tokens + row);
        const float sc = __ldg(tok_scale + t);
        const int8_t *te = tok_q + (size_t)t * D + col;
        const __half *pe = pos_emb + (size_t)__ldg(positions + row) * D + col;
        float *xr = x + row * (size_t)D + col;
        if constexpr (VW == 8) {
            i8x8 q;
            h8 p;
            q.u = __ldg(reinterpret_cast<const uint2 *>(te));
            p.u = __ldg(reinterpret_cast<const uint4 *>(pe));
            float o[8];
#pragma unroll
            for (int k = 0; k < 4; k++) {
                const float2 fp = __half22float2(p.h[k]);
                o[2 * k] = __fadd_rn(__fmul_rn((float)q.b[2 * k], sc), fp.x);
                o[2 * k + 1] = __fadd_rn(__fmul_rn((float)q.b[2 * k + 1], sc), fp.y);
            }
            reinterpret_cast<float4 *>(xr)[0] = make_float4(o[0], o[1], o[2], o[3]);
            reinterpret_cast<float4 *>(xr)[1] = make_float4(o[4], o[5], o[6], o[7]);
        } else {
            xr[0] = __fadd_rn(__fmul_rn((float)te[0], sc), __half2float(pe[0]));
        }
    }
}

// ---------------------------------------------------------------- uniform fills

// The i-th output of a splitmix64 stream seeded with seed: a pure function of (seed, i), so the
// values do not depend on the launch configuration. check_elem.cu recomputes it on the host.
__device__ __forceinline__ float fill_unit(uint64_t seed, size_t i) {
    uint64_t z = seed + (uint64_t)(i + 1) * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    const float u = (float)(uint32_t)(z >> 40) * (1.0f / 16777216.0f); // [0, 1), exact
    return 2.0f * u - 1.0f;                                             // [-1, 1), exact
}

__global__ void __launch_bounds__(EW_THREADS)
    fill_f16_kernel(__half *x /* dev [n] */, size_t n, uint64_t seed, float scale) {
    const size_t stride = (size_t)gridDim.x * blockDim.x;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride)
        x[i] = __float2half_rn(__fmul_rn(fill_unit(seed, i), scale));
}

__global__ void __launch_bounds__(EW_THREADS)
    fill_f32_kernel(float *x /* dev [n] */, size_t n, uint64_t seed, float scale, float offset) {
    const size_t stride = (size_t)gridDim.x * blockDim.x;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride)
        x[i] = __fmaf_rn(fill_unit(seed, i), scale, offset);
}

// int8 in [-127, 127] (never -128, the INT8 weights' range): round(127 * u) of the same stream.
__global__ void __launch_bounds__(EW_THREADS) fill_i8_kernel(int8_t *x /* dev [n] */, size_t n, uint64_t seed) {
    const size_t stride = (size_t)gridDim.x * blockDim.x;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride)
        x[i] = (int8_t)__float2int_rn(__fmul_rn(fill_unit(seed, i), 127.0f));
}

} // namespace

// ---------------------------------------------------------------- launch functions

extern "C" int uzwk_layernorm(uzwk_ctx *c, const float *x, const float *w, const float *b, uzwk_f16 *y, int N, int D,
                              int variant) {
    if (N < 0 || D <= 0 || (N > 0 && (!x || !w || !b || !y)))
        return uzwk_fail(c, "uzwk_layernorm: bad arguments (N=%d, D=%d)", N, D);
    if (N == 0) return 0;
    // x is only read: the ADD = false kernels never store through it.
    return ln_dispatch<false>(c, const_cast<float *>(x), nullptr, nullptr, w, b, reinterpret_cast<__half *>(y), N, D,
                              variant);
}

extern "C" int uzwk_add_layernorm(uzwk_ctx *c, float *x, const uzwk_f16 *r, const float *bias, const float *w,
                                  const float *b, uzwk_f16 *y, int N, int D, int variant) {
    if (N < 0 || D <= 0 || (N > 0 && (!x || !r || (y && (!w || !b)))))
        return uzwk_fail(c, "uzwk_add_layernorm: bad arguments (N=%d, D=%d)", N, D);
    if (N == 0) return 0;
    return ln_dispatch<true>(c, x, reinterpret_cast<const __half *>(r), bias, w, b, reinterpret_cast<__half *>(y), N,
                             D, variant);
}

extern "C" int uzwk_bias_gelu(uzwk_ctx *c, uzwk_f16 *y, const float *bias, int N, int F, int variant) {
    if (N < 0 || F <= 0 || (N > 0 && !y)) return uzwk_fail(c, "uzwk_bias_gelu: bad arguments (N=%d, F=%d)", N, F);
    if (variant < 0 || variant > 2) return uzwk_fail(c, "uzwk_bias_gelu: no variant %d", variant);
    if (N == 0) return 0;
    __half *yh = reinterpret_cast<__half *>(y);
    // variant 0: the widest form the size and alignment allow; 1: at most half2; 2: scalar.
    if (variant == 0 && F % 8 == 0 && aligned(y, 16) && (!bias || aligned(bias, 16)))
        return bias_gelu_launch<8>(c, yh, bias, N, F);
    if (variant <= 1 && F % 2 == 0 && aligned(y, 4) && (!bias || aligned(bias, 8)))
        return bias_gelu_launch<2>(c, yh, bias, N, F);
    return bias_gelu_launch<1>(c, yh, bias, N, F);
}

extern "C" int uzwk_f32_to_f16(uzwk_ctx *c, const float *x, uzwk_f16 *y, size_t n) {
    if (n == 0) return 0;
    if (!x || !y) return uzwk_fail(c, "uzwk_f32_to_f16: NULL pointer");
    const int vec = aligned(x, 16) && aligned(y, 16);
    f32_to_f16_kernel<<<ew_grid(c, vec ? (n + 7) / 8 : n), EW_THREADS, 0, (cudaStream_t)uzwk_ctx_stream(c)>>>(
        x, reinterpret_cast<__half *>(y), n, vec);
    return UZWK_LAUNCHED(c, "f32_to_f16_kernel");
}

extern "C" int uzwk_f16_to_f32(uzwk_ctx *c, const uzwk_f16 *x, float *y, size_t n) {
    if (n == 0) return 0;
    if (!x || !y) return uzwk_fail(c, "uzwk_f16_to_f32: NULL pointer");
    const int vec = aligned(x, 16) && aligned(y, 16);
    f16_to_f32_kernel<<<ew_grid(c, vec ? (n + 7) / 8 : n), EW_THREADS, 0, (cudaStream_t)uzwk_ctx_stream(c)>>>(
        reinterpret_cast<const __half *>(x), y, n, vec);
    return UZWK_LAUNCHED(c, "f16_to_f32_kernel");
}

extern "C" int uzwk_embed(uzwk_ctx *c, const int32_t *tokens, const int32_t *positions, const uzwk_f16 *tok_emb,
                          const uzwk_f16 *pos_emb, float *x, int n, int D) {
    if (n < 0 || D <= 0 || (n > 0 && (!tokens || !positions || !tok_emb || !pos_emb || !x)))
        return uzwk_fail(c, "uzwk_embed: bad arguments (n=%d, D=%d)", n, D);
    if (n == 0) return 0;
    const __half *te = reinterpret_cast<const __half *>(tok_emb), *pe = reinterpret_cast<const __half *>(pos_emb);
    cudaStream_t s = (cudaStream_t)uzwk_ctx_stream(c);
    if (D % 8 == 0 && aligned(te, 16) && aligned(pe, 16) && aligned(x, 16)) {
        const size_t items = (size_t)n * (size_t)(D / 8);
        embed_kernel<8><<<ew_grid(c, items), EW_THREADS, 0, s>>>(tokens, positions, te, pe, x, items, D / 8, D);
    } else {
        const size_t items = (size_t)n * (size_t)D;
        embed_kernel<1><<<ew_grid(c, items), EW_THREADS, 0, s>>>(tokens, positions, te, pe, x, items, D, D);
    }
    return UZWK_LAUNCHED(c, "embed_kernel");
}

extern "C" int uzwk_embed_i8(uzwk_ctx *c, const int32_t *tokens, const int32_t *positions, const int8_t *tok_q,
                             const float *tok_scale, const uzwk_f16 *pos_emb, float *x, int n, int D) {
    if (n < 0 || D <= 0 || (n > 0 && (!tokens || !positions || !tok_q || !tok_scale || !pos_emb || !x)))
        return uzwk_fail(c, "uzwk_embed_i8: bad arguments (n=%d, D=%d)", n, D);
    if (n == 0) return 0;
    if (!aligned(tok_scale, 4)) return uzwk_fail(c, "uzwk_embed_i8: tok_scale is not f32-aligned");
    const __half *pe = reinterpret_cast<const __half *>(pos_emb);
    cudaStream_t s = (cudaStream_t)uzwk_ctx_stream(c);
    if (D % 8 == 0 && aligned(tok_q, 8) && aligned(pe, 16) && aligned(x, 16)) {
        const size_t items = (size_t)n * (size_t)(D / 8);
        embed_i8_kernel<8><<<ew_grid(c, items), EW_THREADS, 0, s>>>(tokens, positions, tok_q, tok_scale, pe, x, items,
                                                                    D / 8, D);
    } else {
        const size_t items = (size_t)n * (size_t)D;
        embed_i8_kernel<1><<<ew_grid(c, items), EW_THREADS, 0, s>>>(tokens, positions, tok_q, tok_scale, pe, x, items,
                                                                    D, D);
    }
    return UZWK_LAUNCHED(c, "embed_i8_kernel");
}

extern "C" int uzwk_add_pos(uzwk_ctx *c, const uzwk_f16 *h, const float *pos, float *x, int N, int D) {
    if (N < 0 || D <= 0 || (N > 0 && (!h || !pos || !x)))
        return uzwk_fail(c, "uzwk_add_pos: bad arguments (N=%d, D=%d)", N, D);
    if (N == 0) return 0;
    const size_t n = (size_t)N * (size_t)D;
    const int vec = aligned(h, 8) && aligned(pos, 16) && aligned(x, 16);
    add_pos_kernel<<<ew_grid(c, vec ? (n + 3) / 4 : n), EW_THREADS, 0, (cudaStream_t)uzwk_ctx_stream(c)>>>(
        reinterpret_cast<const __half *>(h), pos, x, n, vec);
    return UZWK_LAUNCHED(c, "add_pos_kernel");
}

extern "C" int uzwk_fill_uniform_f16(uzwk_ctx *c, uzwk_f16 *x, size_t n, uint64_t seed, float scale) {
    if (n == 0) return 0;
    if (!x) return uzwk_fail(c, "uzwk_fill_uniform_f16: NULL pointer");
    fill_f16_kernel<<<ew_grid(c, n), EW_THREADS, 0, (cudaStream_t)uzwk_ctx_stream(c)>>>(reinterpret_cast<__half *>(x),
                                                                                       n, seed, scale);
    return UZWK_LAUNCHED(c, "fill_f16_kernel");
}

extern "C" int uzwk_fill_uniform_f32(uzwk_ctx *c, float *x, size_t n, uint64_t seed, float scale, float offset) {
    if (n == 0) return 0;
    if (!x) return uzwk_fail(c, "uzwk_fill_uniform_f32: NULL pointer");
    fill_f32_kernel<<<ew_grid(c, n), EW_THREADS, 0, (cudaStream_t)uzwk_ctx_stream(c)>>>(x, n, seed, scale, offset);
    return UZWK_LAUNCHED(c, "fill_f32_kernel");
}

extern "C" int uzwk_fill_uniform_i8(uzwk_ctx *c, int8_t *x, size_t n, uint64_t seed) {
    if (n == 0) return 0;
    if (!x) return uzwk_fail(c, "uzwk_fill_uniform_i8: NULL pointer");
    fill_i8_kernel<<<ew_grid(c, n), EW_THREADS, 0, (cudaStream_t)uzwk_ctx_stream(c)>>>(x, n, seed);
    return UZWK_LAUNCHED(c, "fill_i8_kernel");
}
