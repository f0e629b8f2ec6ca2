// check_util.cu - what the kernel checks and benchmarks share (check_util.h): seeded inputs,
// guarded poisoned device buffers, comparison against the CPU reference, median timing.
#include <cuda_fp16.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"

#define GUARD_BYTE 0xA5

static uint64_t splitmix64(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

extern "C" double uzwk_rand_uniform(uint64_t *state, double lo, double hi) {
    double u = (double)(splitmix64(state) >> 11) * (1.0 / 9007199254740992.0);
    return lo + (hi - lo) * u;
}

extern "C" void uzwk_rand_f32(float *x, size_t n, uint64_t *state, float lo, float hi) {
    for (size_t i = 0; i < n; i++) x[i] = (float)uzwk_rand_uniform(state, lo, hi);
}

extern "C" void uzwk_rand_f16(float *x, uzwk_f16 *h, size_t n, uint64_t *state, float lo, float hi) {
    for (size_t i = 0; i < n; i++) {
        uzwk_f16 b = uzwk_f32_to_f16_host((float)uzwk_rand_uniform(state, lo, hi));
        if (h) h[i] = b;
        if (x) x[i] = uzwk_f16_to_f32_host(b);
    }
}

extern "C" void uzwk_f16_array_to_f32(const uzwk_f16 *h, float *x, size_t n) {
    for (size_t i = 0; i < n; i++) x[i] = uzwk_f16_to_f32_host(h[i]);
}

extern "C" int uzwk_guarded_new(uzwk_ctx *c, uzwk_guarded *g, size_t bytes) {
    memset(g, 0, sizeof *g);
    g->base = (unsigned char *)uzwk_malloc(c, bytes + 2 * UZWK_GUARD_BYTES);
    if (!g->base) return -1;
    g->p = g->base + UZWK_GUARD_BYTES;
    g->bytes = bytes;
    if (uzwk_memset(c, g->base, GUARD_BYTE, UZWK_GUARD_BYTES) ||
        uzwk_memset(c, g->base + UZWK_GUARD_BYTES + bytes, GUARD_BYTE, UZWK_GUARD_BYTES) ||
        uzwk_memset(c, g->p, 0xFF, bytes) || uzwk_sync(c)) {
        uzwk_guarded_free(g);
        return -1;
    }
    return 0;
}

extern "C" int uzwk_guarded_upload(uzwk_ctx *c, uzwk_guarded *g, const void *src, size_t bytes) {
    if (bytes > g->bytes) return uzwk_fail(c, "uzwk_guarded_upload: %zu bytes into a %zu-byte buffer", bytes, g->bytes);
    return uzwk_h2d(c, g->p, src, bytes);
}

extern "C" int uzwk_guarded_fetch(uzwk_ctx *c, const uzwk_guarded *g, void *dst, long *guard_bad) {
    size_t total = g->bytes + 2 * UZWK_GUARD_BYTES;
    unsigned char *all = (unsigned char *)malloc(total);
    if (!all) return uzwk_fail(c, "uzwk_guarded_fetch: out of host memory");
    if (uzwk_sync(c) || uzwk_d2h(c, all, g->base, total)) {
        free(all);
        return -1;
    }
    long bad = 0;
    for (size_t i = 0; i < UZWK_GUARD_BYTES; i++) {
        bad += all[i] != GUARD_BYTE;
        bad += all[UZWK_GUARD_BYTES + g->bytes + i] != GUARD_BYTE;
    }
    memcpy(dst, all + UZWK_GUARD_BYTES, g->bytes);
    free(all);
    if (guard_bad) *guard_bad += bad;
    return 0;
}

extern "C" void uzwk_guarded_free(uzwk_guarded *g) {
    if (g->base) uzwk_free(g->base);
    memset(g, 0, sizeof *g);
}

extern "C" void uzwk_compare(const float *out, const double *ref, size_t n, double tol, const char *what,
                             uzwk_check_result *r) {
    double num = 0, den = 0, max_abs = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)out[i] - ref[i];
        if (isfinite(d)) num += d * d;
        den += ref[i] * ref[i];
    }
    double rms = n ? sqrt(den / (double)n) : 0;
    double atol = 8 * tol * (rms > 0 ? rms : 1), rtol = 8 * tol;
    long bad = 0;
    size_t first = (size_t)-1;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)out[i] - ref[i]);
        int ok = isfinite(out[i]) && d <= atol + rtol * fabs(ref[i]);
        if (isfinite(d) && d > max_abs) max_abs = d;
        if (!ok) {
            if (first == (size_t)-1) first = i;
            bad++;
        }
    }
    r->rel_err = den > 0 ? sqrt(num / den) : sqrt(num);
    r->max_abs = max_abs;
    r->tol = tol;
    r->n_bad = bad;
    r->pass = bad == 0 && r->rel_err <= tol && r->guard_bad == 0;
    if (r->guard_bad)
        snprintf(r->detail, sizeof r->detail, "%s: %ld guard bytes overwritten", what, r->guard_bad);
    else if (bad)
        snprintf(r->detail, sizeof r->detail, "%s: %ld of %zu elements off, first [%zu] = %g, reference %g", what, bad,
                 n, first, (double)out[first], ref[first]);
    else if (r->rel_err > tol)
        snprintf(r->detail, sizeof r->detail, "%s: relative error %.3g over %.3g", what, r->rel_err, tol);
    else
        snprintf(r->detail, sizeof r->detail, "%s: rel %.3g (tol %.3g), max abs %.3g", what, r->rel_err, tol, max_abs);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

extern "C" int uzwk_time_median(uzwk_ctx *c, int (*fn)(uzwk_ctx *, void *), void *arg, int reps, double *ms) {
    if (reps < 1) reps = 1;
    double *t = (double *)malloc(sizeof(double) * (size_t)reps);
    uzwk_timer *tm = uzwk_timer_new(c);
    int rc = -1;
    if (!t || !tm) goto done;
    for (int w = 0; w < 3; w++)
        if (fn(c, arg)) goto done;
    if (uzwk_sync(c)) goto done;
    for (int i = 0; i < reps; i++) {
        float one = 0;
        if (uzwk_flush_l2(c) || uzwk_timer_start(c, tm) || fn(c, arg) || uzwk_timer_stop(c, tm, &one)) goto done;
        t[i] = one;
    }
    qsort(t, (size_t)reps, sizeof(double), cmp_double);
    *ms = reps % 2 ? t[reps / 2] : 0.5 * (t[reps / 2 - 1] + t[reps / 2]);
    rc = 0;
done:
    if (rc && !t) uzwk_fail(c, "uzwk_time_median: out of host memory");
    free(t);
    uzwk_timer_free(tm);
    return rc;
}
