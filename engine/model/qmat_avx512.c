/* qmat_avx512.c - the AVX-512 (F, BW, VL, VNNI) INT8 kernels of qmat.h. This file alone is built
 * with those instruction sets enabled; uzw_cpu_isa_detect decides whether it runs. Built for
 * another architecture, the entry points forward to the AVX2 file (which forwards to scalar). */
#include "model/qmat.h"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && defined(__AVX512VNNI__)
#include <immintrin.h>
#include <string.h>

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* ---------------------------------------------------------------- W8A16: few rows */

/* Rows n0..n0+NR-1 of x against output rows o0..o0+3 (NO of them real): 16 inputs per step, each
 * weight widened int8 -> int32 -> f32 once and used by all NR rows. */
ALWAYS_INLINE void w8a16_block(int NR, const float *x, const int8_t *q, const float *scale, const float *b, float *y,
                               int n0, int o0, int NO, int I, int O) {
    const float *xr[4];
    const int8_t *wr[4];
    for (int r = 0; r < 4; r++) xr[r] = x + (size_t)(n0 + (r < NR ? r : NR - 1)) * I;
    for (int j = 0; j < 4; j++) wr[j] = q + (size_t)(o0 + (j < NO ? j : NO - 1)) * I;
    __m512 acc[4][4];
    for (int r = 0; r < NR; r++)
        for (int j = 0; j < 4; j++) acc[r][j] = _mm512_setzero_ps();
    int i = 0;
    for (; i + 16 <= I; i += 16) {
        __m512 xv[4];
        for (int r = 0; r < NR; r++) xv[r] = _mm512_loadu_ps(xr[r] + i);
        for (int j = 0; j < 4; j++) {
            __m512 wv = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(wr[j] + i))));
            for (int r = 0; r < NR; r++) acc[r][j] = _mm512_fmadd_ps(xv[r], wv, acc[r][j]);
        }
    }
    if (i < I) {
        __mmask16 m = (__mmask16)((1u << (I - i)) - 1);
        __m512 xv[4];
        for (int r = 0; r < NR; r++) xv[r] = _mm512_maskz_loadu_ps(m, xr[r] + i);
        for (int j = 0; j < 4; j++) {
            __m512 wv = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(m, wr[j] + i)));
            for (int r = 0; r < NR; r++) acc[r][j] = _mm512_fmadd_ps(xv[r], wv, acc[r][j]);
        }
    }
    for (int r = 0; r < NR; r++)
        for (int j = 0; j < NO; j++)
            y[(size_t)(n0 + r) * O + o0 + j] = _mm512_reduce_add_ps(acc[r][j]) * scale[o0 + j] + (b ? b[o0 + j] : 0.0f);
}

void uzw_w8a16_avx512(const float *x, const int8_t *q, const float *scale, const float *b, float *y, int N, int I,
                      int O) {
    int OB = (O + 3) / 4;
#pragma omp parallel for schedule(static) if ((size_t)N * O * I > 262144)
    for (int ob = 0; ob < OB; ob++) {
        int o0 = ob * 4, NO = O - o0 < 4 ? O - o0 : 4;
        int n0 = 0;
        for (; n0 + 4 <= N; n0 += 4) w8a16_block(4, x, q, scale, b, y, n0, o0, NO, I, O);
        switch (N - n0) {
        case 3: w8a16_block(3, x, q, scale, b, y, n0, o0, NO, I, O); break;
        case 2: w8a16_block(2, x, q, scale, b, y, n0, o0, NO, I, O); break;
        case 1: w8a16_block(1, x, q, scale, b, y, n0, o0, NO, I, O); break;
        default: break;
        }
    }
}

/* ---------------------------------------------------------------- activation rows */

void uzw_quantize_rows_avx512(const float *x, int N, int I, uint8_t *qx, int ldx, float *sx, int offset) {
#pragma omp parallel for schedule(static) if ((size_t)N * I > 65536)
    for (int n = 0; n < N; n++) {
        const float *xr = x + (size_t)n * I;
        uint8_t *out = qx + (size_t)n * ldx;
        __m512 mx = _mm512_setzero_ps();
        int i = 0;
        for (; i + 16 <= I; i += 16) mx = _mm512_max_ps(mx, _mm512_abs_ps(_mm512_loadu_ps(xr + i)));
        if (i < I) mx = _mm512_max_ps(mx, _mm512_abs_ps(_mm512_maskz_loadu_ps((__mmask16)((1u << (I - i)) - 1), xr + i)));
        float amax = _mm512_reduce_max_ps(mx);
        float inv = amax > 0 ? 127.0f / amax : 0.0f;
        sx[n] = amax / 127.0f;
        __m512 vinv = _mm512_set1_ps(inv);
        __m512i lo = _mm512_set1_epi32(-127), hi = _mm512_set1_epi32(127), off = _mm512_set1_epi32(offset);
        for (i = 0; i < I; i += 16) {
            __mmask16 m = I - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (I - i)) - 1);
            /* round to nearest even (the default MXCSR mode), as nearbyintf does in the reference */
            __m512i v = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_maskz_loadu_ps(m, xr + i), vinv));
            v = _mm512_add_epi32(_mm512_min_epi32(_mm512_max_epi32(v, lo), hi), off);
            _mm_mask_storeu_epi8(out + i, m, _mm512_cvtepi32_epi8(v));
        }
        memset(out + I, offset, (size_t)(ldx - I));
    }
}

/* ---------------------------------------------------------------- W8A8: VNNI */

#define W8A8_ROWS 12 /* rows of x per block: 12 x 2 accumulators + 2 weight + 1 broadcast registers */
#define W8A8_CHUNK 96 /* rows of x a thread keeps hot in L2 while it walks the weight panels */

/* Rows n0..n0+NR-1 against panels pb..pb+NP-1 (16 outputs each). qx rows are uint8 (q + 128). */
ALWAYS_INLINE void w8a8_block(int NR, int NP, const uint8_t *qx, int ldx, const float *sx, const int8_t *pack,
                              const int32_t *qsum, const float *scale, const float *b, float *y, int n0, int pb,
                              int K4, int O) {
    const uint8_t *xr[W8A8_ROWS];
    for (int r = 0; r < W8A8_ROWS; r++) xr[r] = qx + (size_t)(n0 + (r < NR ? r : NR - 1)) * ldx;
    const int8_t *p0 = pack + (size_t)pb * K4 * 64, *p1 = p0 + (size_t)K4 * 64;
    __m512i acc[W8A8_ROWS][2];
    for (int r = 0; r < NR; r++) acc[r][0] = acc[r][1] = _mm512_setzero_si512();
    for (int kb = 0; kb < K4; kb++) {
        __m512i w0 = _mm512_load_si512((const void *)(p0 + (size_t)kb * 64));
        __m512i w1 = NP > 1 ? _mm512_load_si512((const void *)(p1 + (size_t)kb * 64)) : w0;
        for (int r = 0; r < NR; r++) {
            int32_t a4;
            memcpy(&a4, xr[r] + (size_t)kb * 4, 4);
            __m512i a = _mm512_set1_epi32(a4);
            acc[r][0] = _mm512_dpbusd_epi32(acc[r][0], a, w0);
            if (NP > 1) acc[r][1] = _mm512_dpbusd_epi32(acc[r][1], a, w1);
        }
    }
    for (int p = 0; p < NP; p++) {
        int o0 = (pb + p) * UZW_QPANEL, no = O - o0 < UZW_QPANEL ? O - o0 : UZW_QPANEL;
        __mmask16 m = no == UZW_QPANEL ? (__mmask16)0xFFFF : (__mmask16)((1u << no) - 1);
        /* sum (q + 128) * w = sum q * w + 128 * sum w */
        __m512i corr = _mm512_slli_epi32(_mm512_maskz_loadu_epi32(m, qsum + o0), 7);
        __m512 ws = _mm512_maskz_loadu_ps(m, scale + o0);
        __m512 bias = b ? _mm512_maskz_loadu_ps(m, b + o0) : _mm512_setzero_ps();
        for (int r = 0; r < NR; r++) {
            __m512 v = _mm512_cvtepi32_ps(_mm512_sub_epi32(acc[r][p], corr));
            v = _mm512_fmadd_ps(v, _mm512_mul_ps(_mm512_set1_ps(sx[n0 + r]), ws), bias);
            _mm512_mask_storeu_ps(y + (size_t)(n0 + r) * O + o0, m, v);
        }
    }
}

ALWAYS_INLINE void w8a8_rows_panels(int NP, const uint8_t *qx, int ldx, const float *sx, const int8_t *pack,
                                    const int32_t *qsum, const float *scale, const float *b, float *y, int nlo, int nhi,
                                    int pb, int K4, int O) {
    int n0 = nlo;
    for (; n0 + W8A8_ROWS <= nhi; n0 += W8A8_ROWS)
        w8a8_block(W8A8_ROWS, NP, qx, ldx, sx, pack, qsum, scale, b, y, n0, pb, K4, O);
    for (; n0 + 4 <= nhi; n0 += 4) w8a8_block(4, NP, qx, ldx, sx, pack, qsum, scale, b, y, n0, pb, K4, O);
    for (; n0 < nhi; n0++) w8a8_block(1, NP, qx, ldx, sx, pack, qsum, scale, b, y, n0, pb, K4, O);
}

void uzw_w8a8_avx512(const uint8_t *qx, int ldx, const float *sx, const int8_t *pack, const int32_t *qsum,
                     const float *scale, const float *b, float *y, int N, int I, int O) {
    int K4 = (I + 3) / 4, OB = (O + UZW_QPANEL - 1) / UZW_QPANEL, OP = (OB + 1) / 2;
    int NC = (N + W8A8_CHUNK - 1) / W8A8_CHUNK;
#pragma omp parallel for collapse(2) schedule(static) if ((size_t)N * O * I > 262144)
    for (int c = 0; c < NC; c++)
        for (int pp = 0; pp < OP; pp++) {
            int nlo = c * W8A8_CHUNK, nhi = nlo + W8A8_CHUNK < N ? nlo + W8A8_CHUNK : N;
            int pb = 2 * pp;
            if (pb + 1 < OB) w8a8_rows_panels(2, qx, ldx, sx, pack, qsum, scale, b, y, nlo, nhi, pb, K4, O);
            else w8a8_rows_panels(1, qx, ldx, sx, pack, qsum, scale, b, y, nlo, nhi, pb, K4, O);
        }
}

#else /* built without AVX-512: never selected by uzw_cpu_isa_detect; forward to AVX2 */

void uzw_w8a16_avx512(const float *x, const int8_t *q, const float *scale, const float *b, float *y, int N, int I,
                      int O) {
    uzw_w8a16_avx2(x, q, scale, b, y, N, I, O);
}
void uzw_quantize_rows_avx512(const float *x, int N, int I, uint8_t *qx, int ldx, float *sx, int offset) {
    uzw_quantize_rows(UZW_ISA_SCALAR, x, N, I, qx, ldx, sx, offset);
}
void uzw_w8a8_avx512(const uint8_t *qx, int ldx, const float *sx, const int8_t *pack, const int32_t *qsum,
                     const float *scale, const float *b, float *y, int N, int I, int O) {
    uzw_w8a8_rows(UZW_ISA_SCALAR, qx, ldx, sx, pack, qsum, scale, b, y, N, I, O);
}

#endif
