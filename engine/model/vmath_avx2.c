/* vmath_avx2.c - vmath.h's exp and GELU, 8 floats at a time (AVX2 + FMA). Built with AVX2
 * enabled; uzw_cpu_isa_detect decides whether it runs. Elsewhere it forwards to the scalar path. */
#include "model/vmath.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#include <string.h>

typedef __m256 VF;
#define VSET(a) _mm256_set1_ps(a)
#define VADD(a, b) _mm256_add_ps(a, b)
#define VSUB(a, b) _mm256_sub_ps(a, b)
#define VMUL(a, b) _mm256_mul_ps(a, b)
#define VDIV(a, b) _mm256_div_ps(a, b)
#define VMIN(a, b) _mm256_min_ps(a, b)
#define VMAX(a, b) _mm256_max_ps(a, b)
#define VFMADD(a, b, c) _mm256_fmadd_ps(a, b, c)
#define VFNMADD(a, b, c) _mm256_fnmadd_ps(a, b, c)
#define VROUND(a) _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
/* 2^n p by adding n to the exponent field: the clamp in vexp keeps the result normal */
#define VPOW2(p, n)                                                                                                 \
    _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(p), _mm256_slli_epi32(_mm256_cvtps_epi32(n), 23)))
#define VABS(a) _mm256_and_ps(a, _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF)))
#define VNEG(a) _mm256_xor_ps(a, _mm256_castsi256_ps(_mm256_set1_epi32((int)0x80000000u)))
#define VCOPYSIGN(m, s)                                                                                             \
    _mm256_or_ps(VABS(m), _mm256_and_ps(s, _mm256_castsi256_ps(_mm256_set1_epi32((int)0x80000000u))))
#include "model/vmath_simd.h"

float uzw_exp_shift_sum_avx2(float *s, int n, float shift) {
    VF acc = _mm256_setzero_ps(), sh = VSET(shift);
    int j = 0;
    for (; j + 8 <= n; j += 8) {
        VF e = vexp(VSUB(_mm256_loadu_ps(s + j), sh));
        _mm256_storeu_ps(s + j, e);
        acc = VADD(acc, e);
    }
    float lanes[8];
    _mm256_storeu_ps(lanes, acc);
    float sum = 0;
    for (int k = 0; k < 8; k++) sum += lanes[k];
    if (j < n) { /* the tail through the same polynomial, in a padded copy */
        float t[8] = {0};
        memcpy(t, s + j, sizeof(float) * (size_t)(n - j));
        _mm256_storeu_ps(t, vexp(VSUB(_mm256_loadu_ps(t), sh)));
        for (int k = 0; k < n - j; k++) sum += t[k];
        memcpy(s + j, t, sizeof(float) * (size_t)(n - j));
    }
    return sum;
}

void uzw_gelu_avx2(float *x, size_t n) {
    size_t n8 = n / 8 * 8;
#pragma omp parallel for schedule(static) if (n > 65536)
    for (size_t i = 0; i < n8; i += 8) _mm256_storeu_ps(x + i, vgelu(_mm256_loadu_ps(x + i)));
    if (n8 < n) {
        float t[8] = {0};
        memcpy(t, x + n8, sizeof(float) * (n - n8));
        _mm256_storeu_ps(t, vgelu(_mm256_loadu_ps(t)));
        memcpy(x + n8, t, sizeof(float) * (n - n8));
    }
}

#else

float uzw_exp_shift_sum_avx2(float *s, int n, float shift) { return uzw_exp_shift_sum(UZW_ISA_SCALAR, s, n, shift); }
void uzw_gelu_avx2(float *x, size_t n) { uzw_gelu_array(UZW_ISA_SCALAR, x, n); }

#endif
