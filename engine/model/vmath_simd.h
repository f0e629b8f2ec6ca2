/* vmath_simd.h - the exp and erf polynomials of vmath.h, written once over a vector type and
 * included by vmath_avx2.c and vmath_avx512.c, which define the V* operations for their width. */
#ifndef UZW_VMATH_SIMD_H
#define UZW_VMATH_SIMD_H

/* exp(x), as described in vmath.h */
static inline VF vexp(VF x) {
    x = VMIN(VMAX(x, VSET(-87.0f)), VSET(88.3f)); /* keeps 2^n p a normal float on every path */
    VF n = VROUND(VMUL(x, VSET(1.44269504088896341f)));
    VF r = VFNMADD(n, VSET(0.693359375f), x);  /* x - n ln2_hi (exact) */
    r = VFNMADD(n, VSET(-2.12194440e-4f), r);  /* - n ln2_lo */
    VF p = VSET(1.9875691500e-4f);
    p = VFMADD(p, r, VSET(1.3981999507e-3f));
    p = VFMADD(p, r, VSET(8.3334519073e-3f));
    p = VFMADD(p, r, VSET(4.1665795894e-2f));
    p = VFMADD(p, r, VSET(1.6666665459e-1f));
    p = VFMADD(p, r, VSET(5.0000001201e-1f));
    p = VFMADD(p, VMUL(r, r), VADD(r, VSET(1.0f)));
    return VPOW2(p, n);
}

/* GELU(x) = 0.5 x (1 + erf(x / sqrt 2)), erf by Abramowitz & Stegun 7.1.26 */
static inline VF vgelu(VF x) {
    VF z = VMUL(x, VSET(0.70710678118654752f));
    VF a = VABS(z);
    VF t = VDIV(VSET(1.0f), VFMADD(a, VSET(0.3275911f), VSET(1.0f)));
    VF p = VSET(1.061405429f);
    p = VFMADD(p, t, VSET(-1.453152027f));
    p = VFMADD(p, t, VSET(1.421413741f));
    p = VFMADD(p, t, VSET(-0.284496736f));
    p = VFMADD(p, t, VSET(0.254829592f));
    p = VMUL(p, t);
    VF e = VSUB(VSET(1.0f), VMUL(p, vexp(VNEG(VMUL(a, a))))); /* erf(|z|) */
    e = VCOPYSIGN(e, z);
    return VMUL(VMUL(VSET(0.5f), x), VADD(VSET(1.0f), e));
}

#endif
