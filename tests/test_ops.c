/* The fast CPU ops (OpenBLAS) against the plain-loop references, at several shapes including odd
 * sizes. Tolerances are for f32 with different summation orders: |a-b| <= 1e-5 + 1e-4|b|. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "model/ops.h"
#include "testutil.h"

static float *randv(size_t n, unsigned *seed, float scale) {
    float *v = malloc(n * sizeof(float));
    cr_assert(v);
    for (size_t i = 0; i < n; i++) v[i] = ((float)rand_r(seed) / RAND_MAX * 2.0f - 1.0f) * scale;
    return v;
}

#define ATOL 1e-5
#define RTOL 1e-4

Test(ops, linear_matches_reference) {
    const int shapes[][3] = {{1, 1, 1}, {1, 384, 1536}, {3, 17, 5}, {7, 64, 129}, {1500, 64, 64}, {4, 512, 51}};
    unsigned seed = 1;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int N = shapes[s][0], I = shapes[s][1], O = shapes[s][2];
        float *x = randv((size_t)N * I, &seed, 1), *W = randv((size_t)O * I, &seed, 0.2f), *b = randv(O, &seed, 1);
        float *y = malloc(sizeof(float) * N * O), *r = malloc(sizeof(float) * N * O);
        for (int withb = 0; withb < 2; withb++) {
            uzw_linear(x, W, withb ? b : NULL, y, N, I, O);
            uzw_linear_ref(x, W, withb ? b : NULL, r, N, I, O);
            tu_cmp c = tu_compare(y, r, (size_t)N * O, ATOL, RTOL);
            cr_expect_eq(c.n_bad, 0, "linear N=%d I=%d O=%d bias=%d: max abs %g", N, I, O, withb, c.max_abs);
        }
        free(x); free(W); free(b); free(y); free(r);
    }
}

Test(ops, conv1d_matches_reference) {
    const int shapes[][4] = {{80, 3000, 16, 1}, {16, 3000, 16, 2}, {3, 7, 5, 1}, {3, 7, 5, 2}, {2, 1, 3, 1}, {5, 2, 4, 2}};
    unsigned seed = 2;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int Ci = shapes[s][0], Ti = shapes[s][1], Co = shapes[s][2], st = shapes[s][3];
        int To = uzw_conv1d_k3_out(Ti, st);
        float *x = randv((size_t)Ci * Ti, &seed, 1), *W = randv((size_t)Co * Ci * 3, &seed, 0.3f), *b = randv(Co, &seed, 1);
        float *y = malloc(sizeof(float) * Co * To), *r = malloc(sizeof(float) * Co * To);
        float *cols = malloc(sizeof(float) * Ci * 3 * To);
        uzw_conv1d_k3(x, W, b, y, Ci, Ti, Co, st, cols);
        uzw_conv1d_k3_ref(x, W, b, r, Ci, Ti, Co, st);
        tu_cmp c = tu_compare(y, r, (size_t)Co * To, ATOL, RTOL);
        cr_expect_eq(c.n_bad, 0, "conv Ci=%d Ti=%d Co=%d stride=%d: max abs %g", Ci, Ti, Co, st, c.max_abs);
        free(x); free(W); free(b); free(y); free(r); free(cols);
    }
}

/* every CPU path: UZW_CPU_ISA lowers the SIMD choice (engine/model/qmat.h) */
Test(ops, attention_matches_reference) {
    static const char *isa_env[] = {NULL, "avx2", "scalar"};
    for (int e = 0; e < 3; e++) {
    if (isa_env[e]) setenv("UZW_CPU_ISA", isa_env[e], 1);
    else unsetenv("UZW_CPU_ISA");
    /* Nq, Nk, H, Dh, causal, q_offset */
    const int shapes[][6] = {{1500, 1500, 2, 16, 0, 0}, {4, 4, 6, 64, 1, 0}, {1, 9, 8, 64, 1, 8},
                             {3, 1500, 2, 64, 0, 0}, {5, 12, 3, 7, 1, 7}, {1, 1, 1, 1, 1, 0},
                             {2, 1500, 4, 80, 0, 0}, {1, 37, 2, 129, 1, 36}};
    unsigned seed = 3;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int Nq = shapes[s][0], Nk = shapes[s][1], H = shapes[s][2], Dh = shapes[s][3], causal = shapes[s][4], off = shapes[s][5];
        int D = H * Dh;
        float *q = randv((size_t)Nq * D, &seed, 1), *k = randv((size_t)Nk * D, &seed, 1), *v = randv((size_t)Nk * D, &seed, 1);
        float *o = malloc(sizeof(float) * Nq * D), *r = malloc(sizeof(float) * Nq * D), *sc = malloc(sizeof(float) * (size_t)H * Nq * Nk);
        uzw_attention(q, D, k, v, D, o, Nq, Nk, H, Dh, causal, off, sc);
        uzw_attention_ref(q, D, k, v, D, r, Nq, Nk, H, Dh, causal, off);
        tu_cmp c = tu_compare(o, r, (size_t)Nq * D, ATOL, RTOL);
        cr_expect_eq(c.n_bad, 0, "attention (%s) Nq=%d Nk=%d H=%d Dh=%d causal=%d: max abs %g",
                     isa_env[e] ? isa_env[e] : "best", Nq, Nk, H, Dh, causal, c.max_abs);
        free(q); free(k); free(v); free(o); free(r); free(sc);
    }
    }
    unsetenv("UZW_CPU_ISA");
}

Test(ops, layernorm_and_gelu_values) {
    float x[4] = {1, 2, 3, 4}, w[4] = {1, 1, 1, 1}, b[4] = {0, 0, 0, 0}, y[4];
    uzw_layernorm(x, w, b, y, 1, 4);
    /* mean 2.5, var 1.25: (x-2.5)/sqrt(1.25+1e-5) */
    for (int i = 0; i < 4; i++) cr_expect_float_eq(y[i], (x[i] - 2.5) / sqrt(1.25 + 1e-5), 1e-6);
    float g[3] = {-1.0f, 0.0f, 1.0f};
    uzw_gelu(g, 3);
    /* exact erf GELU: 0.5*x*(1+erf(x/sqrt 2)); 1 -> 0.8413447460685429 */
    cr_expect_float_eq(g[2], 0.8413447460685429, 1e-7);
    cr_expect_float_eq(g[0], -0.15865525393145707, 1e-7);
    cr_expect_float_eq(g[1], 0.0, 1e-12);
}
