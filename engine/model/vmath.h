/*
 * vmath.h - exp and GELU over arrays for the CPU ops (softmax in attention, the MLP and conv
 * activations), with AVX-512 and AVX2 paths chosen at run time (qmat.h's uzw_cpu_isa) and the libm
 * loop as the scalar path and the reference.
 *
 * exp: Cody-Waite range reduction x = n ln2 + r, |r| <= ln2/2, a degree-6 polynomial in r (the
 * Cephes expf coefficients), times 2^n; inputs are clamped to [-87, 88.3] (below, the result is
 * 1.6e-38 instead of smaller: nothing in a softmax whose largest term is 1). Within 2 ulp of
 * expf (tests/test_vmath.c).
 * GELU: 0.5 x (1 + erf(x / sqrt 2)) with erf from Abramowitz & Stegun 7.1.26 (absolute error
 * <= 1.5e-7, using the exp above), against erff in the reference.
 */
#ifndef UZW_VMATH_H
#define UZW_VMATH_H

#include <stddef.h>

#include "model/qmat.h"

/* s[j] = exp(s[j] - shift) for 0 <= j < n; returns sum_j s[j] (f32). */
float uzw_exp_shift_sum(uzw_cpu_isa isa, float *s, int n, float shift);
/* x[i] = GELU(x[i]) */
void uzw_gelu_array(uzw_cpu_isa isa, float *x, size_t n);

float uzw_exp_shift_sum_avx2(float *s, int n, float shift);
float uzw_exp_shift_sum_avx512(float *s, int n, float shift);
void uzw_gelu_avx2(float *x, size_t n);
void uzw_gelu_avx512(float *x, size_t n);

#endif
