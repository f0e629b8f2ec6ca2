/* vmath_avx512.c - vmath.h's exp and GELU, 16 floats at a time (AVX-512F). Built with AVX-512
 * enabled; uzw_cpu_isa_detect decides whether it runs. Elsewhere it forwards to the AVX2 file. */
#include "model/vmath.h"

#if defined(__AVX512F__)
#include <immintrin.h>

typedef __m512 VF;
#define VSET(a) _mm512_set1_ps(a)
#define VADD(a, b) _mm512_add_ps(a, b)
#define VSUB(a, b) _mm512_sub_ps(a, b)
#define VMUL(a, b) _mm512_mul_ps(a, b)
#define VDIV(a, b) _mm512_div_ps(a, b)
#define VMIN(a, b) _mm512_min_ps(a, b)
#define VMAX(a, b) _mm512_max_ps(a, b)
#define VFMADD(a, b, c) _mm512_fmadd_ps(a, b, c)
#define VFNMADD(a, b, c) _mm512_fnmadd_ps(a, b, c)
#define VROUND(a) _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#define VPOW2(p, n) _mm512_scalef_ps(p, n)
#define VABS(a) _mm512_abs_ps(a)
#define VNEG(a) _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(a), _mm512_set1_epi32((int)0x80000000u)))
#define VCOPYSIGN(m, s)                                                                                          \
    _mm512_castsi512_ps(_mm512_ternarylogic_epi32(_mm512_castps_si512(m), _mm512_castps_si512(s),             \
                                                  _mm512_set1_epi32(0x7FFFFFFF), 0xE4))
#include "model/vmath_simd.h"

float uzw_exp_shift_sum_avx512(float *s, int n, float shift) {
    VF acc = _mm512_setzero_ps(), sh = VSET(shift);
    for (int j = 0; j < n; j += 16) {
        __mmask16 m = n - j >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - j)) - 1);
        VF e = vexp(VSUB(_mm512_maskz_loadu_ps(m, s + j), sh));
        _mm512_mask_storeu_ps(s + j, m, e);
        acc = _mm512_mask_add_ps(acc, m, acc, e);
    }
    return _mm512_reduce_add_ps(acc);
}

void uzw_gelu_avx512(float *x, size_t n) {
#pragma omp parallel for schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        _mm512_mask_storeu_ps(x + i, m, vgelu(_mm512_maskz_loadu_ps(m, x + i)));
    }
}

#else

float uzw_exp_shift_sum_avx512(float *s, int n, float shift) { return uzw_exp_shift_sum_avx2(s, n, shift); }
void uzw_gelu_avx512(float *x, size_t n) { uzw_gelu_avx2(x, n); }

#endif
