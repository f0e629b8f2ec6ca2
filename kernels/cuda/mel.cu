// mel.cu - Whisper's log-mel spectrogram on the device (k_mel.h), the contract of uzw_mel_compute
// (engine/mel/mel.h): periodic Hann(400), hop 160, centred frames with reflect padding at both
// ends of the zero-extended signal (pad zeros are logical, never stored), |X|^2 over the 201 bins of
// a 400-point DFT, torch's last frame dropped (n_frames = (n + pad_zeros) / 160), mel projection,
// log10(max(x, 1e-10)), then max(x, global max - 8) and (x + 4) / 4.
//
// Three launches on the context's stream:
//   1. mel_prep_kernel: the non-zero bin range [lo, hi) of each filter row into the scratch (the
//      Slaney triangles touch ~10 of 201 bins), and the global-maximum slot set to -inf.
//   2. mel_frames_kernel<F>: one 256-thread block per F frames. The block stages the twiddles
//      cos/sin(2 pi m / 400) (m = 0..399, from double sincospi; index m = k*j mod 400 is exact
//      integer arithmetic, so no argument reduction error) and the windowed frames in shared
//      memory, folded by the real-input symmetry: a_j = f_j + f_{400-j}, d_j = f_j - f_{400-j}
//      (j = 1..199) give Re X_k = f_0 + (-1)^k f_200 + sum a_j cos, Im X_k = -sum d_j sin, i.e. a
//      199-term direct DFT per bin in fp32 (thread k = bin k, all F frames at once). The power
//      spectra then replace the frames in shared memory; each thread projects (mel, frame) pairs
//      over the filter's non-zero range, writes log10 into out and keeps a running maximum; the
//      block maximum goes to the scratch slot with atomicMax on an order-preserving int encoding.
//   3. mel_norm_kernel: out = (max(out, max - 8) + 4) / 4 in place.
// Accuracy: fp32 throughout (the CPU path uses FFTW in single precision); see check_mel.cu for the
// tolerance against the double-accumulated reference.
#include <cuda_runtime.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>

#include "cuda_check.cuh"
#include "k_mel.h"

namespace {

constexpr int NFFT = 400;           // window length and DFT size
constexpr int HOP = 160;            // samples between frames
constexpr int PAD = NFFT / 2;       // centre padding on each side (reflect)
constexpr int HALF = NFFT / 2;      // 200: the self-paired sample of the symmetric fold
constexpr int BINS = NFFT / 2 + 1;  // 201 power-spectrum bins
constexpr int THREADS = 256;        // threads of mel_frames_kernel (bins 0..200 in threads 0..200)
// Twiddle m lives at m + m/16 (one float2 of padding per 16): thread k of a warp reads entry
// (k*j) mod 400; without the skew a stride j with a power-of-two factor hits the same banks.
constexpr int TW_SLOTS = NFFT + NFFT / 16;
constexpr size_t SCRATCH_RANGES = 16;  // byte offset of the int2 ranges [M] in the scratch

// Order-preserving int encoding of a float (for atomicMax): non-negative floats keep their bits,
// negative ones get their magnitude bits flipped so that more negative maps lower.
__device__ __forceinline__ int float_to_key(float f) {
    const int i = __float_as_int(f);
    return i >= 0 ? i : i ^ 0x7FFFFFFF;
}
__device__ __forceinline__ float key_to_float(int k) { return __int_as_float(k >= 0 ? k : k ^ 0x7FFFFFFF); }

// Sample i (in [-PAD, total + PAD)) of the zero-extended signal with torch's reflect padding.
__device__ __forceinline__ float sample_at(const float *pcm /* dev [n] */, long long n, long long total,
                                           long long i) {
    if (i < 0) i = -i;
    if (i >= total) i = 2 * (total - 1) - i;
    return i < n ? __ldg(pcm + i) : 0.0f;
}

// Block 0 thread 0 resets the maximum; warp w of the grid finds the non-zero range of filter rows
// w, w + warps, ... (lo = hi = 0 for an all-zero row).
__global__ void __launch_bounds__(256) mel_prep_kernel(const float *filters /* dev [M, 201] */, int M,
                                                       int *max_key /* dev [1] */, int2 *ranges /* dev [M] */) {
    if (blockIdx.x == 0 && threadIdx.x == 0) *max_key = float_to_key(-INFINITY);
    const int lane = threadIdx.x & 31;
    const int warps = gridDim.x * (blockDim.x >> 5);
    for (int m = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5); m < M; m += warps) {
        const float *row = filters + (size_t)m * BINS; /* [201] */
        int lo = BINS, hi = 0;
        for (int k = lane; k < BINS; k += 32)
            if (row[k] != 0.0f) {
                lo = min(lo, k);
                hi = max(hi, k + 1);
            }
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) {
            lo = min(lo, __shfl_xor_sync(0xffffffffu, lo, o));
            hi = max(hi, __shfl_xor_sync(0xffffffffu, hi, o));
        }
        if (lane == 0) ranges[m] = hi > lo ? make_int2(lo, hi) : make_int2(0, 0);
    }
}

// F consecutive frames per block: t0 = blockIdx.x * F. The block's frames past n_frames are
// computed on zeros and never written.
template <int F>
__global__ void __launch_bounds__(THREADS)
    mel_frames_kernel(const float *pcm /* dev [n] */, long long n, long long total, long long n_frames,
                      const float *filters /* dev [M, 201] */, int M, const int2 *ranges /* dev [M] */,
                      int *max_key /* dev [1] */, float *out /* dev [M, n_frames] */) {
    __shared__ float2 tw[TW_SLOTS];                 // (cos, sin)(2 pi m / 400) at m + m/16
    __shared__ float win[BINS];                     // periodic Hann w_j, j = 0..200 (w_{400-j} = w_j)
    __shared__ __align__(16) float fa[BINS * F];    // [201][F] a_j per frame; later power [F][201]
    __shared__ __align__(16) float fd[BINS * F];    // [201][F] d_j per frame
    __shared__ float red[THREADS / 32];
    const int tid = threadIdx.x;
    const long long t0 = (long long)blockIdx.x * F;

    for (int m = tid; m < NFFT; m += THREADS) {
        double s, co;
        sincospi((double)m / (double)HALF, &s, &co); // angle 2 pi m / 400
        tw[m + (m >> 4)] = make_float2((float)co, (float)s);
        if (m < BINS) win[m] = (float)(0.5 - 0.5 * co);
    }
    __syncthreads();

    // Frame t, sample j sits at signal index 160 t - 200 + j; pair j with 400 - j.
    for (int e = tid; e < F * BINS; e += THREADS) {
        const int b = e / BINS, j = e - b * BINS;
        const long long t = t0 + b;
        float a = 0.0f, d = 0.0f;
        if (t < n_frames) {
            const long long base = t * HOP - PAD;
            const float w = win[j];
            const float x1 = sample_at(pcm, n, total, base + j);
            if (j == 0 || j == HALF) {
                a = w * x1; // f_0 (w_0 = 0) and f_200: no partner inside the frame
            } else {
                const float x2 = sample_at(pcm, n, total, base + NFFT - j);
                a = w * (x1 + x2);
                d = w * (x1 - x2);
            }
        }
        fa[j * F + b] = a;
        fd[j * F + b] = d;
    }
    __syncthreads();

    float pw[F]; // |X_k|^2 of each frame, thread k = bin k
    if (tid < BINS) {
        const int k = tid;
        float re[F], im[F];
        const float sgn = (k & 1) ? -1.0f : 1.0f;
#pragma unroll
        for (int b = 0; b < F; b++) {
            re[b] = fmaf(sgn, fa[HALF * F + b], fa[b]);
            im[b] = 0.0f;
        }
        int idx = k; // k * j mod 400 for j = 1
#pragma unroll 2
        for (int j = 1; j < HALF; j++) {
            const float2 cs = tw[idx + (idx >> 4)];
            float av[F], dv[F];
            if constexpr (F % 4 == 0) {
#pragma unroll
                for (int q = 0; q < F / 4; q++) {
                    const float4 a4 = reinterpret_cast<const float4 *>(fa + j * F)[q];
                    const float4 d4 = reinterpret_cast<const float4 *>(fd + j * F)[q];
                    av[4 * q] = a4.x, av[4 * q + 1] = a4.y, av[4 * q + 2] = a4.z, av[4 * q + 3] = a4.w;
                    dv[4 * q] = d4.x, dv[4 * q + 1] = d4.y, dv[4 * q + 2] = d4.z, dv[4 * q + 3] = d4.w;
                }
            } else {
#pragma unroll
                for (int b = 0; b < F; b++) {
                    av[b] = fa[j * F + b];
                    dv[b] = fd[j * F + b];
                }
            }
#pragma unroll
            for (int b = 0; b < F; b++) {
                re[b] = fmaf(av[b], cs.x, re[b]);
                im[b] = fmaf(dv[b], cs.y, im[b]);
            }
            idx += k; // k <= 200 and idx < 400, so one subtraction reduces it
            if (idx >= NFFT) idx -= NFFT;
        }
#pragma unroll
        for (int b = 0; b < F; b++) pw[b] = fmaf(re[b], re[b], im[b] * im[b]);
    }
    __syncthreads(); // every bin thread is done with fa/fd: fa becomes power [F][201]
    float *power = fa;
    if (tid < BINS) {
#pragma unroll
        for (int b = 0; b < F; b++) power[b * BINS + tid] = pw[b];
    }
    __syncthreads();

    // Mel projection: pair e = (m, b), frames fastest so a warp writes runs of F floats.
    float lmax = -INFINITY;
    for (int e = tid; e < M * F; e += THREADS) {
        const int m = e / F, b = e - m * F;
        const long long t = t0 + b;
        if (t >= n_frames) continue;
        const int2 rg = ranges[m];
        const float *fr = filters + (size_t)m * BINS; /* [201] */
        const float *pb = power + b * BINS;            /* [201] */
        float acc = 0.0f; // non-negative terms only: no cancellation
        for (int k = rg.x; k < rg.y; k++) acc = fmaf(__ldg(fr + k), pb[k], acc);
        const float lv = log10f(acc > 1e-10f ? acc : 1e-10f);
        out[(size_t)m * (size_t)n_frames + (size_t)t] = lv;
        lmax = fmaxf(lmax, lv);
    }
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) lmax = fmaxf(lmax, __shfl_xor_sync(0xffffffffu, lmax, o));
    if ((tid & 31) == 0) red[tid >> 5] = lmax;
    __syncthreads();
    if (tid == 0) {
        float bm = red[0];
#pragma unroll
        for (int w = 1; w < THREADS / 32; w++) bm = fmaxf(bm, red[w]);
        atomicMax(max_key, float_to_key(bm));
    }
}

// out[i] = (max(out[i], max - 8) + 4) / 4 over count floats; 16-byte accesses when out is aligned.
__global__ void __launch_bounds__(256) mel_norm_kernel(float *out /* dev [count] */, size_t count,
                                                       const int *max_key /* dev [1] */, int vec) {
    const float floor_v = key_to_float(*max_key) - 8.0f;
    const size_t stride = (size_t)gridDim.x * blockDim.x;
    const size_t gid = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    const size_t nv = vec ? count / 4 : 0;
    float4 *o4 = reinterpret_cast<float4 *>(out);
    for (size_t i = gid; i < nv; i += stride) {
        float4 v = o4[i];
        v.x = (fmaxf(v.x, floor_v) + 4.0f) * 0.25f;
        v.y = (fmaxf(v.y, floor_v) + 4.0f) * 0.25f;
        v.z = (fmaxf(v.z, floor_v) + 4.0f) * 0.25f;
        v.w = (fmaxf(v.w, floor_v) + 4.0f) * 0.25f;
        o4[i] = v;
    }
    for (size_t i = nv * 4 + gid; i < count; i += stride) out[i] = (fmaxf(out[i], floor_v) + 4.0f) * 0.25f;
}

template <int F>
int launch_frames(uzwk_ctx *c, cudaStream_t s, const float *pcm, long long n, long long total,
                  long long n_frames, const float *filters, int M, const int2 *ranges, int *max_key, float *out) {
    const long long blocks = (n_frames + F - 1) / F;
    if (blocks > INT_MAX) return uzwk_fail(c, "uzwk_logmel: %lld frames is too many", n_frames);
    mel_frames_kernel<F><<<(unsigned)blocks, THREADS, 0, s>>>(pcm, n, total, n_frames, filters, M, ranges,
                                                               max_key, out);
    return UZWK_LAUNCHED(c, "mel_frames_kernel");
}

} // namespace

extern "C" int uzwk_logmel(uzwk_ctx *c, const float *pcm, size_t n, size_t pad_zeros, const float *filters,
                           int M, float *out, int variant) {
    if (M <= 0 || M > 4096 || !filters || !out || (!pcm && n > 0))
        return uzwk_fail(c, "uzwk_logmel: bad arguments (M=%d, filters %p, out %p, pcm %p, n %zu)", M,
                         (const void *)filters, (const void *)out, (const void *)pcm, n);
    if (n > (size_t)LLONG_MAX / 4 || pad_zeros > (size_t)LLONG_MAX / 4)
        return uzwk_fail(c, "uzwk_logmel: %zu + %zu samples is too long", n, pad_zeros);
    const size_t total = n + pad_zeros;
    if (total <= (size_t)PAD)
        return uzwk_fail(c, "uzwk_logmel: %zu samples; the reflect padding needs more than %d", total, PAD);
    const size_t n_frames = total / HOP;
    size_t scratch_bytes = 0;
    unsigned char *scratch = (unsigned char *)uzwk_ctx_scratch(c, &scratch_bytes);
    const size_t need = SCRATCH_RANGES + (size_t)M * sizeof(int2);
    if (!scratch || scratch_bytes < need)
        return uzwk_fail(c, "uzwk_logmel: needs %zu bytes of context scratch, has %zu", need, scratch_bytes);
    int *max_key = (int *)scratch;                           /* dev [1] */
    int2 *ranges = (int2 *)(scratch + SCRATCH_RANGES);       /* dev [M] */
    cudaStream_t s = (cudaStream_t)uzwk_ctx_stream(c);

    mel_prep_kernel<<<(M + 7) / 8, 256, 0, s>>>(filters, M, max_key, ranges);
    if (UZWK_LAUNCHED(c, "mel_prep_kernel")) return -1;

    const long long ln = (long long)n, lt = (long long)total, lf = (long long)n_frames;
    int rc;
    switch (variant) {
    case 0: rc = launch_frames<8>(c, s, pcm, ln, lt, lf, filters, M, ranges, max_key, out); break;
    case 1: rc = launch_frames<4>(c, s, pcm, ln, lt, lf, filters, M, ranges, max_key, out); break;
    case 2: rc = launch_frames<16>(c, s, pcm, ln, lt, lf, filters, M, ranges, max_key, out); break;
    case 3: rc = launch_frames<1>(c, s, pcm, ln, lt, lf, filters, M, ranges, max_key, out); break;
    default: return uzwk_fail(c, "uzwk_logmel: no variant %d", variant);
    }
    if (rc) return rc;

    const size_t count = (size_t)M * n_frames;
    const int vec = ((uintptr_t)out & 15) == 0;
    const size_t work = vec ? (count + 3) / 4 : count;
    size_t blocks = (work + 255) / 256;
    const size_t cap = (size_t)(uzwk_ctx_sm_count(c) > 0 ? uzwk_ctx_sm_count(c) : 1) * 8;
    if (blocks > cap) blocks = cap;
    mel_norm_kernel<<<(unsigned)blocks, 256, 0, s>>>(out, count, max_key, vec);
    return UZWK_LAUNCHED(c, "mel_norm_kernel");
}
