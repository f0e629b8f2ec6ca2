/* The vector exp and GELU of engine/model/vmath.h on every path this CPU has, against libm:
 * exp within 2 ulp of expf over the softmax range (and exactly 1 at 0, monotone), the sum it
 * returns within f32 rounding of the sum of its outputs; GELU within 2e-7 * (1 + |x|) of the erff
 * form, on a dense grid and at every tail length. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/vmath.h"

static int isas(uzw_cpu_isa *out) {
    uzw_cpu_isa best = uzw_cpu_isa_detect();
    int n = 0;
    for (int i = UZW_ISA_SCALAR; i <= (int)best; i++) out[n++] = (uzw_cpu_isa)i;
    return n;
}

static double ulps(float a, float b) { /* |a - b| in units of the last place of b */
    return fabs((double)a - b) / (nextafterf(fabsf(b), INFINITY) - fabsf(b));
}

Test(vmath, exp_within_2_ulp) {
    uzw_cpu_isa is[3];
    int n_isa = isas(is);
    int n = 200003; /* odd: every path has a tail */
    float *x = malloc(sizeof(float) * n), *y = malloc(sizeof(float) * n);
    for (int i = 0; i < n; i++) x[i] = -87.0f + 87.0f * i / (n - 1); /* softmax inputs: x - max <= 0 */
    for (int k = 0; k < n_isa; k++) {
        memcpy(y, x, sizeof(float) * n);
        float sum = uzw_exp_shift_sum(is[k], y, n, 0.0f);
        double worst = 0, total = 0;
        for (int i = 0; i < n; i++) {
            double u = ulps(y[i], expf(x[i]));
            worst = u > worst ? u : worst;
            total += y[i];
            if (i) cr_assert(y[i] >= y[i - 1], "%s: not monotone at %g", uzw_cpu_isa_name(is[k]), x[i]);
        }
        cr_expect_leq(worst, 2.0, "%s: exp off by %g ulp", uzw_cpu_isa_name(is[k]), worst);
        cr_expect_eq(y[n - 1], 1.0f, "%s: exp(0) = %.9g", uzw_cpu_isa_name(is[k]), y[n - 1]);
        cr_expect_leq(fabs(sum - total), 1e-5 * total, "%s: sum %g vs %g", uzw_cpu_isa_name(is[k]), sum, total);
        /* the shift: exp(s - shift) */
        float s[5] = {3.0f, 2.0f, 1.0f, 0.0f, -1.0f};
        uzw_exp_shift_sum(is[k], s, 5, 3.0f);
        for (int i = 0; i < 5; i++) cr_expect_leq(ulps(s[i], expf((float)(-i))), 2.0, "%s shift", uzw_cpu_isa_name(is[k]));
    }
    free(x);
    free(y);
}

Test(vmath, gelu_matches_erf_form) {
    uzw_cpu_isa is[3];
    int n_isa = isas(is);
    for (int len = 1; len <= 40; len++) /* every tail length, then a long grid */
        for (int k = 0; k < n_isa; k++) {
            float v[40];
            for (int i = 0; i < len; i++) v[i] = -3.0f + 0.37f * i;
            uzw_gelu_array(is[k], v, (size_t)len);
            for (int i = 0; i < len; i++) {
                float x = -3.0f + 0.37f * i, r = 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
                cr_assert_leq(fabsf(v[i] - r), 2e-7f * (1 + fabsf(x)), "%s len %d x=%g: %g vs %g",
                              uzw_cpu_isa_name(is[k]), len, x, v[i], r);
            }
        }
    int n = 300001;
    float *x = malloc(sizeof(float) * n);
    for (int k = 0; k < n_isa; k++) {
        for (int i = 0; i < n; i++) x[i] = -12.0f + 24.0f * i / (n - 1);
        uzw_gelu_array(is[k], x, (size_t)n);
        double worst = 0;
        for (int i = 0; i < n; i++) {
            float a = -12.0f + 24.0f * i / (n - 1), r = 0.5f * a * (1.0f + erff(a * 0.70710678118654752f));
            double e = fabs(x[i] - r) / (1 + fabs(a));
            worst = e > worst ? e : worst;
        }
        cr_expect_leq(worst, 2e-7, "%s: GELU off by %g (relative to 1 + |x|)", uzw_cpu_isa_name(is[k]), worst);
    }
    free(x);
}
