// check_gemm.cu - registry entries of the matrix-product family (k_gemm.h; gemm.cu, gemv.cu,
// conv.cu): "gemm_tc", "gemm_cublas", "gemm_skinny" and "im2col_k3", with their checks against
// plain double loops and their benchmarks (cuBLAS as the peer).
//
// GEMM checks. Inputs from the seed: x uniform in [-1, 1] and W uniform in +-2/sqrt(I), both
// fp16-exact (uzwk_rand_f16), so that the products are O(1) (GELU sees both of its regimes);
// bias fp32 in [-0.5, 0.5]; for F32_ADD an initial y fp32 in [-1, 1] is uploaded and added in the
// reference. The reference is sum_k x[n,k] W[o,k] in double over the same widened values, + bias,
// then the epilogue in double (GELU with erf). Shape options: "pad=P" (ldx = I+P, ldw = I+P,
// ldy = O+P; the padding holds random values that must not leak in, and y's padding must stay
// untouched), "off=1" (x, W and y start one element past an aligned address: the unaligned
// paths), "nobias".
// Reference cost: up to 2^27 multiply-adds the whole product is compared; beyond, a deterministic
// sample (from the seed) of 64 rows of x (the first and last included) by 512 rows of W (the
// first and last included) is computed in double and compared; the whole output is still scanned
// for unwritten (non-finite = poison) elements and y's padding for stray writes.
// Tolerances: f16 outputs UZWK_TOL_F16 (the output rounding, 2^-11 relative, dominates). fp32
// outputs GEMM_TOL_F32 = 2e-5: the fp16 products are exact in fp32 (11 + 11 significant bits <=
// 24), so the only error is the order and rounding of the fp32 accumulation, about sqrt(K) * 2^-23
// relative for a random walk with tensor cores' truncating (not nearest) alignment of addends:
// 8.5e-6 at K = 5120, 4.2e-6 at K = 1280. 2e-5 keeps a factor ~2 over that and is still 12x
// below an fp16 intermediate anywhere on the path (2^-12 = 2.4e-4), which is what it must catch.
//
// im2col check: exact (tolerance 0): the f16 input is copied, the f32 input is rounded to nearest
// even on both sides (__float2half_rn / uzwk_f32_to_f16_host).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_gemm_common.cuh"
#include "check_util.h"
#include "k_gemm.h"

#define GEMM_TOL_F32 2e-5
/* GEMM_REF_FULL_MACS, GEMM_SAMPLE_ROWS / COLS and the shared scaffolding: check_gemm_common.cuh */

/* ---------------------------------------------------------------- shapes and variants */

static const char *const k_tc_shapes[] = {
    "N=40 I=8 O=24 epi=f16",
    "N=37 I=100 O=65 epi=gelu",
    "N=130 I=264 O=136 epi=add",
    "N=77 I=259 O=333 epi=f32 nobias",
    "N=200 I=256 O=192 epi=gelu pad=8",
    "N=129 I=64 O=130 epi=add off=1",
    "N=257 I=520 O=264 epi=f16 pad=3 off=1",
    "N=8 I=1280 O=5120 epi=gelu",
    "N=1500 I=384 O=384 epi=f16",
    "N=1500 I=384 O=1536 epi=gelu",
    "N=1500 I=1536 O=384 epi=add",
    "N=1500 I=1280 O=1280 epi=f16",
    "N=1500 I=1280 O=5120 epi=gelu",
    "N=1500 I=5120 O=1280 epi=add",
    "N=3000 I=384 O=1280 epi=gelu",
    "N=1500 I=3840 O=1280 epi=gelu",
    "N=40 I=1280 O=51865 epi=f32",
};
static const char *const k_tc_variants[] = {
    "128x128x32 8 warps 3 stages",
    "128x128x32 8 warps 4 stages",
    "64x128x32 4 warps 3 stages",
    "64x64x32 4 warps 3 stages",
};

static const char *const k_cublas_variants[] = {"cublasGemmEx f32 temp + epilogue kernel"};

static const char *const k_skinny_shapes[] = {
    "N=1 I=8 O=5 epi=f16",
    "N=3 I=100 O=65 epi=gelu",
    "N=5 I=264 O=133 epi=add off=1",
    "N=17 I=77 O=40 epi=f32 nobias",
    "N=32 I=256 O=64 epi=f16 pad=8",
    "N=12 I=520 O=100 epi=gelu pad=5",
    "N=45 I=136 O=70 epi=add",
    "N=1 I=384 O=1536 epi=gelu",
    "N=2 I=1536 O=384 epi=add",
    "N=1 I=1280 O=1280 epi=f16",
    "N=5 I=1280 O=1280 epi=f16",
    "N=1 I=1280 O=5120 epi=gelu",
    "N=8 I=1280 O=5120 epi=gelu",
    "N=32 I=1280 O=5120 epi=gelu",
    "N=5 I=5120 O=1280 epi=add",
    "N=32 I=5120 O=1280 epi=add",
    "N=1 I=1280 O=51865 epi=f32",
    "N=8 I=1280 O=51865 epi=f32",
    "N=32 I=1280 O=51865 epi=f32",
};
static const char *const k_skinny_variants[] = {
    "16 rows/block 8 warps 4 chunks in flight",
    "16 rows/block 16 warps 2 chunks in flight",
    "32 rows/block 8 warps 2 chunks in flight",
    "16 rows/block 4 warps 4 chunks in flight",
};

static const char *const k_im2col_shapes[] = {
    "Ci=80 Ti=3000 s=1 in=f32",  "Ci=128 Ti=3000 s=1 in=f32", "Ci=384 Ti=3000 s=2 in=f16",
    "Ci=1280 Ti=3000 s=2 in=f16", "Ci=7 Ti=33 s=2 in=f32",     "Ci=37 Ti=101 s=3 in=f32",
    "Ci=33 Ti=2 s=1 in=f32",     "Ci=5 Ti=17 s=1 in=f16",     "Ci=3 Ti=1 s=2 in=f16",
    "Ci=9 Ti=70 s=11 in=f32",
};
static const char *const k_im2col_variants[] = {"f32: 32x32 tile via shared; f16: flat"};

#define COUNT(a) (int)(sizeof(a) / sizeof((a)[0]))

/* ---------------------------------------------------------------- gemm cases */

typedef struct {
    int N, I, O, epi, has_bias, pad, off;
} gshape;

static int parse_gemm(uzwk_ctx *c, const char *s, gshape *g) {
    const char *p;
    memset(g, 0, sizeof *g);
    g->has_bias = 1;
    if (gemm_parse_head(c, s, "gemm", &g->N, &g->I, &g->O, &g->epi)) return -1;
    if ((p = strstr(s, "pad="))) g->pad = atoi(p + 4);
    if ((p = strstr(s, "off="))) g->off = atoi(p + 4);
    if (strstr(s, "nobias")) g->has_bias = 0;
    if (g->N < 1 || g->I < 1 || g->O < 1 || g->pad < 0 || g->off < 0) return uzwk_fail(c, "bad gemm shape '%s'", s);
    return 0;
}

/* Host inputs and their device copies. x and W start with `off` unused elements, and so does y
 * (y.off). */
typedef struct {
    gshape s;
    int ldx, ldw;
    size_t nx, nw; /* elements incl. the offset: off + N*ldx, off + O*ldw */
    uzwk_f16 *hx;  /* [nx] */
    uzwk_f16 *hw;  /* [nw] */
    uzwk_f16 *dx;  /* dev [nx] */
    uzwk_f16 *dw;  /* dev [nw] */
    gemm_out y;    /* bias, initial y, y's layout (ldy = O + pad) */
} gcase;

static void gcase_free(gcase *k) {
    free(k->hx);
    free(k->hw);
    uzwk_free(k->dx);
    uzwk_free(k->dw);
    gemm_out_free(&k->y);
    memset(k, 0, sizeof *k);
}

static int gcase_new(uzwk_ctx *c, const char *shape, uint64_t seed, gcase *k) {
    memset(k, 0, sizeof *k);
    if (parse_gemm(c, shape, &k->s)) return -1;
    const gshape *s = &k->s;
    k->ldx = s->I + s->pad;
    k->ldw = s->I + s->pad;
    k->nx = (size_t)s->off + (size_t)s->N * k->ldx;
    k->nw = (size_t)s->off + (size_t)s->O * k->ldw;
    k->hx = (uzwk_f16 *)malloc(k->nx * sizeof(uzwk_f16));
    k->hw = (uzwk_f16 *)malloc(k->nw * sizeof(uzwk_f16));
    if (!k->hx || !k->hw) {
        gcase_free(k);
        return uzwk_fail(c, "gemm check: out of host memory (%s)", shape);
    }
    uint64_t st = seed;
    const float wa = (float)(2.0 / sqrt((double)s->I));
    uzwk_rand_f16(NULL, k->hx, k->nx, &st, -1.0f, 1.0f);
    uzwk_rand_f16(NULL, k->hw, k->nw, &st, -wa, wa);
    if (gemm_out_new(c, &k->y, s->N, s->O, s->O + s->pad, s->off, s->epi, s->has_bias, &st, "gemm check")) {
        gcase_free(k);
        return -1;
    }
    k->dx = (uzwk_f16 *)uzwk_malloc(c, k->nx * sizeof(uzwk_f16));
    k->dw = (uzwk_f16 *)uzwk_malloc(c, k->nw * sizeof(uzwk_f16));
    if (!k->dx || !k->dw || uzwk_h2d(c, k->dx, k->hx, k->nx * sizeof(uzwk_f16)) ||
        uzwk_h2d(c, k->dw, k->hw, k->nw * sizeof(uzwk_f16)) || gemm_out_upload(c, &k->y)) {
        gcase_free(k);
        return -1;
    }
    return 0;
}

static int gcase_run(uzwk_ctx *c, const gcase *k, void *y, uzwk_gemm_impl impl, int variant) {
    const gshape *s = &k->s;
    return uzwk_gemm(c, k->dx + s->off, k->ldx, k->dw + s->off, k->ldw, gemm_out_bias(&k->y), y, k->y.ldy, s->N, s->I,
                     s->O, (uzwk_epi)s->epi, impl, variant);
}

static int check_gemm_common(uzwk_ctx *c, const char *shape, uzwk_gemm_impl impl, int variant, uint64_t seed,
                             uzwk_check_result *r) {
    gcase k;
    uzwk_guarded out;
    gemm_sample smp;
    unsigned char *hout = NULL;
    float *xs = NULL, *ws = NULL, *outs = NULL;
    double *ref = NULL;
    int rc = -1;
    memset(&out, 0, sizeof out);
    memset(&smp, 0, sizeof smp);
    memset(r, 0, sizeof *r);
    if (gcase_new(c, shape, seed, &k)) return -1;
    const gshape *s = &k.s;
    const gemm_out *y = &k.y;
    if (gemm_out_guarded(c, y, &out)) goto done;
    if (gcase_run(c, &k, (unsigned char *)out.p + (size_t)s->off * y->esize, impl, variant)) goto done;
    hout = (unsigned char *)malloc(y->ny * y->esize);
    if (!hout) {
        uzwk_fail(c, "gemm check: out of host memory");
        goto done;
    }
    if (uzwk_guarded_fetch(c, &out, hout, &r->guard_bad)) goto done;
    {
        r->guard_bad += gemm_out_stray(y, hout);
        const long nonfinite = gemm_out_nonfinite(y, hout);

        /* the compared set: x rows and W rows widened, then the double reference */
        if (gemm_sample_new(c, &smp, s->N, s->I, s->O, seed, "gemm check")) goto done;
        const int nr = smp.nr, nc = smp.nc;
        xs = (float *)malloc((size_t)nr * s->I * sizeof(float));
        ws = (float *)malloc((size_t)nc * s->I * sizeof(float));
        outs = (float *)malloc((size_t)nr * nc * sizeof(float));
        ref = (double *)malloc((size_t)nr * nc * sizeof(double));
        if (!xs || !ws || !outs || !ref) {
            uzwk_fail(c, "gemm check: out of host memory");
            goto done;
        }
        for (int i = 0; i < nr; i++)
            uzwk_f16_array_to_f32(k.hx + s->off + (size_t)smp.rows[i] * k.ldx, xs + (size_t)i * s->I, (size_t)s->I);
        for (int j = 0; j < nc; j++)
            uzwk_f16_array_to_f32(k.hw + s->off + (size_t)smp.cols[j] * k.ldw, ws + (size_t)j * s->I, (size_t)s->I);
        for (int i = 0; i < nr; i++) {
            const float *xr = xs + (size_t)i * s->I;
            for (int j = 0; j < nc; j++) {
                const float *wr = ws + (size_t)j * s->I;
                double acc = 0.0;
                for (int q = 0; q < s->I; q++) acc += (double)xr[q] * (double)wr[q];
                const int o = smp.cols[j];
                const size_t yi = (size_t)s->off + (size_t)smp.rows[i] * y->ldy + o;
                ref[(size_t)i * nc + j] = gemm_out_ref(y, acc + (s->has_bias ? (double)y->hb[o] : 0.0), yi);
                outs[(size_t)i * nc + j] = gemm_out_at(y, hout, yi);
            }
        }
        gemm_compare(y, &smp, outs, ref, y->esize == 2 ? UZWK_TOL_F16 : GEMM_TOL_F32, nonfinite, r);
    }
    rc = 0;
done:
    free(hout);
    free(xs);
    free(ws);
    free(outs);
    free(ref);
    gemm_sample_free(&smp);
    uzwk_guarded_free(&out);
    gcase_free(&k);
    return rc;
}

/* ---------------------------------------------------------------- gemm benchmarks */

typedef struct {
    const gcase *k;
    void *y;
    uzwk_gemm_impl impl;
    int variant;
} gbench_arg;

static int gbench_fn(uzwk_ctx *c, void *p) {
    const gbench_arg *a = (const gbench_arg *)p;
    return gcase_run(c, a->k, a->y, a->impl, a->variant);
}

static int bench_gemm_common(uzwk_ctx *c, const char *shape, uzwk_gemm_impl impl, int variant, int reps,
                             uzwk_bench_result *r) {
    gcase k;
    memset(r, 0, sizeof *r);
    if (gcase_new(c, shape, 12345, &k)) return -1;
    const gshape *s = &k.s;
    int rc = -1;
    void *ybase = uzwk_malloc(c, k.y.ny * k.y.esize);
    if (!ybase || uzwk_memset(c, ybase, 0, k.y.ny * k.y.esize)) goto done;
    {
        gbench_arg a = {&k, (unsigned char *)ybase + (size_t)s->off * k.y.esize, impl, variant};
        if (uzwk_time_median(c, gbench_fn, &a, reps, &r->ms)) goto done;
        if (impl != UZWK_GEMM_CUBLAS) {
            gbench_arg p = {&k, a.y, UZWK_GEMM_CUBLAS, 0};
            if (uzwk_time_median(c, gbench_fn, &p, reps, &r->peer_ms)) goto done;
            snprintf(r->peer, sizeof r->peer, "cublas");
        }
    }
    r->bytes = 2.0 * s->O * s->I + 2.0 * s->N * s->I + gemm_y_traffic(s->epi) * s->N * s->O +
               (s->has_bias ? 4.0 * s->O : 0.0);
    r->flops = 2.0 * s->N * s->I * s->O;
    rc = 0;
done:
    uzwk_free(ybase);
    gcase_free(&k);
    return rc;
}

/* ---------------------------------------------------------------- entry points */

/* The three GEMM entries: their shape lists and the implementation each one forces. */
typedef struct {
    const char *name;
    const char *const *shapes;
    int n_shapes;
    uzwk_gemm_impl impl;
} gemm_entry;
enum { E_TC, E_CUBLAS, E_SKINNY };
static const gemm_entry k_gemm_entries[] = {
    {"gemm_tc", k_tc_shapes, COUNT(k_tc_shapes), UZWK_GEMM_TC},
    {"gemm_cublas", k_tc_shapes, COUNT(k_tc_shapes), UZWK_GEMM_CUBLAS},
    {"gemm_skinny", k_skinny_shapes, COUNT(k_skinny_shapes), UZWK_GEMM_SKINNY},
};

/* The shape string of entry e, or NULL with "<name>: no shape N" in the context. */
static const char *gemm_shape(uzwk_ctx *c, const gemm_entry *e, int shape) {
    return gemm_entry_shape(c, e->name, e->shapes, e->n_shapes, shape);
}

template <int E>
static int check_gemm_entry(uzwk_ctx *c, int shape, int variant, uint64_t seed, uzwk_check_result *r) {
    const char *s = gemm_shape(c, &k_gemm_entries[E], shape);
    return s ? check_gemm_common(c, s, k_gemm_entries[E].impl, variant, seed, r) : -1;
}
template <int E>
static int bench_gemm_entry(uzwk_ctx *c, int shape, int variant, int reps, uzwk_bench_result *r) {
    const char *s = gemm_shape(c, &k_gemm_entries[E], shape);
    return s ? bench_gemm_common(c, s, k_gemm_entries[E].impl, variant, reps, r) : -1;
}

/* ---------------------------------------------------------------- im2col */

typedef struct {
    int Ci, Ti, s, f32;
} ishape;

static int parse_im2col(uzwk_ctx *c, const char *str, ishape *q) {
    char t[8] = "";
    if (sscanf(str, "Ci=%d Ti=%d s=%d in=%7s", &q->Ci, &q->Ti, &q->s, t) != 4 || q->Ci < 1 || q->Ti < 1 || q->s < 1)
        return uzwk_fail(c, "bad im2col shape '%s'", str);
    if (strcmp(t, "f32") == 0) q->f32 = 1;
    else if (strcmp(t, "f16") == 0) q->f32 = 0;
    else return uzwk_fail(c, "bad im2col input type in '%s'", str);
    return 0;
}

/* Shape `shape` (variant must be 0) parsed into q, its host input (f32 [Ci, Ti] or f16 [Ti, Ci])
 * from seed and the device copy; on failure nothing is left allocated. */
static int im2col_input(uzwk_ctx *c, int shape, int variant, uint64_t seed, ishape *q, void **host, void **dev,
                        size_t *bytes) {
    if (shape < 0 || shape >= COUNT(k_im2col_shapes)) return uzwk_fail(c, "im2col_k3: no shape %d", shape);
    if (variant != 0) return uzwk_fail(c, "im2col_k3: no variant %d", variant);
    if (parse_im2col(c, k_im2col_shapes[shape], q)) return -1;
    const size_t n = (size_t)q->Ci * q->Ti;
    uint64_t st = seed;
    *bytes = n * (q->f32 ? sizeof(float) : sizeof(uzwk_f16));
    *host = malloc(*bytes);
    *dev = NULL;
    if (!*host) return uzwk_fail(c, "im2col check: out of host memory");
    if (q->f32) uzwk_rand_f32((float *)*host, n, &st, -4.0f, 4.0f);
    else uzwk_rand_f16(NULL, (uzwk_f16 *)*host, n, &st, -4.0f, 4.0f);
    *dev = uzwk_malloc(c, *bytes);
    if (!*dev || uzwk_h2d(c, *dev, *host, *bytes)) {
        free(*host);
        *host = NULL;
        uzwk_free(*dev);
        *dev = NULL;
        return -1;
    }
    return 0;
}

static int check_im2col(uzwk_ctx *c, int shape, int variant, uint64_t seed, uzwk_check_result *r) {
    ishape q;
    void *hx = NULL, *dx = NULL;
    size_t xbytes = 0;
    uzwk_guarded out;
    uzwk_f16 *hout = NULL;
    float *outf = NULL;
    double *ref = NULL;
    int rc = -1;
    memset(&out, 0, sizeof out);
    memset(r, 0, sizeof *r);
    if (im2col_input(c, shape, variant, seed, &q, &hx, &dx, &xbytes)) return -1;
    {
        const int To = (q.Ti - 1) / q.s + 1;
        const size_t w = (size_t)q.Ci * 3, n = (size_t)To * w;
        if (uzwk_guarded_new(c, &out, n * sizeof(uzwk_f16))) goto done;
        if (uzwk_im2col_k3(c, dx, q.f32, (uzwk_f16 *)out.p, q.Ci, q.Ti, q.s)) goto done;
        hout = (uzwk_f16 *)malloc(n * sizeof(uzwk_f16));
        outf = (float *)malloc(n * sizeof(float));
        ref = (double *)malloc(n * sizeof(double));
        if (!hout || !outf || !ref) {
            uzwk_fail(c, "im2col check: out of host memory");
            goto done;
        }
        if (uzwk_guarded_fetch(c, &out, hout, &r->guard_bad)) goto done;
        uzwk_f16_array_to_f32(hout, outf, n);
        for (int t = 0; t < To; t++)
            for (int ci = 0; ci < q.Ci; ci++)
                for (int k = 0; k < 3; k++) {
                    const long ti = (long)t * q.s + k - 1;
                    double v = 0.0;
                    if (ti >= 0 && ti < q.Ti) {
                        if (q.f32)
                            v = uzwk_f16_to_f32_host(uzwk_f32_to_f16_host(((const float *)hx)[(size_t)ci * q.Ti + ti]));
                        else
                            v = uzwk_f16_to_f32_host(((const uzwk_f16 *)hx)[(size_t)ti * q.Ci + ci]);
                    }
                    ref[(size_t)t * w + (size_t)ci * 3 + k] = v;
                }
        uzwk_compare(outf, ref, n, 0.0, "cols", r);
    }
    rc = 0;
done:
    free(hout);
    free(outf);
    free(ref);
    free(hx);
    uzwk_free(dx);
    uzwk_guarded_free(&out);
    return rc;
}

typedef struct {
    const void *x;
    int f32;
    uzwk_f16 *cols;
    int Ci, Ti, s;
} ibench_arg;

static int ibench_fn(uzwk_ctx *c, void *p) {
    const ibench_arg *a = (const ibench_arg *)p;
    return uzwk_im2col_k3(c, a->x, a->f32, a->cols, a->Ci, a->Ti, a->s);
}

static int bench_im2col(uzwk_ctx *c, int shape, int variant, int reps, uzwk_bench_result *r) {
    ishape q;
    void *hx = NULL, *dx = NULL;
    size_t xbytes = 0;
    int rc = -1;
    memset(r, 0, sizeof *r);
    if (im2col_input(c, shape, variant, 777, &q, &hx, &dx, &xbytes)) return -1;
    const int To = (q.Ti - 1) / q.s + 1;
    const size_t obytes = (size_t)To * q.Ci * 3 * sizeof(uzwk_f16);
    uzwk_f16 *cols = (uzwk_f16 *)uzwk_malloc(c, obytes);
    if (cols) {
        ibench_arg a = {dx, q.f32, cols, q.Ci, q.Ti, q.s};
        if (uzwk_time_median(c, ibench_fn, &a, reps, &r->ms) == 0) {
            r->bytes = (double)xbytes + (double)obytes;
            r->flops = 0.0;
            rc = 0;
        }
    }
    uzwk_free(cols);
    uzwk_free(dx);
    free(hx);
    return rc;
}

/* ---------------------------------------------------------------- the table */

extern "C" const uzwk_op uzwk_ops_gemm[] = {
    {"gemm_tc", "gemm", "f16 x, W; fp32 acc; f16/f32 y", COUNT(k_tc_shapes), k_tc_shapes, COUNT(k_tc_variants),
     k_tc_variants, check_gemm_entry<E_TC>, bench_gemm_entry<E_TC>},
    {"gemm_cublas", "gemm", "f16 x, W; fp32 acc; f16/f32 y", COUNT(k_tc_shapes), k_tc_shapes,
     COUNT(k_cublas_variants), k_cublas_variants, check_gemm_entry<E_CUBLAS>, bench_gemm_entry<E_CUBLAS>},
    {"gemm_skinny", "gemv", "f16 x, W; fp32 acc; f16/f32 y", COUNT(k_skinny_shapes), k_skinny_shapes,
     COUNT(k_skinny_variants), k_skinny_variants, check_gemm_entry<E_SKINNY>, bench_gemm_entry<E_SKINNY>},
    {"im2col_k3", "conv", "f32 or f16 in, f16 out", COUNT(k_im2col_shapes), k_im2col_shapes,
     COUNT(k_im2col_variants), k_im2col_variants, check_im2col, bench_im2col},
};
extern "C" const int uzwk_n_ops_gemm = (int)(sizeof uzwk_ops_gemm / sizeof uzwk_ops_gemm[0]);
