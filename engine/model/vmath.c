/* vmath.c - the dispatch and the scalar (libm) paths of vmath.h. */
#include <math.h>

#include "model/vmath.h"

float uzw_exp_shift_sum(uzw_cpu_isa isa, float *s, int n, float shift) {
    if (isa == UZW_ISA_AVX512) return uzw_exp_shift_sum_avx512(s, n, shift);
    if (isa == UZW_ISA_AVX2) return uzw_exp_shift_sum_avx2(s, n, shift);
    float sum = 0;
    for (int j = 0; j < n; j++) {
        s[j] = expf(s[j] - shift);
        sum += s[j];
    }
    return sum;
}

void uzw_gelu_array(uzw_cpu_isa isa, float *x, size_t n) {
    if (isa == UZW_ISA_AVX512) { uzw_gelu_avx512(x, n); return; }
    if (isa == UZW_ISA_AVX2) { uzw_gelu_avx2(x, n); return; }
#pragma omp parallel for simd if (n > 65536) schedule(static)
    for (size_t i = 0; i < n; i++) x[i] = 0.5f * x[i] * (1.0f + erff(x[i] * 0.70710678118654752f));
}
