/* qmat_avx2.c - the AVX2 + FMA INT8 kernels of qmat.h, for x86-64 CPUs without AVX-512 VNNI.
 * This file alone is built with AVX2 enabled; uzw_cpu_isa_detect decides whether it runs. Built
 * for another architecture, the entry points forward to the scalar paths.
 *
 * W8A8 without VNNI: vpmaddubsw multiplies unsigned by signed bytes into saturating int16 pairs,
 * so it gets |a| and w * sign(a); with both in [-127, 127] a pair sum is at most 2 * 127 * 127 =
 * 32258 and never saturates. vpmaddwd against ones then adds the pairs into the int32 lanes. */
#include "model/qmat.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#include <string.h>

#define ALWAYS_INLINE static inline __attribute__((always_inline))

static inline float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* ---------------------------------------------------------------- W8A16: few rows */

/* Rows n0..n0+NR-1 (NR <= 2) against output rows o0..o0+3 (NO real). */
ALWAYS_INLINE void w8a16_block(int NR, const float *x, const int8_t *q, const float *scale, const float *b, float *y,
                               int n0, int o0, int NO, int I, int O) {
    const float *xr[2];
    const int8_t *wr[4];
    for (int r = 0; r < 2; r++) xr[r] = x + (size_t)(n0 + (r < NR ? r : NR - 1)) * I;
    for (int j = 0; j < 4; j++) wr[j] = q + (size_t)(o0 + (j < NO ? j : NO - 1)) * I;
    __m256 acc[2][4];
    for (int r = 0; r < NR; r++)
        for (int j = 0; j < 4; j++) acc[r][j] = _mm256_setzero_ps();
    int i = 0;
    for (; i + 8 <= I; i += 8) {
        __m256 xv[2];
        for (int r = 0; r < NR; r++) xv[r] = _mm256_loadu_ps(xr[r] + i);
        for (int j = 0; j < 4; j++) {
            __m256 wv = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(wr[j] + i))));
            for (int r = 0; r < NR; r++) acc[r][j] = _mm256_fmadd_ps(xv[r], wv, acc[r][j]);
        }
    }
    for (int r = 0; r < NR; r++)
        for (int j = 0; j < NO; j++) {
            float s = hsum8(acc[r][j]);
            for (int t = i; t < I; t++) s += xr[r][t] * (float)wr[j][t];
            y[(size_t)(n0 + r) * O + o0 + j] = s * scale[o0 + j] + (b ? b[o0 + j] : 0.0f);
        }
}

void uzw_w8a16_avx2(const float *x, const int8_t *q, const float *scale, const float *b, float *y, int N, int I, int O) {
    int OB = (O + 3) / 4;
#pragma omp parallel for schedule(static) if ((size_t)N * O * I > 262144)
    for (int ob = 0; ob < OB; ob++) {
        int o0 = ob * 4, NO = O - o0 < 4 ? O - o0 : 4;
        int n0 = 0;
        for (; n0 + 2 <= N; n0 += 2) w8a16_block(2, x, q, scale, b, y, n0, o0, NO, I, O);
        if (n0 < N) w8a16_block(1, x, q, scale, b, y, n0, o0, NO, I, O);
    }
}

/* ---------------------------------------------------------------- activation rows */

void uzw_quantize_rows_avx2(const float *x, int N, int I, uint8_t *qx, int ldx, float *sx, int offset) {
#pragma omp parallel for schedule(static) if ((size_t)N * I > 65536)
    for (int n = 0; n < N; n++) {
        const float *xr = x + (size_t)n * I;
        uint8_t *out = qx + (size_t)n * ldx;
        const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
        __m256 mx = _mm256_setzero_ps();
        int i = 0;
        for (; i + 8 <= I; i += 8) mx = _mm256_max_ps(mx, _mm256_and_ps(_mm256_loadu_ps(xr + i), absmask));
        __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(mx), _mm256_extractf128_ps(mx, 1));
        m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
        float amax = _mm_cvtss_f32(m4);
        for (int t = i; t < I; t++) {
            float a = xr[t] < 0 ? -xr[t] : xr[t];
            amax = a > amax ? a : amax;
        }
        float inv = amax > 0 ? 127.0f / amax : 0.0f;
        sx[n] = amax / 127.0f;
        __m256 vinv = _mm256_set1_ps(inv);
        __m256i lo = _mm256_set1_epi32(-127), hi = _mm256_set1_epi32(127), off = _mm256_set1_epi32(offset);
        for (i = 0; i + 8 <= I; i += 8) {
            __m256i v = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(xr + i), vinv)); /* nearest even */
            v = _mm256_add_epi32(_mm256_min_epi32(_mm256_max_epi32(v, lo), hi), off);
            int32_t lanes[8];
            _mm256_storeu_si256((__m256i *)lanes, v);
            for (int t = 0; t < 8; t++) out[i + t] = (uint8_t)lanes[t];
        }
        for (; i < I; i++) { /* the tail: the same product and rounding, one lane */
            int v = _mm_cvtss_si32(_mm_set_ss(xr[i] * inv));
            v = v > 127 ? 127 : v < -127 ? -127 : v;
            out[i] = (uint8_t)(v + offset);
        }
        memset(out + I, offset, (size_t)(ldx - I));
    }
}

/* ---------------------------------------------------------------- W8A8 */

#define W8A8_ROWS 4

/* Rows n0..n0+NR-1 (int8 q) against panel pb: 16 outputs as two 8-lane halves. */
ALWAYS_INLINE void w8a8_block(int NR, const uint8_t *qx, int ldx, const float *sx, const int8_t *pack,
                              const float *scale, const float *b, float *y, int n0, int pb, int K4, int O) {
    const uint8_t *xr[W8A8_ROWS];
    for (int r = 0; r < W8A8_ROWS; r++) xr[r] = qx + (size_t)(n0 + (r < NR ? r : NR - 1)) * ldx;
    const int8_t *p = pack + (size_t)pb * K4 * 64;
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i acc[W8A8_ROWS][2];
    for (int r = 0; r < NR; r++) acc[r][0] = acc[r][1] = _mm256_setzero_si256();
    for (int kb = 0; kb < K4; kb++) {
        __m256i w0 = _mm256_load_si256((const __m256i *)(p + (size_t)kb * 64));
        __m256i w1 = _mm256_load_si256((const __m256i *)(p + (size_t)kb * 64 + 32));
        for (int r = 0; r < NR; r++) {
            int32_t a4;
            memcpy(&a4, xr[r] + (size_t)kb * 4, 4);
            __m256i a = _mm256_set1_epi32(a4), aa = _mm256_abs_epi8(a);
            acc[r][0] = _mm256_add_epi32(acc[r][0], _mm256_madd_epi16(_mm256_maddubs_epi16(aa, _mm256_sign_epi8(w0, a)), ones));
            acc[r][1] = _mm256_add_epi32(acc[r][1], _mm256_madd_epi16(_mm256_maddubs_epi16(aa, _mm256_sign_epi8(w1, a)), ones));
        }
    }
    int o0 = pb * UZW_QPANEL;
    for (int r = 0; r < NR; r++) {
        int32_t lanes[16];
        _mm256_storeu_si256((__m256i *)lanes, acc[r][0]);
        _mm256_storeu_si256((__m256i *)(lanes + 8), acc[r][1]);
        float s = sx[n0 + r];
        float *yr = y + (size_t)(n0 + r) * O;
        for (int j = 0; j < UZW_QPANEL && o0 + j < O; j++)
            yr[o0 + j] = (float)lanes[j] * (s * scale[o0 + j]) + (b ? b[o0 + j] : 0.0f);
    }
}

void uzw_w8a8_avx2(const uint8_t *qx, int ldx, const float *sx, const int8_t *pack, const float *scale,
                   const float *b, float *y, int N, int I, int O) {
    int K4 = (I + 3) / 4, OB = (O + UZW_QPANEL - 1) / UZW_QPANEL;
#pragma omp parallel for schedule(static) if ((size_t)N * O * I > 262144)
    for (int pb = 0; pb < OB; pb++) {
        int n0 = 0;
        for (; n0 + W8A8_ROWS <= N; n0 += W8A8_ROWS) w8a8_block(W8A8_ROWS, qx, ldx, sx, pack, scale, b, y, n0, pb, K4, O);
        for (; n0 < N; n0++) w8a8_block(1, qx, ldx, sx, pack, scale, b, y, n0, pb, K4, O);
    }
}

#else /* built without AVX2: never selected by uzw_cpu_isa_detect; forward to scalar */

void uzw_w8a16_avx2(const float *x, const int8_t *q, const float *scale, const float *b, float *y, int N, int I, int O) {
    uzw_w8a16_rows(UZW_ISA_SCALAR, x, q, scale, b, y, N, I, O);
}
void uzw_quantize_rows_avx2(const float *x, int N, int I, uint8_t *qx, int ldx, float *sx, int offset) {
    uzw_quantize_rows(UZW_ISA_SCALAR, x, N, I, qx, ldx, sx, offset);
}
void uzw_w8a8_avx2(const uint8_t *qx, int ldx, const float *sx, const int8_t *pack, const float *scale,
                   const float *b, float *y, int N, int I, int O) {
    uzw_w8a8_rows(UZW_ISA_SCALAR, qx, ldx, sx, pack, NULL, scale, b, y, N, I, O);
}

#endif
