// check_elem.cu - the registry entries of the LayerNorm and element-wise kernels
// (kernels/cuda/elem.cu): checks against plain double-precision loops on the host, with guarded,
// poisoned outputs, and the benchmarks (memory-bound: the bytes let the bench print GB/s).
//
// Tolerances: the f16 outputs (layernorm, add_layernorm's y, bias_gelu) come from fp32 work
// rounded once to f16, so UZWK_TOL_F16; the f32 outputs (add_layernorm's x, embed, add_pos) are one
// or two fp32 additions, UZWK_TOL_F32. The conversions, fills and the INT8 embedding (one f32
// product and one f32 sum, each correctly rounded) are also compared bit for bit with the host's
// round-to-nearest-even conversion, the same counter hash and the correctly rounded f32 steps.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "k_elem.h"

namespace {

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

// ---------------------------------------------------------------- allocation bookkeeping

// Everything one check or bench allocates, freed in one place.
struct mem {
    uzwk_ctx *c;
    void *host[16];
    int nh;
    void *dev[16];
    int nd;
    uzwk_guarded g[4];
    int ng;
};

void *hmalloc(mem *m, size_t bytes) {
    void *p = m->nh < COUNT(m->host) ? malloc(bytes ? bytes : 1) : NULL;
    if (!p) {
        uzwk_fail(m->c, "elem check: out of host memory (%zu bytes)", bytes);
        return NULL;
    }
    m->host[m->nh++] = p;
    return p;
}

void *dmalloc(mem *m, size_t bytes) {
    if (m->nd >= COUNT(m->dev)) {
        uzwk_fail(m->c, "elem check: too many device buffers");
        return NULL;
    }
    void *p = uzwk_malloc(m->c, bytes);
    if (p) m->dev[m->nd++] = p;
    return p;
}

uzwk_guarded *gnew(mem *m, size_t bytes) {
    if (m->ng >= COUNT(m->g)) {
        uzwk_fail(m->c, "elem check: too many guarded buffers");
        return NULL;
    }
    uzwk_guarded *g = &m->g[m->ng];
    if (uzwk_guarded_new(m->c, g, bytes)) return NULL;
    m->ng++;
    return g;
}

void mem_free(mem *m) {
    for (int i = 0; i < m->nh; i++) free(m->host[i]);
    for (int i = 0; i < m->nd; i++) uzwk_free(m->dev[i]);
    for (int i = 0; i < m->ng; i++) uzwk_guarded_free(&m->g[i]);
    m->nh = m->nd = m->ng = 0;
}

// The frame every check and bench runs in: clear r, reject an unknown shape or variant (`what`
// names the op in the message), run body(m) with a fresh allocation record m, then free whatever
// body allocated. body returns 0 (ran) or -1 (error in the context).
template <class R, class F>
int framed(uzwk_ctx *c, R *r, const char *what, int shape, int n_shapes, int variant, int n_variants, F body) {
    memset(r, 0, sizeof *r);
    if (shape < 0 || shape >= n_shapes || variant < 0 || variant >= n_variants)
        return uzwk_fail(c, "%s: no shape %d / variant %d", what, shape, variant);
    mem m;
    memset(&m, 0, sizeof m);
    m.c = c;
    const int rc = body(&m);
    mem_free(&m);
    return rc;
}

// Fetch a guarded f16 output into f32 (tmp: host [n] f16 scratch); guard damage into *guard_bad.
int fetch_f16(uzwk_ctx *c, const uzwk_guarded *g, uzwk_f16 *tmp, float *out, size_t n, long *guard_bad) {
    if (uzwk_guarded_fetch(c, g, tmp, guard_bad)) return -1;
    uzwk_f16_array_to_f32(tmp, out, n);
    return 0;
}

// Fetch guarded output g into out (f32), guard damage added to r->guard_bad, and compare it with ref.
int fetch_compare_f32(uzwk_ctx *c, const uzwk_guarded *g, float *out, const double *ref, size_t n, double tol,
                      const char *what, uzwk_check_result *r) {
    if (uzwk_guarded_fetch(c, g, out, &r->guard_bad)) return -1;
    uzwk_compare(out, ref, n, tol, what, r);
    return 0;
}

// The same for an f16 output (tmp: host [n] f16 scratch; out: the values as f32).
int fetch_compare_f16(uzwk_ctx *c, const uzwk_guarded *g, uzwk_f16 *tmp, float *out, const double *ref, size_t n,
                      double tol, const char *what, uzwk_check_result *r) {
    if (fetch_f16(c, g, tmp, out, n, &r->guard_bad)) return -1;
    uzwk_compare(out, ref, n, tol, what, r);
    return 0;
}

// Two compared outputs as one result: passes when both do; rel_err and tol of the output closer to
// its bound; the first failure's detail (or both summaries).
void merge(uzwk_check_result *r, const uzwk_check_result *a, const uzwk_check_result *b) {
    const bool a_binds = a->rel_err / a->tol >= b->rel_err / b->tol;
    const uzwk_check_result *bind = a_binds ? a : b;
    uzwk_check_result m;
    memset(&m, 0, sizeof m);
    m.pass = a->pass && b->pass;
    m.rel_err = bind->rel_err;
    m.tol = bind->tol;
    m.max_abs = a->max_abs > b->max_abs ? a->max_abs : b->max_abs;
    m.n_bad = a->n_bad + b->n_bad;
    m.guard_bad = a->guard_bad + b->guard_bad;
    if (!a->pass || !b->pass)
        snprintf(m.detail, sizeof m.detail, "%s", !a->pass ? a->detail : b->detail);
    else
        snprintf(m.detail, sizeof m.detail, "%.95s; %.95s", a->detail, b->detail);
    *r = m;
}

// After uzwk_compare: demand bit equality of out_bits with ref_bits (n elements of `size` bytes).
void require_exact(const void *out_bits, const void *ref_bits, size_t n, size_t size, const char *what,
                   uzwk_check_result *r) {
    const unsigned char *o = (const unsigned char *)out_bits, *e = (const unsigned char *)ref_bits;
    long bad = 0;
    size_t first = 0;
    for (size_t i = 0; i < n; i++)
        if (memcmp(o + i * size, e + i * size, size) != 0) {
            if (!bad) first = i;
            bad++;
        }
    if (bad) {
        r->pass = 0;
        if (r->n_bad < bad) r->n_bad = bad;
        snprintf(r->detail, sizeof r->detail, "%s: %ld of %zu elements not bit-exact, first [%zu]", what, bad, n, first);
    }
}

double gelu_ref(double v) { return 0.5 * v * (1.0 + erf(v / sqrt(2.0))); }

// y = LayerNorm(x) * w + b in double, eps 1e-5, two-pass statistics.
void ln_ref(const double *x /* [N, D] */, const float *w, const float *b, int N, int D, double *y /* [N, D] */) {
    for (int i = 0; i < N; i++) {
        const double *xr = x + (size_t)i * D;
        double mean = 0, var = 0;
        for (int j = 0; j < D; j++) mean += xr[j];
        mean /= D;
        for (int j = 0; j < D; j++) var += (xr[j] - mean) * (xr[j] - mean);
        var /= D;
        const double rs = 1.0 / sqrt(var + 1e-5);
        for (int j = 0; j < D; j++) y[(size_t)i * D + j] = (xr[j] - mean) * rs * w[j] + b[j];
    }
}

// LayerNorm inputs: each row gets its own offset in [-4, 4] on top of [-2, 2] noise, so a
// statistics formula that loses the centring shows.
void ln_rows(float *x /* [N, D] */, int N, int D, uint64_t *st) {
    for (int i = 0; i < N; i++) {
        const float off = (float)uzwk_rand_uniform(st, -4.0, 4.0);
        uzwk_rand_f32(x + (size_t)i * D, (size_t)D, st, -2.0f, 2.0f);
        for (int j = 0; j < D; j++) x[(size_t)i * D + j] += off;
    }
}

const char *const ln_variants[] = {
    "warp per row, 8 rows per 256-thread block",
    "block per row, 128 threads",
    "block per row, 256 threads",
};
const char *const one_variant[] = {"grid-stride, 256 threads, 16-byte accesses where aligned"};
const char *const gelu_variants[] = {
    "8 halves (16 B) per item; half2 or scalar where F or alignment forbid",
    "half2 per item; scalar where F is odd",
    "scalar",
};

// ---------------------------------------------------------------- layernorm

struct nd_shape {
    int N, D;
};
const char *const ln_shape_names[] = {
    "N=1 D=384",    "N=3 D=512",  "N=1500 D=384", "N=1500 D=768", "N=1500 D=1024",
    "N=1500 D=1280", "N=7 D=67",   "N=5 D=385",    "N=2 D=1",      "N=9 D=3000",
};
const nd_shape ln_shapes[] = {
    {1, 384}, {3, 512}, {1500, 384}, {1500, 768}, {1500, 1024}, {1500, 1280}, {7, 67}, {5, 385}, {2, 1}, {9, 3000},
};
static_assert(COUNT(ln_shape_names) == COUNT(ln_shapes), "layernorm shapes");

int check_layernorm(uzwk_ctx *c, int shape, int variant, uint64_t seed, uzwk_check_result *r) {
    return framed(c, r, "layernorm check", shape, COUNT(ln_shapes), variant, COUNT(ln_variants), [&](mem *m) {
        const int N = ln_shapes[shape].N, D = ln_shapes[shape].D;
        const size_t nd = (size_t)N * D;
        float *hx = (float *)hmalloc(m, nd * sizeof(float));          /* [N, D] */
        float *hw = (float *)hmalloc(m, (size_t)D * sizeof(float));   /* [D] */
        float *hb = (float *)hmalloc(m, (size_t)D * sizeof(float));   /* [D] */
        double *xd = (double *)hmalloc(m, nd * sizeof(double));       /* [N, D] */
        double *ref = (double *)hmalloc(m, nd * sizeof(double));      /* [N, D] */
        uzwk_f16 *yh = (uzwk_f16 *)hmalloc(m, nd * sizeof(uzwk_f16)); /* [N, D] */
        float *yf = (float *)hmalloc(m, nd * sizeof(float));          /* [N, D] */
        if (!hx || !hw || !hb || !xd || !ref || !yh || !yf) return -1;
        uint64_t st = seed;
        ln_rows(hx, N, D, &st);
        uzwk_rand_f32(hw, (size_t)D, &st, 0.5f, 1.5f);
        uzwk_rand_f32(hb, (size_t)D, &st, -0.5f, 0.5f);
        for (size_t i = 0; i < nd; i++) xd[i] = hx[i];
        ln_ref(xd, hw, hb, N, D, ref);

        float *dx = (float *)dmalloc(m, nd * sizeof(float));
        float *dw = (float *)dmalloc(m, (size_t)D * sizeof(float));
        float *db = (float *)dmalloc(m, (size_t)D * sizeof(float));
        uzwk_guarded *gy = gnew(m, nd * sizeof(uzwk_f16));
        if (!dx || !dw || !db || !gy) return -1;
        if (uzwk_h2d(c, dx, hx, nd * sizeof(float)) || uzwk_h2d(c, dw, hw, (size_t)D * sizeof(float)) ||
            uzwk_h2d(c, db, hb, (size_t)D * sizeof(float)))
            return -1;
        if (uzwk_layernorm(c, dx, dw, db, (uzwk_f16 *)gy->p, N, D, variant)) return -1;
        return fetch_compare_f16(c, gy, yh, yf, ref, nd, UZWK_TOL_F16, "layernorm y", r);
    });
}

// ---------------------------------------------------------------- add_layernorm

struct add_shape {
    int N, D;
    bool bias, y;
};
const char *const add_shape_names[] = {
    "N=1500 D=1280",       "N=1 D=384",           "N=3 D=512 no bias",         "N=1500 D=768",
    "N=1500 D=1024",       "N=7 D=67",            "N=5 D=385 no bias",         "N=3 D=1280 add only (y NULL)",
    "N=5 D=67 add only, no bias",
};
const add_shape add_shapes[] = {
    {1500, 1280, true, true}, {1, 384, true, true}, {3, 512, false, true},  {1500, 768, true, true},
    {1500, 1024, true, true}, {7, 67, true, true},  {5, 385, false, true},  {3, 1280, true, false},
    {5, 67, false, false},
};
static_assert(COUNT(add_shape_names) == COUNT(add_shapes), "add_layernorm shapes");

int check_add_layernorm(uzwk_ctx *c, int shape, int variant, uint64_t seed, uzwk_check_result *r) {
    return framed(c, r, "add_layernorm check", shape, COUNT(add_shapes), variant, COUNT(ln_variants), [&](mem *m) {
        const add_shape sh = add_shapes[shape];
        const int N = sh.N, D = sh.D;
        const size_t nd = (size_t)N * D;
        float *hx = (float *)hmalloc(m, nd * sizeof(float));          /* [N, D] */
        float *hr = (float *)hmalloc(m, nd * sizeof(float));          /* [N, D] f16-exact */
        uzwk_f16 *hrh = (uzwk_f16 *)hmalloc(m, nd * sizeof(uzwk_f16)); /* [N, D] */
        float *hbias = (float *)hmalloc(m, (size_t)D * sizeof(float)); /* [D] */
        float *hw = (float *)hmalloc(m, (size_t)D * sizeof(float));    /* [D] */
        float *hb = (float *)hmalloc(m, (size_t)D * sizeof(float));    /* [D] */
        double *xref = (double *)hmalloc(m, nd * sizeof(double));      /* [N, D] */
        double *yref = (double *)hmalloc(m, nd * sizeof(double));      /* [N, D] */
        float *xo = (float *)hmalloc(m, nd * sizeof(float));           /* [N, D] */
        uzwk_f16 *yh = (uzwk_f16 *)hmalloc(m, nd * sizeof(uzwk_f16));  /* [N, D] */
        float *yf = (float *)hmalloc(m, nd * sizeof(float));           /* [N, D] */
        if (!hx || !hr || !hrh || !hbias || !hw || !hb || !xref || !yref || !xo || !yh || !yf) return -1;
        uint64_t st = seed;
        ln_rows(hx, N, D, &st);
        uzwk_rand_f16(hr, hrh, nd, &st, -1.0f, 1.0f);
        uzwk_rand_f32(hbias, (size_t)D, &st, -0.25f, 0.25f);
        uzwk_rand_f32(hw, (size_t)D, &st, 0.5f, 1.5f);
        uzwk_rand_f32(hb, (size_t)D, &st, -0.5f, 0.5f);
        for (int i = 0; i < N; i++)
            for (int j = 0; j < D; j++) {
                const size_t k = (size_t)i * D + j;
                xref[k] = (double)hx[k] + (double)hr[k] + (sh.bias ? (double)hbias[j] : 0.0);
            }
        if (sh.y) ln_ref(xref, hw, hb, N, D, yref);

        uzwk_f16 *dr = (uzwk_f16 *)dmalloc(m, nd * sizeof(uzwk_f16));
        float *dbias = (float *)dmalloc(m, (size_t)D * sizeof(float));
        float *dw = (float *)dmalloc(m, (size_t)D * sizeof(float));
        float *db = (float *)dmalloc(m, (size_t)D * sizeof(float));
        uzwk_guarded *gx = gnew(m, nd * sizeof(float));
        uzwk_guarded *gy = sh.y ? gnew(m, nd * sizeof(uzwk_f16)) : NULL;
        if (!dr || !dbias || !dw || !db || !gx || (sh.y && !gy)) return -1;
        if (uzwk_h2d(c, dr, hrh, nd * sizeof(uzwk_f16)) || uzwk_h2d(c, dbias, hbias, (size_t)D * sizeof(float)) ||
            uzwk_h2d(c, dw, hw, (size_t)D * sizeof(float)) || uzwk_h2d(c, db, hb, (size_t)D * sizeof(float)) ||
            uzwk_guarded_upload(c, gx, hx, nd * sizeof(float)))
            return -1;
        if (uzwk_add_layernorm(c, (float *)gx->p, dr, sh.bias ? dbias : NULL, dw, db, gy ? (uzwk_f16 *)gy->p : NULL,
                               N, D, variant))
            return -1;
        uzwk_check_result rx, ry;
        memset(&rx, 0, sizeof rx);
        memset(&ry, 0, sizeof ry);
        if (fetch_compare_f32(c, gx, xo, xref, nd, UZWK_TOL_F32, "add_layernorm x", &rx)) return -1;
        if (!gy) {
            *r = rx;
            return 0;
        }
        if (fetch_compare_f16(c, gy, yh, yf, yref, nd, UZWK_TOL_F16, "add_layernorm y", &ry)) return -1;
        merge(r, &rx, &ry);
        return 0;
    });
}

// ---------------------------------------------------------------- bias_gelu

struct gelu_shape {
    int N, F;
    bool bias;
};
const char *const gelu_shape_names[] = {
    "N=1500 F=1536", "N=1500 F=2048", "N=1500 F=3072",    "N=1500 F=4096",     "N=1500 F=5120",
    "N=1 F=5120",    "N=3 F=1538",    "N=3 F=1537",       "N=2 F=1540 no bias", "N=1 F=7 no bias",
};
const gelu_shape gelu_shapes[] = {
    {1500, 1536, true}, {1500, 2048, true}, {1500, 3072, true}, {1500, 4096, true},  {1500, 5120, true},
    {1, 5120, true},    {3, 1538, true},    {3, 1537, true},    {2, 1540, false},    {1, 7, false},
};
static_assert(COUNT(gelu_shape_names) == COUNT(gelu_shapes), "bias_gelu shapes");

int check_bias_gelu(uzwk_ctx *c, int shape, int variant, uint64_t seed, uzwk_check_result *r) {
    return framed(c, r, "bias_gelu check", shape, COUNT(gelu_shapes), variant, COUNT(gelu_variants), [&](mem *m) {
        const gelu_shape sh = gelu_shapes[shape];
        const size_t nf = (size_t)sh.N * sh.F;
        float *hy = (float *)hmalloc(m, nf * sizeof(float));            /* [N, F] f16-exact */
        uzwk_f16 *hyh = (uzwk_f16 *)hmalloc(m, nf * sizeof(uzwk_f16));  /* [N, F] */
        float *hbias = (float *)hmalloc(m, (size_t)sh.F * sizeof(float)); /* [F] */
        double *ref = (double *)hmalloc(m, nf * sizeof(double));        /* [N, F] */
        float *out = (float *)hmalloc(m, nf * sizeof(float));           /* [N, F] */
        if (!hy || !hyh || !hbias || !ref || !out) return -1;
        uint64_t st = seed;
        uzwk_rand_f16(hy, hyh, nf, &st, -4.0f, 4.0f);
        uzwk_rand_f32(hbias, (size_t)sh.F, &st, -0.5f, 0.5f);
        for (size_t i = 0; i < nf; i++)
            ref[i] = gelu_ref((double)hy[i] + (sh.bias ? (double)hbias[i % (size_t)sh.F] : 0.0));

        float *dbias = (float *)dmalloc(m, (size_t)sh.F * sizeof(float));
        uzwk_guarded *gy = gnew(m, nf * sizeof(uzwk_f16));
        if (!dbias || !gy) return -1;
        if (uzwk_h2d(c, dbias, hbias, (size_t)sh.F * sizeof(float)) ||
            uzwk_guarded_upload(c, gy, hyh, nf * sizeof(uzwk_f16)))
            return -1;
        if (uzwk_bias_gelu(c, (uzwk_f16 *)gy->p, sh.bias ? dbias : NULL, sh.N, sh.F, variant)) return -1;
        return fetch_compare_f16(c, gy, hyh, out, ref, nf, UZWK_TOL_F16, "bias_gelu y", r);
    });
}

// ---------------------------------------------------------------- embed

struct embed_shape {
    int n, D, V, T;
};
const char *const embed_shape_names[] = {
    "n=1 D=384 V=51865 T=448", "n=4 D=512 V=51865 T=448", "n=448 D=1280 V=1000 T=448",
    "n=5 D=385 V=300 T=448",   "n=3 D=1284 V=300 T=448",  "n=15 D=768 V=2000 T=448",
};
const embed_shape embed_shapes[] = {
    {1, 384, 51865, 448}, {4, 512, 51865, 448}, {448, 1280, 1000, 448},
    {5, 385, 300, 448},   {3, 1284, 300, 448},  {15, 768, 2000, 448},
};
static_assert(COUNT(embed_shape_names) == COUNT(embed_shapes), "embed shapes");

int check_embed(uzwk_ctx *c, int shape, int variant, uint64_t seed, uzwk_check_result *r) {
    return framed(c, r, "embed check", shape, COUNT(embed_shapes), variant, 1, [&](mem *m) {
        const embed_shape sh = embed_shapes[shape];
        const size_t nD = (size_t)sh.n * sh.D, vD = (size_t)sh.V * sh.D, tD = (size_t)sh.T * sh.D;
        int32_t *tok = (int32_t *)hmalloc(m, (size_t)sh.n * sizeof(int32_t)); /* [n] */
        int32_t *pos = (int32_t *)hmalloc(m, (size_t)sh.n * sizeof(int32_t)); /* [n] */
        float *te = (float *)hmalloc(m, vD * sizeof(float));                  /* [V, D] f16-exact */
        uzwk_f16 *teh = (uzwk_f16 *)hmalloc(m, vD * sizeof(uzwk_f16));        /* [V, D] */
        float *pe = (float *)hmalloc(m, tD * sizeof(float));                  /* [T, D] */
        uzwk_f16 *peh = (uzwk_f16 *)hmalloc(m, tD * sizeof(uzwk_f16));        /* [T, D] */
        double *ref = (double *)hmalloc(m, nD * sizeof(double));              /* [n, D] */
        float *out = (float *)hmalloc(m, nD * sizeof(float));                 /* [n, D] */
        if (!tok || !pos || !te || !teh || !pe || !peh || !ref || !out) return -1;
        uint64_t st = seed;
        uzwk_rand_f16(te, teh, vD, &st, -1.0f, 1.0f);
        uzwk_rand_f16(pe, peh, tD, &st, -1.0f, 1.0f);
        for (int i = 0; i < sh.n; i++) {
            tok[i] = (int32_t)uzwk_rand_uniform(&st, 0.0, (double)sh.V);
            pos[i] = (int32_t)uzwk_rand_uniform(&st, 0.0, (double)sh.T);
            if (tok[i] >= sh.V) tok[i] = sh.V - 1;
            if (pos[i] >= sh.T) pos[i] = sh.T - 1;
        }
        for (int i = 0; i < sh.n; i++)
            for (int j = 0; j < sh.D; j++)
                ref[(size_t)i * sh.D + j] =
                    (double)te[(size_t)tok[i] * sh.D + j] + (double)pe[(size_t)pos[i] * sh.D + j];

        int32_t *dtok = (int32_t *)dmalloc(m, (size_t)sh.n * sizeof(int32_t));
        int32_t *dpos = (int32_t *)dmalloc(m, (size_t)sh.n * sizeof(int32_t));
        uzwk_f16 *dte = (uzwk_f16 *)dmalloc(m, vD * sizeof(uzwk_f16));
        uzwk_f16 *dpe = (uzwk_f16 *)dmalloc(m, tD * sizeof(uzwk_f16));
        uzwk_guarded *gx = gnew(m, nD * sizeof(float));
        if (!dtok || !dpos || !dte || !dpe || !gx) return -1;
        if (uzwk_h2d(c, dtok, tok, (size_t)sh.n * sizeof(int32_t)) ||
            uzwk_h2d(c, dpos, pos, (size_t)sh.n * sizeof(int32_t)) || uzwk_h2d(c, dte, teh, vD * sizeof(uzwk_f16)) ||
            uzwk_h2d(c, dpe, peh, tD * sizeof(uzwk_f16)))
            return -1;
        if (uzwk_embed(c, dtok, dpos, dte, dpe, (float *)gx->p, sh.n, sh.D)) return -1;
        return fetch_compare_f32(c, gx, out, ref, nD, UZWK_TOL_F32, "embed x", r);
    });
}

// ---------------------------------------------------------------- embed_i8

// The INT8 token table: q in [-127, 127], one scale per row in [1e-3, 2e-2) (the range of real
// Whisper embeddings' max|w| / 127), f16 positions. The reference is the CPU rule in correctly
// rounded f32 steps, computed through double: q * scale is exact in double and rounds once to f32;
// the f32 + f32 sum computed in double and rounded to f32 is the correctly rounded f32 sum (53 >=
// 2 * 24 + 2), so the kernel must match it bit for bit.
int check_embed_i8(uzwk_ctx *c, int shape, int variant, uint64_t seed, uzwk_check_result *r) {
    return framed(c, r, "embed_i8 check", shape, COUNT(embed_shapes), variant, 1, [&](mem *m) {
        const embed_shape sh = embed_shapes[shape];
        const size_t nD = (size_t)sh.n * sh.D, vD = (size_t)sh.V * sh.D, tD = (size_t)sh.T * sh.D;
        int32_t *tok = (int32_t *)hmalloc(m, (size_t)sh.n * sizeof(int32_t)); /* [n] */
        int32_t *pos = (int32_t *)hmalloc(m, (size_t)sh.n * sizeof(int32_t)); /* [n] */
        int8_t *tq = (int8_t *)hmalloc(m, vD);                                /* [V, D] */
        float *ts = (float *)hmalloc(m, (size_t)sh.V * sizeof(float));        /* [V] */
        float *pe = (float *)hmalloc(m, tD * sizeof(float));                  /* [T, D] f16-exact */
        uzwk_f16 *peh = (uzwk_f16 *)hmalloc(m, tD * sizeof(uzwk_f16));        /* [T, D] */
        float *want = (float *)hmalloc(m, nD * sizeof(float));                /* [n, D] */
        double *ref = (double *)hmalloc(m, nD * sizeof(double));              /* [n, D] */
        float *out = (float *)hmalloc(m, nD * sizeof(float));                 /* [n, D] */
        if (!tok || !pos || !tq || !ts || !pe || !peh || !want || !ref || !out) return -1;
        uint64_t st = seed;
        for (size_t i = 0; i < vD; i++) {
            int v = (int)floor(uzwk_rand_uniform(&st, -127.0, 128.0));
            tq[i] = (int8_t)(v < -127 ? -127 : v > 127 ? 127 : v);
        }
        uzwk_rand_f32(ts, (size_t)sh.V, &st, 1e-3f, 2e-2f);
        uzwk_rand_f16(pe, peh, tD, &st, -1.0f, 1.0f);
        for (int i = 0; i < sh.n; i++) {
            tok[i] = (int32_t)uzwk_rand_uniform(&st, 0.0, (double)sh.V);
            pos[i] = (int32_t)uzwk_rand_uniform(&st, 0.0, (double)sh.T);
            if (tok[i] >= sh.V) tok[i] = sh.V - 1;
            if (pos[i] >= sh.T) pos[i] = sh.T - 1;
        }
        for (int i = 0; i < sh.n; i++)
            for (int j = 0; j < sh.D; j++) {
                const float w = (float)((double)tq[(size_t)tok[i] * sh.D + j] * (double)ts[tok[i]]);
                const float v = (float)((double)w + (double)pe[(size_t)pos[i] * sh.D + j]);
                want[(size_t)i * sh.D + j] = v;
                ref[(size_t)i * sh.D + j] = v;
            }

        int32_t *dtok = (int32_t *)dmalloc(m, (size_t)sh.n * sizeof(int32_t));
        int32_t *dpos = (int32_t *)dmalloc(m, (size_t)sh.n * sizeof(int32_t));
        int8_t *dtq = (int8_t *)dmalloc(m, vD);
        float *dts = (float *)dmalloc(m, (size_t)sh.V * sizeof(float));
        uzwk_f16 *dpe = (uzwk_f16 *)dmalloc(m, tD * sizeof(uzwk_f16));
        uzwk_guarded *gx = gnew(m, nD * sizeof(float));
        if (!dtok || !dpos || !dtq || !dts || !dpe || !gx) return -1;
        if (uzwk_h2d(c, dtok, tok, (size_t)sh.n * sizeof(int32_t)) ||
            uzwk_h2d(c, dpos, pos, (size_t)sh.n * sizeof(int32_t)) || uzwk_h2d(c, dtq, tq, vD) ||
            uzwk_h2d(c, dts, ts, (size_t)sh.V * sizeof(float)) || uzwk_h2d(c, dpe, peh, tD * sizeof(uzwk_f16)))
            return -1;
        if (uzwk_embed_i8(c, dtok, dpos, dtq, dts, dpe, (float *)gx->p, sh.n, sh.D)) return -1;
        if (fetch_compare_f32(c, gx, out, ref, nD, UZWK_TOL_F32, "embed_i8 x", r)) return -1;
        require_exact(out, want, nD, sizeof(float), "embed_i8 x", r);
        return 0;
    });
}

// ---------------------------------------------------------------- add_pos

const char *const pos_shape_names[] = {"N=1500 D=384", "N=1500 D=1280", "N=1 D=384", "N=3 D=67", "N=5 D=385"};
const nd_shape pos_shapes[] = {{1500, 384}, {1500, 1280}, {1, 384}, {3, 67}, {5, 385}};
static_assert(COUNT(pos_shape_names) == COUNT(pos_shapes), "add_pos shapes");

int check_add_pos(uzwk_ctx *c, int shape, int variant, uint64_t seed, uzwk_check_result *r) {
    return framed(c, r, "add_pos check", shape, COUNT(pos_shapes), variant, 1, [&](mem *m) {
        const int N = pos_shapes[shape].N, D = pos_shapes[shape].D;
        const size_t nd = (size_t)N * D;
        float *h = (float *)hmalloc(m, nd * sizeof(float));          /* [N, D] f16-exact */
        uzwk_f16 *hh = (uzwk_f16 *)hmalloc(m, nd * sizeof(uzwk_f16)); /* [N, D] */
        float *p = (float *)hmalloc(m, nd * sizeof(float));          /* [N, D] */
        double *ref = (double *)hmalloc(m, nd * sizeof(double));     /* [N, D] */
        float *out = (float *)hmalloc(m, nd * sizeof(float));        /* [N, D] */
        if (!h || !hh || !p || !ref || !out) return -1;
        uint64_t st = seed;
        uzwk_rand_f16(h, hh, nd, &st, -3.0f, 3.0f);
        uzwk_rand_f32(p, nd, &st, -1.0f, 1.0f);
        for (size_t i = 0; i < nd; i++) ref[i] = (double)h[i] + (double)p[i];

        uzwk_f16 *dh = (uzwk_f16 *)dmalloc(m, nd * sizeof(uzwk_f16));
        float *dp = (float *)dmalloc(m, nd * sizeof(float));
        uzwk_guarded *gx = gnew(m, nd * sizeof(float));
        if (!dh || !dp || !gx) return -1;
        if (uzwk_h2d(c, dh, hh, nd * sizeof(uzwk_f16)) || uzwk_h2d(c, dp, p, nd * sizeof(float))) return -1;
        if (uzwk_add_pos(c, dh, dp, (float *)gx->p, N, D)) return -1;
        return fetch_compare_f32(c, gx, out, ref, nd, UZWK_TOL_F32, "add_pos x", r);
    });
}

// ---------------------------------------------------------------- conversions

// n elements; the input pointer offset by `skew` elements from a 256-byte boundary (a skew makes
// the kernel take its scalar path).
struct conv_shape {
    size_t n;
    int skew;
};
const char *const conv_shape_names[] = {"n=1", "n=7", "n=1001", "n=1920000 (1500 x 1280)", "n=1001 input offset 1"};
const conv_shape conv_shapes[] = {{1, 0}, {7, 0}, {1001, 0}, {1920000, 0}, {1001, 1}};
static_assert(COUNT(conv_shape_names) == COUNT(conv_shapes), "conversion shapes");

int check_f32_to_f16(uzwk_ctx *c, int shape, int variant, uint64_t seed, uzwk_check_result *r) {
    return framed(c, r, "f32_to_f16 check", shape, COUNT(conv_shapes), variant, 1, [&](mem *m) {
        const size_t n = conv_shapes[shape].n, skew = (size_t)conv_shapes[shape].skew;
        float *x = (float *)hmalloc(m, n * sizeof(float));             /* [n] */
        uzwk_f16 *want = (uzwk_f16 *)hmalloc(m, n * sizeof(uzwk_f16)); /* [n] */
        uzwk_f16 *got = (uzwk_f16 *)hmalloc(m, n * sizeof(uzwk_f16));  /* [n] */
        double *ref = (double *)hmalloc(m, n * sizeof(double));        /* [n] */
        float *out = (float *)hmalloc(m, n * sizeof(float));           /* [n] */
        if (!x || !want || !got || !ref || !out) return -1;
        uint64_t st = seed;
        // magnitudes 2^-27 .. 2^15: f16 normals, subnormals, underflow to zero, never overflow
        for (size_t i = 0; i < n; i++) {
            const double mant = uzwk_rand_uniform(&st, 1.0, 2.0), e = floor(uzwk_rand_uniform(&st, -27.0, 15.0));
            const double sgn = uzwk_rand_uniform(&st, 0.0, 1.0) < 0.5 ? -1.0 : 1.0;
            x[i] = (float)(sgn * ldexp(mant, (int)e));
            want[i] = uzwk_f32_to_f16_host(x[i]);
            ref[i] = x[i];
        }
        float *dx = (float *)dmalloc(m, (n + skew) * sizeof(float));
        uzwk_guarded *gy = gnew(m, n * sizeof(uzwk_f16));
        if (!dx || !gy) return -1;
        if (uzwk_h2d(c, dx + skew, x, n * sizeof(float))) return -1;
        if (uzwk_f32_to_f16(c, dx + skew, (uzwk_f16 *)gy->p, n)) return -1;
        if (fetch_compare_f16(c, gy, got, out, ref, n, UZWK_TOL_F16, "f32_to_f16 y", r)) return -1;
        require_exact(got, want, n, sizeof(uzwk_f16), "f32_to_f16 y", r);
        return 0;
    });
}

int check_f16_to_f32(uzwk_ctx *c, int shape, int variant, uint64_t seed, uzwk_check_result *r) {
    return framed(c, r, "f16_to_f32 check", shape, COUNT(conv_shapes), variant, 1, [&](mem *m) {
        const size_t n = conv_shapes[shape].n, skew = (size_t)conv_shapes[shape].skew;
        uzwk_f16 *x = (uzwk_f16 *)hmalloc(m, n * sizeof(uzwk_f16)); /* [n] */
        float *want = (float *)hmalloc(m, n * sizeof(float));       /* [n] */
        double *ref = (double *)hmalloc(m, n * sizeof(double));     /* [n] */
        float *out = (float *)hmalloc(m, n * sizeof(float));        /* [n] */
        if (!x || !want || !ref || !out) return -1;
        uint64_t st = seed;
        // every finite bit pattern is fair: normals, subnormals, both zeros
        for (size_t i = 0; i < n; i++) {
            uzwk_f16 b = (uzwk_f16)(uint32_t)uzwk_rand_uniform(&st, 0.0, 65536.0);
            if (((b >> 10) & 31) == 31) b = (uzwk_f16)(b & ~0x4000u); // Inf/NaN exponent -> a finite one
            x[i] = b;
            want[i] = uzwk_f16_to_f32_host(b);
            ref[i] = want[i];
        }
        uzwk_f16 *dx = (uzwk_f16 *)dmalloc(m, (n + skew) * sizeof(uzwk_f16));
        uzwk_guarded *gy = gnew(m, n * sizeof(float));
        if (!dx || !gy) return -1;
        if (uzwk_h2d(c, dx + skew, x, n * sizeof(uzwk_f16))) return -1;
        if (uzwk_f16_to_f32(c, dx + skew, (float *)gy->p, n)) return -1;
        if (fetch_compare_f32(c, gy, out, ref, n, UZWK_TOL_F32, "f16_to_f32 y", r)) return -1;
        require_exact(out, want, n, sizeof(float), "f16_to_f32 y", r);
        return 0;
    });
}

// ---------------------------------------------------------------- uniform fills

// The host twin of elem.cu's fill_unit: the i-th splitmix64 output of seed, mapped to [-1, 1).
float fill_unit_host(uint64_t seed, size_t i) {
    uint64_t z = seed + (uint64_t)(i + 1) * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    const float u = (float)(uint32_t)(z >> 40) * (1.0f / 16777216.0f);
    return 2.0f * u - 1.0f;
}

const char *const fill_shape_names[] = {"n=1", "n=1001", "n=1920000 (1500 x 1280)"};
const size_t fill_shapes[] = {1, 1001, 1920000};
static_assert(COUNT(fill_shape_names) == COUNT(fill_shapes), "fill shapes");

// The three fills (f32 with an offset, f16, int8), bit for bit against the host twin, and inside
// their range (int8: never -128).
int check_fill_uniform(uzwk_ctx *c, int shape, int variant, uint64_t seed, uzwk_check_result *r) {
    return framed(c, r, "fill_uniform check", shape, COUNT(fill_shapes), variant, 1, [&](mem *m) {
        const size_t n = fill_shapes[shape];
        const float scale32 = 0.37f, offset32 = 0.25f, scale16 = 1.5f;
        float *want32 = (float *)hmalloc(m, n * sizeof(float));           /* [n] */
        uzwk_f16 *want16 = (uzwk_f16 *)hmalloc(m, n * sizeof(uzwk_f16));  /* [n] */
        float *got32 = (float *)hmalloc(m, n * sizeof(float));            /* [n] */
        uzwk_f16 *got16 = (uzwk_f16 *)hmalloc(m, n * sizeof(uzwk_f16));   /* [n] */
        float *got16f = (float *)hmalloc(m, n * sizeof(float));           /* [n] */
        double *ref32 = (double *)hmalloc(m, n * sizeof(double));         /* [n] */
        double *ref16 = (double *)hmalloc(m, n * sizeof(double));         /* [n] */
        if (!want32 || !want16 || !got32 || !got16 || !got16f || !ref32 || !ref16) return -1;
        for (size_t i = 0; i < n; i++) {
            const float u = fill_unit_host(seed, i);
            want32[i] = fmaf(u, scale32, offset32);
            want16[i] = uzwk_f32_to_f16_host(u * scale16);
            ref32[i] = want32[i];
            ref16[i] = uzwk_f16_to_f32_host(want16[i]);
        }
        int8_t *want8 = (int8_t *)hmalloc(m, n);                          /* [n] */
        int8_t *got8 = (int8_t *)hmalloc(m, n);                           /* [n] */
        float *got8f = (float *)hmalloc(m, n * sizeof(float));            /* [n] */
        double *ref8 = (double *)hmalloc(m, n * sizeof(double));          /* [n] */
        if (!want8 || !got8 || !got8f || !ref8) return -1;
        for (size_t i = 0; i < n; i++) {
            want8[i] = (int8_t)lrintf(fill_unit_host(seed, i) * 127.0f); // nearest, ties to even
            ref8[i] = want8[i];
        }
        uzwk_guarded *g32 = gnew(m, n * sizeof(float));
        uzwk_guarded *g16 = gnew(m, n * sizeof(uzwk_f16));
        uzwk_guarded *g8 = gnew(m, n);
        if (!g32 || !g16 || !g8) return -1;
        if (uzwk_fill_uniform_f32(c, (float *)g32->p, n, seed, scale32, offset32) ||
            uzwk_fill_uniform_f16(c, (uzwk_f16 *)g16->p, n, seed, scale16) ||
            uzwk_fill_uniform_i8(c, (int8_t *)g8->p, n, seed))
            return -1;
        uzwk_check_result r32, r16, r8, r2;
        memset(&r32, 0, sizeof r32);
        memset(&r16, 0, sizeof r16);
        memset(&r8, 0, sizeof r8);
        if (fetch_compare_f32(c, g32, got32, ref32, n, UZWK_TOL_F32, "fill f32", &r32) ||
            fetch_compare_f16(c, g16, got16, got16f, ref16, n, UZWK_TOL_F16, "fill f16", &r16) ||
            uzwk_guarded_fetch(c, g8, got8, &r8.guard_bad))
            return -1;
        for (size_t i = 0; i < n; i++) got8f[i] = got8[i];
        uzwk_compare(got8f, ref8, n, UZWK_TOL_F32, "fill i8", &r8);
        require_exact(got32, want32, n, sizeof(float), "fill f32", &r32);
        require_exact(got16, want16, n, sizeof(uzwk_f16), "fill f16", &r16);
        require_exact(got8, want8, n, 1, "fill i8", &r8);
        long out_of_range = 0;
        for (size_t i = 0; i < n; i++)
            out_of_range += !(fabsf(got32[i] - offset32) <= scale32 * 1.000001f) || !(fabsf(got16f[i]) <= scale16) ||
                            got8[i] < -127;
        merge(&r2, &r32, &r16);
        merge(r, &r2, &r8);
        if (out_of_range) {
            r->pass = 0;
            r->n_bad += out_of_range;
            snprintf(r->detail, sizeof r->detail, "fill: %ld values outside [-scale, scale] (+offset) or -128",
                     out_of_range);
        }
        return 0;
    });
}

// ---------------------------------------------------------------- benchmarks

enum bench_op { B_LN, B_ADD_LN, B_GELU, B_EMBED, B_EMBED_I8, B_POS, B_F32_F16, B_F16_F32, B_FILL };

struct bench_arg {
    int op, variant;
    int N, D;            /* rows and width (F for GELU) */
    size_t n;            /* element count (conversions, fills) */
    void *p[7];          /* the op's device buffers, in its launch function's order */
};

int bench_run(uzwk_ctx *c, void *arg) {
    const bench_arg *a = (const bench_arg *)arg;
    void *const *p = a->p;
    switch (a->op) {
    case B_LN:
        return uzwk_layernorm(c, (const float *)p[0], (const float *)p[1], (const float *)p[2], (uzwk_f16 *)p[3], a->N,
                              a->D, a->variant);
    case B_ADD_LN:
        return uzwk_add_layernorm(c, (float *)p[0], (const uzwk_f16 *)p[1], (const float *)p[2], (const float *)p[3],
                                  (const float *)p[4], (uzwk_f16 *)p[5], a->N, a->D, a->variant);
    case B_GELU: return uzwk_bias_gelu(c, (uzwk_f16 *)p[0], (const float *)p[1], a->N, a->D, a->variant);
    case B_EMBED:
        return uzwk_embed(c, (const int32_t *)p[0], (const int32_t *)p[1], (const uzwk_f16 *)p[2],
                          (const uzwk_f16 *)p[3], (float *)p[4], a->N, a->D);
    case B_EMBED_I8:
        return uzwk_embed_i8(c, (const int32_t *)p[0], (const int32_t *)p[1], (const int8_t *)p[2],
                             (const float *)p[3], (const uzwk_f16 *)p[4], (float *)p[5], a->N, a->D);
    case B_POS: return uzwk_add_pos(c, (const uzwk_f16 *)p[0], (const float *)p[1], (float *)p[2], a->N, a->D);
    case B_F32_F16: return uzwk_f32_to_f16(c, (const float *)p[0], (uzwk_f16 *)p[1], a->n);
    case B_F16_F32: return uzwk_f16_to_f32(c, (const uzwk_f16 *)p[0], (float *)p[1], a->n);
    case B_FILL:
        if (uzwk_fill_uniform_f32(c, (float *)p[0], a->n, 7, 1.0f, 0.0f)) return -1;
        if (uzwk_fill_uniform_f16(c, (uzwk_f16 *)p[1], a->n, 7, 1.0f)) return -1;
        return uzwk_fill_uniform_i8(c, (int8_t *)p[2], a->n, 7);
    }
    return uzwk_fail(c, "elem bench: unknown op %d", a->op);
}

// Device buffers for a bench: f32 or f16, filled with uniform values in [-scale, scale].
void *bench_f32(mem *m, size_t n, uint64_t seed, float scale, float offset) {
    float *p = (float *)dmalloc(m, n * sizeof(float));
    if (p && uzwk_fill_uniform_f32(m->c, p, n, seed, scale, offset)) return NULL;
    return p;
}
void *bench_f16(mem *m, size_t n, uint64_t seed, float scale) {
    uzwk_f16 *p = (uzwk_f16 *)dmalloc(m, n * sizeof(uzwk_f16));
    if (p && uzwk_fill_uniform_f16(m->c, p, n, seed, scale)) return NULL;
    return p;
}

// Time a (its buffers allocated and filled by the caller); fill r. bytes: inputs read once + outputs written once.
int bench_finish(uzwk_ctx *c, bench_arg *a, int reps, double bytes, double flops, uzwk_bench_result *r) {
    if (uzwk_time_median(c, bench_run, a, reps, &r->ms)) return -1;
    r->bytes = bytes;
    r->flops = flops;
    r->peer_ms = 0.0;
    r->peer[0] = '\0';
    return 0;
}

// The arguments of one bench launch, device buffers still to be set.
bench_arg bench_args(int op, int variant, int N, int D, size_t n) {
    bench_arg a;
    memset(&a, 0, sizeof a);
    a.op = op, a.variant = variant, a.N = N, a.D = D, a.n = n;
    return a;
}

int bench_layernorm(uzwk_ctx *c, int shape, int variant, int reps, uzwk_bench_result *r) {
    return framed(c, r, "layernorm bench", shape, COUNT(ln_shapes), variant, COUNT(ln_variants), [&](mem *m) {
        const int N = ln_shapes[shape].N, D = ln_shapes[shape].D;
        const double nd = (double)N * D;
        bench_arg a = bench_args(B_LN, variant, N, D, 0);
        a.p[0] = bench_f32(m, (size_t)N * D, 1, 2.0f, 1.0f);
        a.p[1] = bench_f32(m, (size_t)D, 2, 0.5f, 1.0f);
        a.p[2] = bench_f32(m, (size_t)D, 3, 0.5f, 0.0f);
        a.p[3] = dmalloc(m, (size_t)N * D * sizeof(uzwk_f16));
        if (!a.p[0] || !a.p[1] || !a.p[2] || !a.p[3]) return -1;
        return bench_finish(c, &a, reps, nd * 4 + 2.0 * D * 4 + nd * 2, 8.0 * nd, r); // ~8 flops per element
    });
}

int bench_add_layernorm(uzwk_ctx *c, int shape, int variant, int reps, uzwk_bench_result *r) {
    return framed(c, r, "add_layernorm bench", shape, COUNT(add_shapes), variant, COUNT(ln_variants), [&](mem *m) {
        const add_shape sh = add_shapes[shape];
        const double nd = (double)sh.N * sh.D;
        bench_arg a = bench_args(B_ADD_LN, variant, sh.N, sh.D, 0);
        a.p[0] = bench_f32(m, (size_t)sh.N * sh.D, 1, 2.0f, 0.0f);
        a.p[1] = bench_f16(m, (size_t)sh.N * sh.D, 2, 0.01f); // small, so x stays bounded over the reps
        a.p[2] = sh.bias ? bench_f32(m, (size_t)sh.D, 3, 0.001f, 0.0f) : NULL;
        a.p[3] = bench_f32(m, (size_t)sh.D, 4, 0.5f, 1.0f);
        a.p[4] = bench_f32(m, (size_t)sh.D, 5, 0.5f, 0.0f);
        a.p[5] = sh.y ? dmalloc(m, (size_t)sh.N * sh.D * sizeof(uzwk_f16)) : NULL;
        if (!a.p[0] || !a.p[1] || (sh.bias && !a.p[2]) || !a.p[3] || !a.p[4] || (sh.y && !a.p[5])) return -1;
        // x read and written, r read, bias; with y: w, b read, y written
        const double bytes = nd * (4 + 4 + 2) + (sh.bias ? sh.D * 4.0 : 0) + (sh.y ? 2.0 * sh.D * 4 + nd * 2 : 0);
        return bench_finish(c, &a, reps, bytes, (sh.y ? 10.0 : 2.0) * nd, r);
    });
}

int bench_bias_gelu(uzwk_ctx *c, int shape, int variant, int reps, uzwk_bench_result *r) {
    return framed(c, r, "bias_gelu bench", shape, COUNT(gelu_shapes), variant, COUNT(gelu_variants), [&](mem *m) {
        const gelu_shape sh = gelu_shapes[shape];
        const double nf = (double)sh.N * sh.F;
        bench_arg a = bench_args(B_GELU, variant, sh.N, sh.F, 0);
        a.p[0] = bench_f16(m, (size_t)sh.N * sh.F, 1, 3.0f);
        // a bias of either sign: repeated in-place GELU stays finite (bounded below, +|bias| per rep above)
        a.p[1] = sh.bias ? bench_f32(m, (size_t)sh.F, 2, 0.01f, 0.0f) : NULL;
        if (!a.p[0] || (sh.bias && !a.p[1])) return -1;
        return bench_finish(c, &a, reps, nf * 4 + (sh.bias ? sh.F * 4.0 : 0), 20.0 * nf, r); // erf counted as ~15
    });
}

/* The token and position ids of the embed benchmarks, on the device in a.p[0] and a.p[1]. 0 or -1. */
static int bench_embed_ids(uzwk_ctx *c, mem *m, const embed_shape &sh, bench_arg *a) {
    int32_t *ids = (int32_t *)hmalloc(m, 2 * (size_t)sh.n * sizeof(int32_t)); /* [2, n] tokens, positions */
    if (!ids) return -1;
    for (int i = 0; i < sh.n; i++) {
        ids[i] = (int32_t)(((uint64_t)i * 7919u) % (uint64_t)sh.V);
        ids[sh.n + i] = i % sh.T;
    }
    a->p[0] = dmalloc(m, (size_t)sh.n * sizeof(int32_t));
    a->p[1] = dmalloc(m, (size_t)sh.n * sizeof(int32_t));
    if (!a->p[0] || !a->p[1]) return -1;
    return uzwk_h2d(c, a->p[0], ids, (size_t)sh.n * sizeof(int32_t)) ||
                   uzwk_h2d(c, a->p[1], ids + sh.n, (size_t)sh.n * sizeof(int32_t))
               ? -1
               : 0;
}

int bench_embed(uzwk_ctx *c, int shape, int variant, int reps, uzwk_bench_result *r) {
    return framed(c, r, "embed bench", shape, COUNT(embed_shapes), variant, 1, [&](mem *m) {
        const embed_shape sh = embed_shapes[shape];
        bench_arg a = bench_args(B_EMBED, 0, sh.n, sh.D, 0);
        if (bench_embed_ids(c, m, sh, &a)) return -1;
        a.p[2] = bench_f16(m, (size_t)sh.V * sh.D, 1, 1.0f);
        a.p[3] = bench_f16(m, (size_t)sh.T * sh.D, 2, 1.0f);
        a.p[4] = dmalloc(m, (size_t)sh.n * sh.D * sizeof(float));
        if (!a.p[2] || !a.p[3] || !a.p[4]) return -1;
        const double nD = (double)sh.n * sh.D;
        return bench_finish(c, &a, reps, nD * (2 + 2 + 4) + sh.n * 8.0, nD, r);
    });
}

int bench_embed_i8(uzwk_ctx *c, int shape, int variant, int reps, uzwk_bench_result *r) {
    return framed(c, r, "embed_i8 bench", shape, COUNT(embed_shapes), variant, 1, [&](mem *m) {
        const embed_shape sh = embed_shapes[shape];
        bench_arg a = bench_args(B_EMBED_I8, 0, sh.n, sh.D, 0);
        if (bench_embed_ids(c, m, sh, &a)) return -1;
        a.p[2] = dmalloc(m, (size_t)sh.V * sh.D);
        a.p[3] = bench_f32(m, (size_t)sh.V, 3, 0.005f, 0.01f);
        a.p[4] = bench_f16(m, (size_t)sh.T * sh.D, 2, 1.0f);
        a.p[5] = dmalloc(m, (size_t)sh.n * sh.D * sizeof(float));
        if (!a.p[2] || !a.p[3] || !a.p[4] || !a.p[5]) return -1;
        if (uzwk_fill_uniform_i8(c, (int8_t *)a.p[2], (size_t)sh.V * sh.D, 1)) return -1;
        const double nD = (double)sh.n * sh.D;
        // int8 row, f16 position, f32 out per element; ids and one scale per row
        return bench_finish(c, &a, reps, nD * (1 + 2 + 4) + sh.n * 12.0, 2 * nD, r);
    });
}

int bench_add_pos(uzwk_ctx *c, int shape, int variant, int reps, uzwk_bench_result *r) {
    return framed(c, r, "add_pos bench", shape, COUNT(pos_shapes), variant, 1, [&](mem *m) {
        const int N = pos_shapes[shape].N, D = pos_shapes[shape].D;
        const double nd = (double)N * D;
        bench_arg a = bench_args(B_POS, 0, N, D, 0);
        a.p[0] = bench_f16(m, (size_t)N * D, 1, 3.0f);
        a.p[1] = bench_f32(m, (size_t)N * D, 2, 1.0f, 0.0f);
        a.p[2] = dmalloc(m, (size_t)N * D * sizeof(float));
        if (!a.p[0] || !a.p[1] || !a.p[2]) return -1;
        return bench_finish(c, &a, reps, nd * (2 + 4 + 4), nd, r);
    });
}

int bench_conv(uzwk_ctx *c, int op, int shape, int variant, int reps, uzwk_bench_result *r) {
    return framed(c, r, "conversion bench", shape, COUNT(conv_shapes), variant, 1, [&](mem *m) {
        const size_t n = conv_shapes[shape].n, skew = (size_t)conv_shapes[shape].skew;
        bench_arg a = bench_args(op, 0, 0, 0, n);
        if (op == B_F32_F16) {
            float *x = (float *)bench_f32(m, n + skew, 1, 100.0f, 0.0f);
            a.p[0] = x ? x + skew : NULL;
            a.p[1] = dmalloc(m, n * sizeof(uzwk_f16));
        } else {
            uzwk_f16 *x = (uzwk_f16 *)bench_f16(m, n + skew, 1, 100.0f);
            a.p[0] = x ? x + skew : NULL;
            a.p[1] = dmalloc(m, n * sizeof(float));
        }
        if (!a.p[0] || !a.p[1]) return -1;
        return bench_finish(c, &a, reps, (double)n * 6, 0.0, r);
    });
}
int bench_f32_to_f16(uzwk_ctx *c, int shape, int variant, int reps, uzwk_bench_result *r) {
    return bench_conv(c, B_F32_F16, shape, variant, reps, r);
}
int bench_f16_to_f32(uzwk_ctx *c, int shape, int variant, int reps, uzwk_bench_result *r) {
    return bench_conv(c, B_F16_F32, shape, variant, reps, r);
}

// One timed call fills n f32, n f16 and n int8 values.
int bench_fill_uniform(uzwk_ctx *c, int shape, int variant, int reps, uzwk_bench_result *r) {
    return framed(c, r, "fill_uniform bench", shape, COUNT(fill_shapes), variant, 1, [&](mem *m) {
        const size_t n = fill_shapes[shape];
        bench_arg a = bench_args(B_FILL, 0, 0, 0, n);
        a.p[0] = dmalloc(m, n * sizeof(float));
        a.p[1] = dmalloc(m, n * sizeof(uzwk_f16));
        a.p[2] = dmalloc(m, n);
        if (!a.p[0] || !a.p[1] || !a.p[2]) return -1;
        return bench_finish(c, &a, reps, (double)n * 7, (double)n * 5, r);
    });
}

} // namespace

extern "C" const uzwk_op uzwk_ops_elem[] = {
    {"layernorm", "elem", "f32 in, f16 out", COUNT(ln_shapes), ln_shape_names, COUNT(ln_variants), ln_variants,
     check_layernorm, bench_layernorm},
    {"add_layernorm", "elem", "f32 + f16 in, f32 x and f16 y out", COUNT(add_shapes), add_shape_names,
     COUNT(ln_variants), ln_variants, check_add_layernorm, bench_add_layernorm},
    {"bias_gelu", "elem", "f16 in place, f32 bias", COUNT(gelu_shapes), gelu_shape_names, COUNT(gelu_variants),
     gelu_variants, check_bias_gelu, bench_bias_gelu},
    {"embed", "elem", "f16 tables, f32 out", COUNT(embed_shapes), embed_shape_names, 1, one_variant, check_embed,
     bench_embed},
    {"embed_i8", "elem", "int8 + f32 scale token table, f16 positions, f32 out", COUNT(embed_shapes),
     embed_shape_names, 1, one_variant, check_embed_i8, bench_embed_i8},
    {"add_pos", "elem", "f16 + f32 in, f32 out", COUNT(pos_shapes), pos_shape_names, 1, one_variant, check_add_pos,
     bench_add_pos},
    {"f32_to_f16", "elem", "f32 in, f16 out", COUNT(conv_shapes), conv_shape_names, 1, one_variant, check_f32_to_f16,
     bench_f32_to_f16},
    {"f16_to_f32", "elem", "f16 in, f32 out", COUNT(conv_shapes), conv_shape_names, 1, one_variant, check_f16_to_f32,
     bench_f16_to_f32},
    {"fill_uniform", "elem", "f32, f16 and int8 out", COUNT(fill_shapes), fill_shape_names, 1, one_variant,
     check_fill_uniform, bench_fill_uniform},
};
extern "C" const int uzwk_n_ops_elem = COUNT(uzwk_ops_elem);
