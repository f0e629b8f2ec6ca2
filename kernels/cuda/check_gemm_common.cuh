// check_gemm_common.cuh - what the matrix-product checks and benchmarks share (check_gemm.cu: the
// fp16 products, check_qgemm.cu: the INT8 ones): the "N= I= O= epi=" shape head, the bias / initial
// y / output-layout part of a case, the compared set (all outputs, or a seeded sample of rows by
// columns beyond 2^27 multiply-adds), the scans of the fetched y (stray writes into its offset and
// padding, unwritten outputs), the reference epilogue, the comparison with its detail, and the
// byte count of y for the benchmarks. Host code only.
#ifndef UZWK_CHECK_GEMM_COMMON_CUH
#define UZWK_CHECK_GEMM_COMMON_CUH

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "k_gemm.h"

/* Up to this many multiply-adds the whole product is compared; beyond, a sample of
 * GEMM_SAMPLE_ROWS rows of x by GEMM_SAMPLE_COLS rows of W (outputs) from the seed. */
#define GEMM_REF_FULL_MACS 134217728.0 /* 2^27 */
#define GEMM_SAMPLE_ROWS 64
#define GEMM_SAMPLE_COLS 512

/* "N=%d I=%d O=%d epi=NAME" at the start of s (NAME: f16, gelu, add, f32); 0, or -1 with
 * "bad <what> shape" in the context. */
static inline int gemm_parse_head(uzwk_ctx *c, const char *s, const char *what, int *N, int *I, int *O, int *epi) {
    char e[16] = "";
    if (sscanf(s, "N=%d I=%d O=%d epi=%15s", N, I, O, e) != 4) return uzwk_fail(c, "bad %s shape '%s'", what, s);
    if (strcmp(e, "f16") == 0) *epi = UZWK_EPI_F16;
    else if (strcmp(e, "gelu") == 0) *epi = UZWK_EPI_F16_GELU;
    else if (strcmp(e, "add") == 0) *epi = UZWK_EPI_F32_ADD;
    else if (strcmp(e, "f32") == 0) *epi = UZWK_EPI_F32;
    else return uzwk_fail(c, "bad epilogue in %s shape '%s'", what, s);
    return 0;
}

/* Bytes per element of y under epilogue epi. */
static inline size_t gemm_y_esize(int epi) { return (epi == UZWK_EPI_F32_ADD || epi == UZWK_EPI_F32) ? 4 : 2; }

/* The output side of a case: y [off + N*ldy] elements (output (n, o) at off + n*ldy + o; the
 * first off elements and columns O .. ldy-1 must not be written), the bias and, for F32_ADD, the
 * y uploaded before the run. */
typedef struct {
    int N, O, ldy, off, epi, has_bias;
    size_t esize; /* bytes per y element */
    size_t ny;    /* off + N*ldy elements */
    float *hb;    /* [O] */
    float *hy0;   /* [ny] initial y (F32_ADD) */
    float *db;    /* dev [O] */
} gemm_out;

static inline void gemm_out_free(gemm_out *o) {
    free(o->hb);
    free(o->hy0);
    uzwk_free(o->db);
    o->hb = o->hy0 = o->db = NULL;
}

/* Layout and host arrays: bias uniform in [-0.5, 0.5] then the initial y uniform in [-1, 1],
 * drawn from *st in that order. 0, or -1 (nothing left allocated). */
static inline int gemm_out_new(uzwk_ctx *c, gemm_out *o, int N, int O, int ldy, int off, int epi, int has_bias,
                               uint64_t *st, const char *what) {
    o->N = N;
    o->O = O;
    o->ldy = ldy;
    o->off = off;
    o->epi = epi;
    o->has_bias = has_bias;
    o->esize = gemm_y_esize(epi);
    o->ny = (size_t)off + (size_t)N * ldy;
    o->hb = (float *)malloc((size_t)O * sizeof(float));
    o->hy0 = (float *)malloc(o->ny * sizeof(float));
    o->db = NULL;
    if (!o->hb || !o->hy0) {
        gemm_out_free(o);
        return uzwk_fail(c, "%s: out of host memory", what);
    }
    uzwk_rand_f32(o->hb, (size_t)O, st, -0.5f, 0.5f);
    uzwk_rand_f32(o->hy0, o->ny, st, -1.0f, 1.0f);
    return 0;
}

/* The device copy of the bias. */
static inline int gemm_out_upload(uzwk_ctx *c, gemm_out *o) {
    o->db = (float *)uzwk_malloc(c, (size_t)o->O * sizeof(float));
    return !o->db || uzwk_h2d(c, o->db, o->hb, (size_t)o->O * sizeof(float)) ? -1 : 0;
}

/* The bias the product is given: the device copy, or NULL for a "nobias" shape. */
static inline const float *gemm_out_bias(const gemm_out *o) { return o->has_bias ? o->db : NULL; }

/* A guarded y for the run: poisoned, or holding the initial y for F32_ADD; 0 or -1. */
static inline int gemm_out_guarded(uzwk_ctx *c, const gemm_out *o, uzwk_guarded *g) {
    const size_t bytes = o->ny * o->esize;
    if (uzwk_guarded_new(c, g, bytes)) return -1;
    if (o->epi == UZWK_EPI_F32_ADD && uzwk_guarded_upload(c, g, o->hy0, bytes)) return -1;
    return 0;
}

/* Element i of a fetched y buffer as float. */
static inline float gemm_out_at(const gemm_out *o, const unsigned char *buf, size_t i) {
    if (o->esize == 4) {
        float v;
        memcpy(&v, buf + i * 4, 4);
        return v;
    }
    uzwk_f16 h;
    memcpy(&h, buf + i * 2, 2);
    return uzwk_f16_to_f32_host(h);
}

/* Bytes of y's offset and padding in the fetched buffer that differ from before the run (the
 * poison 0xFF, or the uploaded initial y for F32_ADD): stray writes. */
static inline long gemm_out_stray(const gemm_out *o, const unsigned char *hout) {
    const unsigned char *before = (const unsigned char *)o->hy0;
    const int add = o->epi == UZWK_EPI_F32_ADD;
    long stray = 0;
    for (size_t i = 0; i < (size_t)o->off; i++)
        for (size_t b = 0; b < o->esize; b++)
            stray += hout[i * o->esize + b] != (add ? before[i * o->esize + b] : 0xFF);
    for (int n = 0; n < o->N; n++)
        for (int col = o->O; col < o->ldy; col++) {
            const size_t i = (size_t)o->off + (size_t)n * o->ldy + col;
            for (size_t b = 0; b < o->esize; b++)
                stray += hout[i * o->esize + b] != (add ? before[i * o->esize + b] : 0xFF);
        }
    return stray;
}

/* Outputs that are not finite in the fetched buffer (unwritten: the poison is NaN). */
static inline long gemm_out_nonfinite(const gemm_out *o, const unsigned char *hout) {
    long bad = 0;
    for (int n = 0; n < o->N; n++)
        for (int col = 0; col < o->O; col++)
            bad += !isfinite(gemm_out_at(o, hout, (size_t)o->off + (size_t)n * o->ldy + col));
    return bad;
}

/* The reference of output element yi from v = the product + bias, in double: GELU (erf) for
 * F16_GELU, + the initial y for F32_ADD. */
static inline double gemm_out_ref(const gemm_out *o, double v, size_t yi) {
    if (o->epi == UZWK_EPI_F16_GELU) v = 0.5 * v * (1.0 + erf(v / sqrt(2.0)));
    if (o->epi == UZWK_EPI_F32_ADD) v += (double)o->hy0[yi];
    return v;
}

/* The compared set: rows[0 .. nr) of x by cols[0 .. nc) of W, all of them, or (sampled: more
 * than GEMM_REF_FULL_MACS multiply-adds) GEMM_SAMPLE_ROWS x GEMM_SAMPLE_COLS of them picked from
 * the seed, the first and the last of each always included. */
typedef struct {
    int sampled, nr, nc;
    int *rows; /* [nr] */
    int *cols; /* [nc] */
} gemm_sample;

/* n indices out of 0 .. total-1: all of them in order when n >= total, else 0, total-1 and
 * n-2 uniform draws from *st. NULL when out of memory. */
static inline int *gemm_pick(int total, int n, uint64_t *st) {
    int *r = (int *)malloc((size_t)(n < total ? n : total) * sizeof(int));
    if (!r) return NULL;
    if (n >= total) {
        for (int i = 0; i < total; i++) r[i] = i;
        return r;
    }
    r[0] = 0;
    if (n > 1) r[1] = total - 1;
    for (int i = 2; i < n; i++) {
        const int v = (int)uzwk_rand_uniform(st, 0.0, (double)total);
        r[i] = v < total ? v : total - 1;
    }
    return r;
}

static inline void gemm_sample_free(gemm_sample *s) {
    free(s->rows);
    free(s->cols);
    s->rows = s->cols = NULL;
}

/* 0, or -1 with "<what>: out of host memory". */
static inline int gemm_sample_new(uzwk_ctx *c, gemm_sample *s, int N, int I, int O, uint64_t seed, const char *what) {
    s->sampled = (double)N * I * O > GEMM_REF_FULL_MACS;
    s->nr = s->sampled && N > GEMM_SAMPLE_ROWS ? GEMM_SAMPLE_ROWS : N;
    s->nc = s->sampled && O > GEMM_SAMPLE_COLS ? GEMM_SAMPLE_COLS : O;
    uint64_t pst = seed ^ 0x5DEECE66Dull;
    s->rows = gemm_pick(N, s->nr, &pst);
    s->cols = gemm_pick(O, s->nc, &pst);
    if (!s->rows || !s->cols) {
        gemm_sample_free(s);
        return uzwk_fail(c, "%s: out of host memory", what);
    }
    return 0;
}

/* Compare outs with ref over the sample (nr x nc, row-major) with tolerance tol into r; then
 * nonfinite unwritten outputs (of o's N x O) fail the check with that as the detail, and a passing
 * sampled comparison says so in the detail. */
static inline void gemm_compare(const gemm_out *o, const gemm_sample *s, const float *outs, const double *ref,
                                double tol, long nonfinite, uzwk_check_result *r) {
    uzwk_compare(outs, ref, (size_t)s->nr * s->nc, tol, "y", r);
    if (nonfinite) {
        r->pass = 0;
        snprintf(r->detail, sizeof r->detail, "y: %ld of %ld outputs non-finite (unwritten)", nonfinite,
                 (long)o->N * o->O);
    } else if (s->sampled && r->pass) {
        const size_t used = strlen(r->detail);
        snprintf(r->detail + used, sizeof r->detail - used, "; sampled %dx%d", s->nr, s->nc);
    }
}

/* Bytes of y a product must move per output: written once, and also read for F32_ADD. */
static inline double gemm_y_traffic(int epi) {
    return gemm_y_esize(epi) == 2 ? 2.0 : epi == UZWK_EPI_F32_ADD ? 8.0 : 4.0;
}

/* Shape `shape` of an entry's list (name: the entry's, for the message), or NULL with
 * "<name>: no shape N" in the context. */
static inline const char *gemm_entry_shape(uzwk_ctx *c, const char *name, const char *const *shapes, int n_shapes,
                                           int shape) {
    if (shape < 0 || shape >= n_shapes) {
        uzwk_fail(c, "%s: no shape %d", name, shape);
        return NULL;
    }
    return shapes[shape];
}

#endif
