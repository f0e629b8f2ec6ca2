/* The INT8 CPU products (engine/model/qmat.h): quantisation rules, the panel packing, and every
 * SIMD path this CPU has (scalar, AVX2, AVX-512 VNNI) against the plain-loop references at several
 * shapes (odd sizes, tails of every length, the Whisper shapes).
 *
 * Tolerances. W8A16 sums I float products in f32 in a different order from the double reference:
 * the bound is the worst case of that rounding, |y - ref| <= I * 2^-23 * sum_i |x_i q_i s|, which
 * an indexing or scaling mistake (an O(1) relative error) cannot meet. W8A8's dot products are
 * integers and exact; only the final scaling rounds: |y - ref| <= 4 * 2^-23 * |ref| + 1e-6. The
 * activation quantisation must match the reference bit for bit. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/ops.h"
#include "model/qmat.h"

static float frand(unsigned *s) { return (float)rand_r(s) / RAND_MAX * 2.0f - 1.0f; }

static float *randv(size_t n, unsigned *seed, float scale) {
    float *v = malloc(n * sizeof(float) + 64);
    cr_assert(v);
    for (size_t i = 0; i < n; i++) v[i] = frand(seed) * scale;
    return v;
}

/* The ISAs this CPU runs, scalar first. */
static int isas(uzw_cpu_isa *out) {
    uzw_cpu_isa best = uzw_cpu_isa_detect();
    int n = 0;
    for (int i = UZW_ISA_SCALAR; i <= (int)best; i++) out[n++] = (uzw_cpu_isa)i;
    return n;
}

typedef struct {
    int8_t *q;
    float *scale;
    int8_t *pack;
    int32_t *qsum;
} qm;

static qm make_q(int O, int I, unsigned *seed) {
    float *w = randv((size_t)O * I, seed, 0.3f);
    if (O > 2)
        for (int i = 0; i < I; i++) w[(size_t)1 * I + i] = 0; /* a zero row: scale 0 */
    qm m = {malloc((size_t)O * I + 1), malloc(sizeof(float) * O), aligned_alloc(64, uzw_qpack_bytes(O, I) + 64),
            malloc(sizeof(int32_t) * O)};
    uzw_quantize_matrix(w, O, I, m.q, m.scale);
    uzw_qmat_pack(m.q, O, I, m.pack, m.qsum);
    free(w);
    return m;
}
static void free_q(qm *m) { free(m->q); free(m->scale); free(m->pack); free(m->qsum); }

Test(qmat, quantize_matrix_rule) {
    /* amax 1.27 -> scale 0.01; 0.005 / 0.01 = 0.5 rounds to 0 (even), 0.015 -> 1.5 -> 2, -1.27 -> -127 */
    const float w[2][4] = {{1.27f, 0.005f, 0.015f, -1.27f}, {0, 0, 0, 0}};
    int8_t q[8];
    float s[2];
    uzw_quantize_matrix(&w[0][0], 2, 4, q, s);
    cr_expect_float_eq(s[0], 1.27f / 127.0f, 1e-9);
    cr_expect_eq(q[0], 127);
    cr_expect_eq(q[3], -127);
    cr_expect_eq(q[1], 0);
    cr_expect_eq(q[2], 2);
    cr_expect_eq(s[1], 0.0f);
    for (int i = 4; i < 8; i++) cr_expect_eq(q[i], 0);
    /* never -128, whatever the values */
    unsigned seed = 3;
    float *r = randv(64 * 65, &seed, 5);
    int8_t *rq = malloc(64 * 65);
    float rs[64];
    uzw_quantize_matrix(r, 64, 65, rq, rs);
    for (int i = 0; i < 64 * 65; i++) cr_assert(rq[i] >= -127 && rq[i] <= 127);
    for (int o = 0; o < 64; o++) {
        float amax = 0;
        for (int i = 0; i < 65; i++) amax = fmaxf(amax, fabsf(r[o * 65 + i]));
        cr_expect_eq(rs[o], amax / 127.0f);
        for (int i = 0; i < 65; i++) cr_assert(fabsf(rq[o * 65 + i] * rs[o] - r[o * 65 + i]) <= rs[o] * 0.5f * 1.0001f);
    }
    free(r);
    free(rq);
}

Test(qmat, validate_rejects_bad_tensors) {
    int8_t q[6] = {1, -127, 127, 0, 5, 6};
    float s[2] = {0.1f, 0.0f};
    char err[256];
    cr_expect_eq(uzw_qmat_validate(q, s, 2, 3, "w", err, sizeof err), 0, "%s", err);
    s[1] = NAN;
    cr_expect_neq(uzw_qmat_validate(q, s, 2, 3, "w", err, sizeof err), 0);
    cr_expect(strstr(err, "w.scale") != NULL, "%s", err);
    s[1] = -1.0f;
    cr_expect_neq(uzw_qmat_validate(q, s, 2, 3, "w", err, sizeof err), 0);
    s[1] = INFINITY;
    cr_expect_neq(uzw_qmat_validate(q, s, 2, 3, "w", err, sizeof err), 0);
    s[1] = 1.0f;
    q[4] = -128;
    cr_expect_neq(uzw_qmat_validate(q, s, 2, 3, "w", err, sizeof err), 0);
    cr_expect(strstr(err, "[1, 1]") != NULL, "%s", err);
}

Test(qmat, pack_layout) {
    unsigned seed = 5;
    int O = 37, I = 11;
    qm m = make_q(O, I, &seed);
    int K4 = (I + 3) / 4;
    for (int o = 0; o < 48; o++)
        for (int i = 0; i < K4 * 4; i++) {
            int8_t want = (o < O && i < I) ? m.q[(size_t)o * I + i] : 0;
            int8_t got = m.pack[((size_t)(o / 16) * K4 + i / 4) * 64 + (o % 16) * 4 + i % 4];
            cr_assert_eq(got, want, "o=%d i=%d", o, i);
        }
    for (int o = 0; o < O; o++) {
        int32_t s = 0;
        for (int i = 0; i < I; i++) s += m.q[(size_t)o * I + i];
        cr_expect_eq(m.qsum[o], s);
    }
    free_q(&m);
}

Test(qmat, quantize_rows_bit_exact_on_every_isa) {
    uzw_cpu_isa is[3];
    int n_isa = isas(is);
    const int widths[] = {1, 7, 8, 15, 16, 17, 63, 64, 100, 513, 2048};
    unsigned seed = 7;
    for (size_t w = 0; w < sizeof widths / sizeof widths[0]; w++) {
        int I = widths[w], N = 5, ldx = (I + 63) / 64 * 64;
        float *x = randv((size_t)N * I, &seed, 3);
        x[0] = 0.5f; /* exact halves after scaling happen: force ties through a row with amax 127 */
        if (I > 3) { x[1] = 127.0f; x[2] = 2.5f; x[3] = -3.5f; }
        for (int i = 0; i < I; i++) x[(size_t)2 * I + i] = 0; /* a zero row */
        for (int off = 0; off <= 128; off += 128) {
            uint8_t *ref = malloc((size_t)N * I);
            float sref[5];
            for (int n = 0; n < N; n++) sref[n] = uzw_quantize_row(x + (size_t)n * I, I, ref + (size_t)n * I, off);
            for (int k = 0; k < n_isa; k++) {
                uint8_t *qx = malloc((size_t)N * ldx);
                float sx[5];
                uzw_quantize_rows(is[k], x, N, I, qx, ldx, sx, off);
                for (int n = 0; n < N; n++) {
                    cr_assert_eq(memcmp(&sx[n], &sref[n], 4), 0, "%s I=%d row %d scale", uzw_cpu_isa_name(is[k]), I, n);
                    cr_assert_eq(memcmp(qx + (size_t)n * ldx, ref + (size_t)n * I, (size_t)I), 0,
                                 "%s I=%d offset %d row %d differs", uzw_cpu_isa_name(is[k]), I, off, n);
                    for (int i = I; i < ldx; i++) cr_assert_eq(qx[(size_t)n * ldx + i], off);
                }
                free(qx);
            }
            free(ref);
        }
        free(x);
    }
}

/* sum_i |x_i q_i s| for the W8A16 bound */
static double abs_terms(const float *x, const int8_t *q, float s, int I) {
    double a = 0;
    for (int i = 0; i < I; i++) a += fabs((double)x[i] * q[i] * s);
    return a;
}

static const int shapes[][3] = {/* N, I, O */
                                {1, 1, 1},     {1, 7, 5},     {1, 512, 512}, {2, 17, 3},   {3, 100, 37},
                                {4, 64, 16},   {5, 513, 33},  {8, 48, 19},   {13, 100, 37}, {12, 64, 32},
                                {25, 257, 50}, {101, 128, 48}, {200, 512, 64}, {1, 384, 51865}};

Test(qmat, w8a16_every_isa_matches_reference) {
    uzw_cpu_isa is[3];
    int n_isa = isas(is);
    unsigned seed = 11;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int N = shapes[s][0], I = shapes[s][1], O = shapes[s][2];
        float *x = randv((size_t)N * I, &seed, 1), *b = randv(O, &seed, 0.5f);
        qm m = make_q(O, I, &seed);
        float *ref = malloc(sizeof(float) * N * O), *y = malloc(sizeof(float) * N * O);
        for (int withb = 0; withb < 2; withb++) {
            uzw_matmul_w8a16_ref(x, m.q, m.scale, withb ? b : NULL, ref, N, I, O);
            for (int k = 0; k < n_isa; k++) {
                memset(y, 0xFF, sizeof(float) * N * O); /* NaN: an unwritten output fails */
                uzw_w8a16_rows(is[k], x, m.q, m.scale, withb ? b : NULL, y, N, I, O);
                long bad = 0;
                for (int n = 0; n < N; n++)
                    for (int o = 0; o < O; o++) {
                        double tol = I * 0x1p-23 * abs_terms(x + (size_t)n * I, m.q + (size_t)o * I, m.scale[o], I) +
                                     (withb ? 0x1p-23 * fabs(b[o]) * 2 : 0) + 1e-30;
                        double d = fabs((double)y[(size_t)n * O + o] - ref[(size_t)n * O + o]);
                        bad += !(d <= tol);
                    }
                cr_expect_eq(bad, 0, "w8a16 %s N=%d I=%d O=%d bias=%d: %ld outputs off", uzw_cpu_isa_name(is[k]), N, I, O,
                             withb, bad);
            }
        }
        free(x); free(b); free(ref); free(y);
        free_q(&m);
    }
}

Test(qmat, w8a8_every_isa_matches_reference) {
    uzw_cpu_isa is[3];
    int n_isa = isas(is);
    unsigned seed = 13;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int N = shapes[s][0], I = shapes[s][1], O = shapes[s][2];
        if ((size_t)N * I * O > 30000000) continue; /* the reference's cost */
        int ldx = (I + 63) / 64 * 64;
        float *x = randv((size_t)N * I, &seed, 2), *b = randv(O, &seed, 0.5f);
        qm m = make_q(O, I, &seed);
        float *ref = malloc(sizeof(float) * N * O), *y = malloc(sizeof(float) * N * O), *sx = malloc(sizeof(float) * N);
        uint8_t *qx = malloc((size_t)N * ldx);
        for (int withb = 0; withb < 2; withb++) {
            uzw_matmul_w8a8_ref(x, m.q, m.scale, withb ? b : NULL, ref, N, I, O);
            for (int k = 0; k < n_isa; k++) {
                uzw_quantize_rows(is[k], x, N, I, qx, ldx, sx, is[k] == UZW_ISA_AVX512 ? 128 : 0);
                memset(y, 0xFF, sizeof(float) * N * O);
                uzw_w8a8_rows(is[k], qx, ldx, sx, m.pack, m.qsum, m.scale, withb ? b : NULL, y, N, I, O);
                long bad = 0;
                double worst = 0;
                for (size_t e = 0; e < (size_t)N * O; e++) {
                    double d = fabs((double)y[e] - ref[e]), tol = 4 * 0x1p-23 * fabs(ref[e]) + 1e-6;
                    bad += !(d <= tol);
                    worst = d > worst ? d : worst;
                }
                cr_expect_eq(bad, 0, "w8a8 %s N=%d I=%d O=%d bias=%d: %ld outputs off, worst %g", uzw_cpu_isa_name(is[k]),
                             N, I, O, withb, bad, worst);
            }
        }
        free(x); free(b); free(ref); free(y); free(sx); free(qx);
        free_q(&m);
    }
}

/* uzw_matmul picks the path from the matrix and the scratch: each path against its reference. */
Test(qmat, matmul_dispatch) {
    unsigned seed = 17;
    int N = 40, I = 96, O = 70;
    float *x = randv((size_t)N * I, &seed, 1), *b = randv(O, &seed, 0.5f), *wf = randv((size_t)O * I, &seed, 0.3f);
    qm m = make_q(O, I, &seed);
    float *ref = malloc(sizeof(float) * N * O), *y = malloc(sizeof(float) * N * O);
    size_t sb = uzw_matmul_scratch_bytes(N, I);
    void *scratch = aligned_alloc(64, (sb + 63) / 64 * 64);
    uzw_wmat f = {.f = wf, .rows = O, .cols = I};
    uzw_linear_ref(x, wf, b, ref, N, I, O);
    uzw_matmul(&f, x, b, y, N, scratch, sb);
    for (size_t e = 0; e < (size_t)N * O; e++) cr_assert_float_eq(y[e], ref[e], 1e-4, "f32 path");
    uzw_cpu_isa best = uzw_cpu_isa_detect();
    uzw_wmat w16 = {.q = m.q, .scale = m.scale, .rows = O, .cols = I, .isa = best};
    uzw_wmat w8 = w16;
    w8.pack = m.pack; w8.qsum = m.qsum; w8.a8 = 1;
    uzw_matmul_w8a16_ref(x, m.q, m.scale, b, ref, N, I, O);
    uzw_matmul(&w16, x, b, y, N, scratch, sb); /* many rows: widened panels + sgemm */
    for (size_t e = 0; e < (size_t)N * O; e++) cr_assert_float_eq(y[e], ref[e], 1e-4, "w8a16 panels");
    uzw_matmul(&w16, x, b, y, N, NULL, 0); /* no scratch: the register path */
    for (size_t e = 0; e < (size_t)N * O; e++) cr_assert_float_eq(y[e], ref[e], 1e-4, "w8a16 rows");
    uzw_matmul(&w8, x, b, y, N, NULL, 0); /* W8A8 without scratch falls back to W8A16 */
    for (size_t e = 0; e < (size_t)N * O; e++) cr_assert_float_eq(y[e], ref[e], 1e-4, "w8a8 fallback");
    uzw_matmul_w8a8_ref(x, m.q, m.scale, b, ref, N, I, O);
    uzw_matmul(&w8, x, b, y, N, scratch, sb);
    for (size_t e = 0; e < (size_t)N * O; e++) cr_assert_float_eq(y[e], ref[e], 1e-5 + 1e-6 * fabsf(ref[e]), "w8a8");
    free(x); free(b); free(wf); free(ref); free(y); free(scratch);
    free_q(&m);
}

Test(qmat, wmat_row_dequantises) {
    unsigned seed = 19;
    qm m = make_q(5, 9, &seed);
    uzw_wmat w = {.q = m.q, .scale = m.scale, .rows = 5, .cols = 9};
    float row[9];
    uzw_wmat_row(&w, 3, row);
    for (int i = 0; i < 9; i++) cr_expect_eq(row[i], m.q[3 * 9 + i] * m.scale[3]);
    free_q(&m);
}
