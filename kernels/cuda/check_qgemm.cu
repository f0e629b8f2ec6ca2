// check_qgemm.cu - registry entries of the INT8 product family (k_qgemm.h; qgemm_w8a16.cu,
// qgemm_w8a8.cu, quant_rows.cu): "qgemm_w8a16_skinny" (N <= 32), "qgemm_w8a16_tc" (N > 32),
// "qgemm_w8a8" (uzwk_quantize_rows then uzwk_gemm_w8a8, as the engine calls them) and
// "quantize_rows", checked against the engine's CPU references (engine/model/qmat.h:
// uzw_matmul_w8a16_ref, uzw_matmul_w8a8_ref, uzw_quantize_row) and timed against our fp16
// uzwk_gemm (AUTO) on the same shape with W widened to fp16.
//
// Inputs from the seed (never all zeros): each row n of x uniform in [-a_n, a_n] with a_n = 2^u,
// u uniform in [-6, 2] (rows of different scales, some fp16 subnormals), fp16-exact; W uniform
// integers in [-127, 127]; wscale[o] uniform in [0.5, 1.5] * 2 / (127 sqrt(I)), so that the
// outputs are O(1) (GELU sees both regimes); bias in [-0.5, 0.5]; for F32_ADD an initial y in
// [-1, 1] is uploaded and added in the reference. Padding of x / W rows (pad=P) holds random
// values that must not leak in. Shape options: "pad=P" (ldx = ldw = ldq = I + P, P % 16 == 0),
// "ypad=P" (ldy = O + P; y's padding must stay untouched; odd ldy takes the scalar stores),
// "nobias", "zrow" (row (N-1)/2 of x all zero: scale 0, q all 0), "ties" (every row: multiples of
// 0.5 in [-127, 127] with one element +-127, so 127/amax = 1 and x*inv lands on .5 ties: the
// round-half-even path).
// References: the CPU references on x widened from fp16 (uzw_matmul_w8a16_ref: double sum of
// x * q, times scale, + bias; uzw_matmul_w8a8_ref: each row quantised by uzw_quantize_row, int64
// sum, times both scales, + bias), then the epilogue in double (GELU with erf, + initial y).
// Up to 2^27 multiply-adds the whole product is compared; beyond (the N = 1500 encoder shapes, the
// batched logits) a deterministic sample from the seed of 64 rows of x (first and last included)
// by 512 rows of W (first and last included) is computed by the same reference functions on just
// those rows (the references are row-separable: a row's quantisation depends on that row only),
// and compared; the whole output is still scanned for unwritten (non-finite = poison) elements
// and y's padding for stray writes. W8A8 also compares every xq byte and every xscale bit of the
// device quantisation with uzw_quantize_row over all rows (exact), with xq poisoned to 0x80 (-128,
// a value the quantiser never writes) so an unwritten byte shows.
// Tolerances (on ||out - ref|| / ||ref||, elements within 8 tol (rms + |ref|)):
//   f16 outputs UZWK_TOL_F16 (2e-3: the output rounding, 2^-11 relative, dominates);
//   W8A16 f32 outputs QG_TOL_W8A16_F32 = 2e-5, check_gemm.cu's fp32 bound: x (11 significant
//     bits) times q (7 bits) is exact in fp32, so the only error is the fp32 accumulation order
//     (about sqrt(K) 2^-23 relative, 8.5e-6 at K = 5120) plus one rounding for the scale;
//   W8A8 f32 outputs UZWK_TOL_F32 (1e-5): the integer sums are exact and the xq/xscale bits are
//     checked equal, so only (float)acc, the two scale multiplies and the bias add round
//     (a few 2^-24 relative).
// Every check also calls the function with one broken rule at a time (variant out of range,
// I % 16 != 0, N = 0) and requires -1 (rules whose violation could fault if wrongly accepted,
// such as misaligned pointers, are not probed: a fault would poison the context for every later
// check).
// Benchmarks: bytes = the fewest the op must move: int8 W once, f16 x, the scales, y (read and
// written for F32_ADD), bias; flops 2 N I O; the peer is our fp16 uzwk_gemm (AUTO, variant 0) on
// the same x with W widened to fp16 (q * scale rounded), i.e. what the engine runs without INT8.
// "qgemm_w8a8" times quantize_rows + gemm_w8a8 together (what replaces the fp16 product; the
// int8 copy of x is an intermediate and not counted in bytes); "quantize_rows" alone has no peer.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_gemm_common.cuh"
#include "check_util.h"
#include "k_qgemm.h"

extern "C" {
#include "model/qmat.h" // a C header without its own extern "C" guard
}

#define QG_TOL_W8A16_F32 2e-5
/* the full-or-sampled reference limits (GEMM_REF_FULL_MACS, GEMM_SAMPLE_ROWS / COLS) and the
 * shared scaffolding: check_gemm_common.cuh */
#define QG_XQ_POISON 0x80 /* -128: never written by the quantiser */

#define COUNT(a) (int)(sizeof(a) / sizeof((a)[0]))

/* ---------------------------------------------------------------- shapes and variants */

/* N <= 32: decode steps. large-v3 / turbo (D = 1280): attention projections (f16 out, or added into
 * the residual), fc1 (GELU), fc2 (residual add), logits (V = 51866 large-v3, 51865 the others;
 * no bias); base (D = 512); odd sizes. */
static const char *const k_skinny_shapes[] = {
    "N=1 I=1280 O=1280 epi=f16",
    "N=1 I=1280 O=1280 epi=add",
    "N=8 I=1280 O=1280 epi=f16",
    "N=32 I=1280 O=1280 epi=add",
    "N=1 I=1280 O=5120 epi=gelu",
    "N=8 I=1280 O=5120 epi=gelu",
    "N=32 I=1280 O=5120 epi=gelu",
    "N=1 I=5120 O=1280 epi=add",
    "N=8 I=5120 O=1280 epi=add",
    "N=32 I=5120 O=1280 epi=add",
    "N=1 I=1280 O=51866 epi=f32 nobias",
    "N=1 I=1280 O=51865 epi=f32 nobias",
    "N=8 I=1280 O=51865 epi=f32 nobias",
    "N=1 I=512 O=512 epi=f16",
    "N=1 I=512 O=2048 epi=gelu",
    "N=1 I=2048 O=512 epi=add",
    "N=1 I=512 O=51865 epi=f32 nobias",
    "N=3 I=48 O=37 epi=f16",
    "N=5 I=80 O=33 epi=gelu pad=16 ypad=3",
    "N=17 I=208 O=70 epi=add ypad=1",
    "N=32 I=16 O=17 epi=f32 nobias",
    "N=9 I=1296 O=100 epi=f32 pad=32 zrow",
    "N=12 I=64 O=40 epi=f32 ties",
};
static const char *const k_skinny_variants[] = {
    "16 rows/block 8 warps 4 chunks in flight",
    "16 rows/block 4 warps 4 chunks in flight",
    "32 rows/block 8 warps 2 chunks in flight",
};

/* N > 32: beams past 32, encoder-sized products (W8A16 there is the alternative to W8A8), odd. */
static const char *const k_tc_shapes[] = {
    "N=33 I=64 O=100 epi=f16",
    "N=65 I=16 O=17 epi=gelu",
    "N=77 I=48 O=333 epi=f32 ypad=1",
    "N=130 I=272 O=136 epi=add pad=16 ypad=3",
    "N=40 I=1280 O=51865 epi=f32 nobias",
    "N=64 I=1280 O=1280 epi=f16 zrow",
    "N=200 I=1280 O=5120 epi=gelu",
    "N=100 I=128 O=64 epi=f32 ties",
    "N=1500 I=1280 O=1280 epi=f16",
    "N=1500 I=1280 O=5120 epi=gelu",
    "N=1500 I=5120 O=1280 epi=add",
    "N=1500 I=512 O=2048 epi=gelu",
};
static const char *const k_tc_variants[] = {
    "128x128x64 8 warps 3 stages",
    "128x128x64 8 warps 4 stages",
    "64x64x64 4 warps 4 stages",
};

/* The encoder (N = 1500) at large-v3 / turbo and base widths, then decode-sized and odd ones. */
static const char *const k_w8a8_shapes[] = {
    "N=1500 I=1280 O=1280 epi=f16",
    "N=1500 I=1280 O=1280 epi=add",
    "N=1500 I=1280 O=5120 epi=gelu",
    "N=1500 I=5120 O=1280 epi=add",
    "N=1500 I=512 O=512 epi=f16",
    "N=1500 I=512 O=2048 epi=gelu",
    "N=1500 I=2048 O=512 epi=add",
    "N=1 I=1280 O=1280 epi=f16",
    "N=32 I=1280 O=1280 epi=add",
    "N=1 I=1280 O=51866 epi=f32 nobias",
    "N=3 I=48 O=37 epi=f16",
    "N=33 I=64 O=100 epi=gelu",
    "N=65 I=16 O=17 epi=f32",
    "N=130 I=272 O=136 epi=add pad=16 ypad=3",
    "N=77 I=48 O=333 epi=f32 ypad=1 zrow",
    "N=40 I=128 O=96 epi=f32 ties",
};
static const char *const k_w8a8_variants[] = {
    "128x128x64 8 warps 4 stages",
    "128x128x64 8 warps 3 stages",
    "64x64x64 4 warps 4 stages",
};

static const char *const k_quant_shapes[] = {
    "N=1500 I=1280",         "N=1500 I=5120",     "N=1500 I=512",      "N=1500 I=2048",
    "N=1 I=1280",            "N=3 I=48",          "N=65 I=16 pad=16",  "N=33 I=64 zrow",
    "N=40 I=1280 ties",      "N=9 I=5120 pad=32 zrow",
};
static const char *const k_quant_variants[] = {"warp per row, 8 rows per block"};

/* ---------------------------------------------------------------- cases */

typedef struct {
    int N, I, O, epi, has_bias, pad, ypad, zrow, ties;
} qshape;

/* gemm: "N= I= O= epi= ..." (else "N= I= ..."), options as in the header. */
static int parse_qshape(uzwk_ctx *c, const char *s, int gemm, qshape *q) {
    const char *p;
    memset(q, 0, sizeof *q);
    q->has_bias = 1;
    q->O = 1;
    q->epi = UZWK_EPI_F32;
    if (gemm) {
        if (gemm_parse_head(c, s, "qgemm", &q->N, &q->I, &q->O, &q->epi)) return -1;
    } else if (sscanf(s, "N=%d I=%d", &q->N, &q->I) != 2) {
        return uzwk_fail(c, "bad quantize shape '%s'", s);
    }
    if ((p = strstr(s, " pad="))) q->pad = atoi(p + 5);
    if ((p = strstr(s, " ypad="))) q->ypad = atoi(p + 6);
    if (strstr(s, " nobias")) q->has_bias = 0;
    if (strstr(s, " zrow")) q->zrow = 1;
    if (strstr(s, " ties")) q->ties = 1;
    if (q->N < 1 || q->I < 16 || q->I % 16 || q->O < 1 || q->pad < 0 || q->pad % 16 || q->ypad < 0)
        return uzwk_fail(c, "bad qgemm shape '%s' (I a multiple of 16, pad a multiple of 16)", s);
    return 0;
}

/* Host inputs and their device copies. */
typedef struct {
    qshape s;
    int gemm;              /* 0: quantize_rows only (no W, bias, y) */
    int ldx, ldw, ldq;
    size_t nx, nw;         /* N*ldx, O*ldw */
    uzwk_f16 *hx;          /* [nx] */
    float *hxf;            /* [nx] the same values widened */
    int8_t *hw;            /* [nw] */
    float *hws;            /* [O] */
    uzwk_f16 *dx;          /* dev [nx] */
    int8_t *dw;            /* dev [nw] */
    float *dws;            /* dev [O] */
    gemm_out y;            /* gemm: bias, initial y, y's layout (ldy = O + ypad, no offset) */
} qcase;

static void qcase_free(qcase *k) {
    free(k->hx);
    free(k->hxf);
    free(k->hw);
    free(k->hws);
    uzwk_free(k->dx);
    uzwk_free(k->dw);
    uzwk_free(k->dws);
    gemm_out_free(&k->y);
    memset(k, 0, sizeof *k);
}

/* A uniform integer in [lo, hi]. */
static int rand_int(uint64_t *st, int lo, int hi) {
    int v = (int)floor(uzwk_rand_uniform(st, (double)lo, (double)hi + 1.0));
    return v < lo ? lo : v > hi ? hi : v;
}

static int qcase_new(uzwk_ctx *c, const char *shape, int gemm, uint64_t seed, qcase *k) {
    memset(k, 0, sizeof *k);
    if (parse_qshape(c, shape, gemm, &k->s)) return -1;
    const qshape *s = &k->s;
    k->gemm = gemm;
    k->ldx = k->ldw = k->ldq = s->I + s->pad;
    k->nx = (size_t)s->N * k->ldx;
    k->nw = gemm ? (size_t)s->O * k->ldw : 0;
    k->hx = (uzwk_f16 *)malloc(k->nx * sizeof(uzwk_f16));
    k->hxf = (float *)malloc(k->nx * sizeof(float));
    if (gemm) {
        k->hw = (int8_t *)malloc(k->nw);
        k->hws = (float *)malloc((size_t)s->O * sizeof(float));
    }
    if (!k->hx || !k->hxf || (gemm && (!k->hw || !k->hws))) {
        qcase_free(k);
        return uzwk_fail(c, "qgemm check: out of host memory (%s)", shape);
    }
    uint64_t st = seed;
    for (int n = 0; n < s->N; n++) {
        uzwk_f16 *row = k->hx + (size_t)n * k->ldx;
        if (s->ties) {
            for (int i = 0; i < k->ldx; i++) row[i] = uzwk_f32_to_f16_host(0.5f * (float)rand_int(&st, -254, 254));
            const int at = rand_int(&st, 0, s->I - 1);
            row[at] = uzwk_f32_to_f16_host(uzwk_rand_uniform(&st, 0.0, 1.0) < 0.5 ? 127.0f : -127.0f);
        } else {
            const float a = (float)exp2(uzwk_rand_uniform(&st, -6.0, 2.0));
            uzwk_rand_f16(NULL, row, (size_t)k->ldx, &st, -a, a);
        }
        if (s->zrow && n == (s->N - 1) / 2)
            for (int i = 0; i < s->I; i++) row[i] = 0;
    }
    uzwk_f16_array_to_f32(k->hx, k->hxf, k->nx);
    if (gemm) {
        const double wa = 2.0 / (127.0 * sqrt((double)s->I));
        for (size_t e = 0; e < k->nw; e++) k->hw[e] = (int8_t)rand_int(&st, -127, 127);
        for (int o = 0; o < s->O; o++) k->hws[o] = (float)(uzwk_rand_uniform(&st, 0.5, 1.5) * wa);
        if (gemm_out_new(c, &k->y, s->N, s->O, s->O + s->ypad, 0, s->epi, s->has_bias, &st, "qgemm check")) {
            qcase_free(k);
            return -1;
        }
    }
    k->dx = (uzwk_f16 *)uzwk_malloc(c, k->nx * sizeof(uzwk_f16));
    if (!k->dx || uzwk_h2d(c, k->dx, k->hx, k->nx * sizeof(uzwk_f16))) {
        qcase_free(k);
        return -1;
    }
    if (gemm) {
        k->dw = (int8_t *)uzwk_malloc(c, k->nw);
        k->dws = (float *)uzwk_malloc(c, (size_t)s->O * sizeof(float));
        if (!k->dw || !k->dws || uzwk_h2d(c, k->dw, k->hw, k->nw) ||
            uzwk_h2d(c, k->dws, k->hws, (size_t)s->O * sizeof(float)) || gemm_out_upload(c, &k->y)) {
            qcase_free(k);
            return -1;
        }
    }
    return 0;
}

/* Which product a gemm entry runs. */
enum { QK_W8A16, QK_W8A8 };

/* The product under test (W8A8: quantise x into xq/xs first, as the engine does). */
static int qcase_run(uzwk_ctx *c, const qcase *k, int kind, int variant, void *y, int8_t *xq, float *xs) {
    const qshape *s = &k->s;
    const float *bias = gemm_out_bias(&k->y);
    if (kind == QK_W8A16)
        return uzwk_gemm_w8a16(c, k->dx, k->ldx, k->dw, k->ldw, k->dws, bias, y, k->y.ldy, s->N, s->I, s->O,
                               (uzwk_epi)s->epi, variant);
    if (uzwk_quantize_rows(c, k->dx, k->ldx, xq, k->ldq, xs, s->N, s->I)) return -1;
    return uzwk_gemm_w8a8(c, xq, k->ldq, xs, k->dw, k->ldw, k->dws, bias, y, k->y.ldy, s->N, s->I, s->O,
                          (uzwk_epi)s->epi, variant);
}

/* Calls that each break one rule must fail (-1) before launching anything; returns how many did
 * not, naming the first in what. Only rules whose wrongful acceptance cannot fault are probed:
 * each probe, if it did launch, would read inside the inputs and write inside y / xq. */
static long bad_args_accepted(uzwk_ctx *c, const qcase *k, int kind, void *y, int8_t *xq, float *xs, char *what,
                              size_t what_size) {
    const qshape *s = &k->s;
    long accepted = 0;
    if (kind < 0) { /* quantize_rows */
        if (uzwk_quantize_rows(c, k->dx, k->ldx, xq, k->ldq, xs, s->N, s->I - 8) != -1) {
            if (!accepted++) snprintf(what, what_size, "quantize_rows accepted I %% 16 != 0");
        }
        if (uzwk_quantize_rows(c, k->dx, k->ldx, xq, k->ldq, xs, 0, s->I) != -1) {
            if (!accepted++) snprintf(what, what_size, "quantize_rows accepted N = 0");
        }
        return accepted;
    }
    const int nvar = kind == QK_W8A16 ? UZWK_QGEMM_W8A16_VARIANTS : UZWK_QGEMM_W8A8_VARIANTS;
    const struct {
        int N, I, variant;
        const char *rule;
    } probe[] = {
        {s->N, s->I, -1, "variant -1"},
        {s->N, s->I, nvar, "a variant past the table"},
        {s->N, s->I - 8, 0, "I % 16 != 0"},
        {0, s->I, 0, "N = 0"},
    };
    for (int p = 0; p < COUNT(probe); p++) {
        int rc;
        if (kind == QK_W8A16)
            rc = uzwk_gemm_w8a16(c, k->dx, k->ldx, k->dw, k->ldw, k->dws, NULL, y, k->y.ldy, probe[p].N, probe[p].I,
                                 s->O, (uzwk_epi)s->epi, probe[p].variant);
        else
            rc = uzwk_gemm_w8a8(c, xq, k->ldq, xs, k->dw, k->ldw, k->dws, NULL, y, k->y.ldy, probe[p].N, probe[p].I,
                                s->O, (uzwk_epi)s->epi, probe[p].variant);
        if (rc != -1 && !accepted++) snprintf(what, what_size, "accepted %s", probe[p].rule);
    }
    return accepted;
}

/* gemm_out_at, gemm_pick (the sampled rows and columns): check_gemm_common.cuh */

/* Compare the device quantisation (hq [N, ldq], hs [N]) with uzw_quantize_row on every row:
 * returns the number of differing values (xq bytes and xscale bits), the first in what; columns
 * I .. ldq-1 of hq must still hold the poison (counted into *stray). */
static long quant_mismatches(const qcase *k, const int8_t *hq, const float *hs, long *stray, char *what,
                             size_t what_size, int *fail) {
    const qshape *s = &k->s;
    uint8_t *qx = (uint8_t *)malloc((size_t)s->I);
    long bad = 0;
    *fail = 0;
    if (!qx) {
        *fail = 1;
        return 0;
    }
    for (int n = 0; n < s->N; n++) {
        const float sc = uzw_quantize_row(k->hxf + (size_t)n * k->ldx, s->I, qx, 0);
        const int8_t *row = hq + (size_t)n * k->ldq;
        for (int i = 0; i < s->I; i++)
            if (row[i] != (int8_t)qx[i] && !bad++)
                snprintf(what, what_size, "xq[%d, %d] = %d, uzw_quantize_row %d", n, i, row[i], (int8_t)qx[i]);
        for (int i = s->I; i < k->ldq; i++) *stray += (uint8_t)row[i] != QG_XQ_POISON;
        if (memcmp(&hs[n], &sc, sizeof sc) != 0 && !bad++)
            snprintf(what, what_size, "xscale[%d] = %.9g, uzw_quantize_row %.9g", n, (double)hs[n], (double)sc);
    }
    free(qx);
    return bad;
}

/* ---------------------------------------------------------------- gemm checks */

static int check_qgemm_common(uzwk_ctx *c, const char *shape, int kind, int variant, uint64_t seed,
                              uzwk_check_result *r) {
    qcase k;
    uzwk_guarded out, gq, gs;
    gemm_sample smp;
    unsigned char *hout = NULL;
    int8_t *hq = NULL, *qsel = NULL;
    float *hs = NULL, *xs = NULL, *ssel = NULL, *bsel = NULL, *yref = NULL, *outs = NULL;
    double *ref = NULL;
    char bad_what[120] = "", q_what[120] = "";
    long accepted = 0, qbad = 0;
    int rc = -1;
    memset(&out, 0, sizeof out);
    memset(&gq, 0, sizeof gq);
    memset(&gs, 0, sizeof gs);
    memset(&smp, 0, sizeof smp);
    memset(r, 0, sizeof *r);
    if (qcase_new(c, shape, 1, seed, &k)) return -1;
    const qshape *s = &k.s;
    const gemm_out *y = &k.y;
    const size_t qbytes = (size_t)s->N * k.ldq;
    if (gemm_out_guarded(c, y, &out)) goto done;
    if (kind == QK_W8A8) {
        if (uzwk_guarded_new(c, &gq, qbytes) || uzwk_memset(c, gq.p, QG_XQ_POISON, qbytes) ||
            uzwk_guarded_new(c, &gs, (size_t)s->N * sizeof(float)))
            goto done;
    }
    accepted = bad_args_accepted(c, &k, kind, out.p, (int8_t *)gq.p, (float *)gs.p, bad_what, sizeof bad_what);
    if (qcase_run(c, &k, kind, variant, out.p, (int8_t *)gq.p, (float *)gs.p)) goto done;
    hout = (unsigned char *)malloc(y->ny * y->esize);
    if (!hout) {
        uzwk_fail(c, "qgemm check: out of host memory");
        goto done;
    }
    if (uzwk_guarded_fetch(c, &out, hout, &r->guard_bad)) goto done;
    {
        long stray = 0;
        if (kind == QK_W8A8) {
            int fail = 0;
            hq = (int8_t *)malloc(qbytes);
            hs = (float *)malloc((size_t)s->N * sizeof(float));
            if (!hq || !hs) {
                uzwk_fail(c, "qgemm check: out of host memory");
                goto done;
            }
            if (uzwk_guarded_fetch(c, &gq, hq, &r->guard_bad) || uzwk_guarded_fetch(c, &gs, hs, &r->guard_bad))
                goto done;
            qbad = quant_mismatches(&k, hq, hs, &stray, q_what, sizeof q_what, &fail);
            if (fail) {
                uzwk_fail(c, "qgemm check: out of host memory");
                goto done;
            }
        }
        r->guard_bad += stray + gemm_out_stray(y, hout);
        const long nonfinite = gemm_out_nonfinite(y, hout);

        /* the compared set and its reference (the engine's, on just the picked rows of x and W) */
        if (gemm_sample_new(c, &smp, s->N, s->I, s->O, seed, "qgemm check")) goto done;
        const int nr = smp.nr, nc = smp.nc;
        const size_t I = (size_t)s->I;
        xs = (float *)malloc((size_t)nr * I * sizeof(float));
        qsel = (int8_t *)malloc((size_t)nc * I);
        ssel = (float *)malloc((size_t)nc * sizeof(float));
        bsel = (float *)malloc((size_t)nc * sizeof(float));
        yref = (float *)malloc((size_t)nr * nc * sizeof(float));
        outs = (float *)malloc((size_t)nr * nc * sizeof(float));
        ref = (double *)malloc((size_t)nr * nc * sizeof(double));
        if (!xs || !qsel || !ssel || !bsel || !yref || !outs || !ref) {
            uzwk_fail(c, "qgemm check: out of host memory");
            goto done;
        }
        for (int i = 0; i < nr; i++) memcpy(xs + i * I, k.hxf + (size_t)smp.rows[i] * k.ldx, I * sizeof(float));
        for (int j = 0; j < nc; j++) {
            memcpy(qsel + j * I, k.hw + (size_t)smp.cols[j] * k.ldw, I);
            ssel[j] = k.hws[smp.cols[j]];
            bsel[j] = y->hb[smp.cols[j]];
        }
        for (size_t e = 0; e < (size_t)nr * nc; e++) yref[e] = NAN; /* a reference that fails to run shows */
        if (kind == QK_W8A16)
            uzw_matmul_w8a16_ref(xs, qsel, ssel, s->has_bias ? bsel : NULL, yref, nr, s->I, nc);
        else
            uzw_matmul_w8a8_ref(xs, qsel, ssel, s->has_bias ? bsel : NULL, yref, nr, s->I, nc);
        for (int i = 0; i < nr; i++)
            for (int j = 0; j < nc; j++) {
                const size_t yi = (size_t)smp.rows[i] * y->ldy + smp.cols[j];
                ref[(size_t)i * nc + j] = gemm_out_ref(y, (double)yref[(size_t)i * nc + j], yi);
                outs[(size_t)i * nc + j] = gemm_out_at(y, hout, yi);
            }
        const double tol = y->esize == 2 ? UZWK_TOL_F16 : kind == QK_W8A16 ? QG_TOL_W8A16_F32 : UZWK_TOL_F32;
        gemm_compare(y, &smp, outs, ref, tol, nonfinite, r);
        /* failures that outrank the comparison's detail: a wrong quantisation, then accepted bad calls */
        if (qbad) {
            r->pass = 0;
            snprintf(r->detail, sizeof r->detail, "quantisation not exact: %ld values differ, first %s", qbad, q_what);
        }
        if (accepted) {
            r->pass = 0;
            snprintf(r->detail, sizeof r->detail, "bad arguments: %s (%ld probes)", bad_what, accepted);
        }
    }
    rc = 0;
done:
    free(hout);
    free(hq);
    free(hs);
    free(xs);
    free(qsel);
    free(ssel);
    free(bsel);
    free(yref);
    free(outs);
    free(ref);
    gemm_sample_free(&smp);
    uzwk_guarded_free(&out);
    uzwk_guarded_free(&gq);
    uzwk_guarded_free(&gs);
    qcase_free(&k);
    return rc;
}

/* ---------------------------------------------------------------- gemm benchmarks */

typedef struct {
    const qcase *k;
    int kind;    /* QK_W8A16, QK_W8A8 */
    int variant;
    void *y;     /* dev [N, ldy] */
    int8_t *xq;  /* dev [N, ldq] (W8A8) */
    float *xs;   /* dev [N] (W8A8) */
    const uzwk_f16 *w16; /* dev [O, ldw]: the peer's fp16 W, or NULL to time ours */
} qbench_arg;

static int qbench_fn(uzwk_ctx *c, void *p) {
    const qbench_arg *a = (const qbench_arg *)p;
    const qcase *k = a->k;
    const qshape *s = &k->s;
    if (a->w16)
        return uzwk_gemm(c, k->dx, k->ldx, a->w16, k->ldw, gemm_out_bias(&k->y), a->y, k->y.ldy, s->N, s->I, s->O,
                         (uzwk_epi)s->epi, UZWK_GEMM_AUTO, 0);
    return qcase_run(c, k, a->kind, a->variant, a->y, a->xq, a->xs);
}

static int bench_qgemm_common(uzwk_ctx *c, const char *shape, int kind, int variant, int reps, uzwk_bench_result *r) {
    qcase k;
    memset(r, 0, sizeof *r);
    if (qcase_new(c, shape, 1, 12345, &k)) return -1;
    const qshape *s = &k.s;
    int rc = -1;
    uzwk_f16 *hw16 = NULL, *dw16 = NULL;
    int8_t *xq = NULL;
    float *xs = NULL;
    void *y = uzwk_malloc(c, k.y.ny * k.y.esize);
    if (!y || uzwk_memset(c, y, 0, k.y.ny * k.y.esize)) goto done;
    if (kind == QK_W8A8) {
        xq = (int8_t *)uzwk_malloc(c, (size_t)s->N * k.ldq);
        xs = (float *)uzwk_malloc(c, (size_t)s->N * sizeof(float));
        if (!xq || !xs) goto done;
    }
    {
        qbench_arg a = {&k, kind, variant, y, xq, xs, NULL};
        if (uzwk_time_median(c, qbench_fn, &a, reps, &r->ms)) goto done;
    }
    hw16 = (uzwk_f16 *)malloc(k.nw * sizeof(uzwk_f16));
    dw16 = (uzwk_f16 *)uzwk_malloc(c, k.nw * sizeof(uzwk_f16));
    if (!hw16) {
        uzwk_fail(c, "qgemm bench: out of host memory");
        goto done;
    }
    if (!dw16) goto done;
    for (int o = 0; o < s->O; o++)
        for (int i = 0; i < k.ldw; i++) {
            const size_t e = (size_t)o * k.ldw + i;
            hw16[e] = uzwk_f32_to_f16_host((float)k.hw[e] * k.hws[o]);
        }
    if (uzwk_h2d(c, dw16, hw16, k.nw * sizeof(uzwk_f16))) goto done;
    {
        qbench_arg p = {&k, kind, 0, y, xq, xs, dw16};
        if (uzwk_time_median(c, qbench_fn, &p, reps, &r->peer_ms)) goto done;
        snprintf(r->peer, sizeof r->peer, "fp16 uzwk_gemm AUTO");
    }
    r->bytes = 1.0 * s->O * s->I + 4.0 * s->O + 2.0 * s->N * s->I + gemm_y_traffic(s->epi) * s->N * s->O +
               (s->has_bias ? 4.0 * s->O : 0.0);
    r->flops = 2.0 * s->N * s->I * s->O;
    rc = 0;
done:
    free(hw16);
    uzwk_free(dw16);
    uzwk_free(xq);
    uzwk_free(xs);
    uzwk_free(y);
    qcase_free(&k);
    return rc;
}

/* ---------------------------------------------------------------- quantize_rows */

static int check_quant(uzwk_ctx *c, int shape, int variant, uint64_t seed, uzwk_check_result *r) {
    qcase k;
    uzwk_guarded gq, gs;
    int8_t *hq = NULL;
    float *hs = NULL, *outs = NULL;
    double *ref = NULL;
    uint8_t *qx = NULL;
    char bad_what[120] = "";
    int rc = -1;
    memset(&gq, 0, sizeof gq);
    memset(&gs, 0, sizeof gs);
    memset(r, 0, sizeof *r);
    if (shape < 0 || shape >= COUNT(k_quant_shapes)) return uzwk_fail(c, "quantize_rows: no shape %d", shape);
    if (variant != 0) return uzwk_fail(c, "quantize_rows: no variant %d", variant);
    if (qcase_new(c, k_quant_shapes[shape], 0, seed, &k)) return -1;
    const qshape *s = &k.s;
    const size_t qbytes = (size_t)s->N * k.ldq;
    const size_t n = (size_t)s->N * s->I + (size_t)s->N;
    if (uzwk_guarded_new(c, &gq, qbytes) || uzwk_memset(c, gq.p, QG_XQ_POISON, qbytes) ||
        uzwk_guarded_new(c, &gs, (size_t)s->N * sizeof(float)))
        goto done;
    {
        const long accepted = bad_args_accepted(c, &k, -1, NULL, (int8_t *)gq.p, (float *)gs.p, bad_what,
                                                sizeof bad_what);
        if (uzwk_quantize_rows(c, k.dx, k.ldx, (int8_t *)gq.p, k.ldq, (float *)gs.p, s->N, s->I)) goto done;
        hq = (int8_t *)malloc(qbytes);
        hs = (float *)malloc((size_t)s->N * sizeof(float));
        outs = (float *)malloc(n * sizeof(float));
        ref = (double *)malloc(n * sizeof(double));
        qx = (uint8_t *)malloc((size_t)s->I);
        if (!hq || !hs || !outs || !ref || !qx) {
            uzwk_fail(c, "quantize_rows check: out of host memory");
            goto done;
        }
        if (uzwk_guarded_fetch(c, &gq, hq, &r->guard_bad) || uzwk_guarded_fetch(c, &gs, hs, &r->guard_bad)) goto done;
        long stray = 0;
        size_t e = 0;
        for (int row = 0; row < s->N; row++) {
            const float sc = uzw_quantize_row(k.hxf + (size_t)row * k.ldx, s->I, qx, 0);
            const int8_t *q = hq + (size_t)row * k.ldq;
            for (int i = 0; i < s->I; i++, e++) {
                outs[e] = (float)q[i];
                ref[e] = (double)(int8_t)qx[i];
            }
            for (int i = s->I; i < k.ldq; i++) stray += (uint8_t)q[i] != QG_XQ_POISON;
            outs[e] = hs[row]; /* value equality is bit equality here: the reference is never -0 or NaN */
            ref[e] = (double)sc;
            e++;
        }
        r->guard_bad += stray;
        /* exact: tolerance 0 (atol = rtol = 0); the poison (xq -128, xscale NaN) never matches */
        uzwk_compare(outs, ref, n, 0.0, "xq+xscale", r);
        if (accepted) {
            r->pass = 0;
            snprintf(r->detail, sizeof r->detail, "bad arguments: %s (%ld probes)", bad_what, accepted);
        }
    }
    rc = 0;
done:
    free(hq);
    free(hs);
    free(outs);
    free(ref);
    free(qx);
    uzwk_guarded_free(&gq);
    uzwk_guarded_free(&gs);
    qcase_free(&k);
    return rc;
}

typedef struct {
    const qcase *k;
    int8_t *xq; /* dev [N, ldq] */
    float *xs;  /* dev [N] */
} quant_bench_arg;

static int quant_bench_fn(uzwk_ctx *c, void *p) {
    const quant_bench_arg *a = (const quant_bench_arg *)p;
    return uzwk_quantize_rows(c, a->k->dx, a->k->ldx, a->xq, a->k->ldq, a->xs, a->k->s.N, a->k->s.I);
}

static int bench_quant(uzwk_ctx *c, int shape, int variant, int reps, uzwk_bench_result *r) {
    qcase k;
    memset(r, 0, sizeof *r);
    if (shape < 0 || shape >= COUNT(k_quant_shapes)) return uzwk_fail(c, "quantize_rows: no shape %d", shape);
    if (variant != 0) return uzwk_fail(c, "quantize_rows: no variant %d", variant);
    if (qcase_new(c, k_quant_shapes[shape], 0, 777, &k)) return -1;
    const qshape *s = &k.s;
    int rc = -1;
    int8_t *xq = (int8_t *)uzwk_malloc(c, (size_t)s->N * k.ldq);
    float *xs = (float *)uzwk_malloc(c, (size_t)s->N * sizeof(float));
    if (xq && xs) {
        quant_bench_arg a = {&k, xq, xs};
        if (uzwk_time_median(c, quant_bench_fn, &a, reps, &r->ms) == 0) {
            r->bytes = 2.0 * s->N * s->I + 1.0 * s->N * s->I + 4.0 * s->N;
            r->flops = 0.0;
            rc = 0;
        }
    }
    uzwk_free(xq);
    uzwk_free(xs);
    qcase_free(&k);
    return rc;
}

/* ---------------------------------------------------------------- entry points */

typedef struct {
    const char *name;
    const char *const *shapes;
    int n_shapes;
    int kind;  /* QK_W8A16, QK_W8A8 */
    int n_max; /* W8A16: the entry's path (skinny N <= 32, TC N > 32); -1 any N */
} qgemm_entry;
enum { E_SKINNY, E_TC, E_W8A8 };
static const qgemm_entry k_entries[] = {
    {"qgemm_w8a16_skinny", k_skinny_shapes, COUNT(k_skinny_shapes), QK_W8A16, 32},
    {"qgemm_w8a16_tc", k_tc_shapes, COUNT(k_tc_shapes), QK_W8A16, 0},
    {"qgemm_w8a8", k_w8a8_shapes, COUNT(k_w8a8_shapes), QK_W8A8, -1},
};

/* The shape string of entry e, or NULL with a message (no such shape, or a shape listed under the
 * wrong W8A16 path: uzwk_gemm_w8a16 picks the path from N). */
static const char *entry_shape(uzwk_ctx *c, const qgemm_entry *e, int shape) {
    const char *s = gemm_entry_shape(c, e->name, e->shapes, e->n_shapes, shape);
    int N = 0;
    if (s && e->n_max >= 0 && sscanf(s, "N=%d", &N) == 1 && ((e->n_max == 32) != (N <= 32))) {
        uzwk_fail(c, "%s: shape '%s' runs on the other W8A16 path (skinny: N <= 32)", e->name, s);
        return NULL;
    }
    return s;
}

template <int E>
static int check_entry(uzwk_ctx *c, int shape, int variant, uint64_t seed, uzwk_check_result *r) {
    const char *s = entry_shape(c, &k_entries[E], shape);
    return s ? check_qgemm_common(c, s, k_entries[E].kind, variant, seed, r) : -1;
}
template <int E>
static int bench_entry(uzwk_ctx *c, int shape, int variant, int reps, uzwk_bench_result *r) {
    const char *s = entry_shape(c, &k_entries[E], shape);
    return s ? bench_qgemm_common(c, s, k_entries[E].kind, variant, reps, r) : -1;
}

/* ---------------------------------------------------------------- the table */

extern "C" const uzwk_op uzwk_ops_qgemm[] = {
    {"qgemm_w8a16_skinny", "qgemm_w8a16", "f16 x, int8 W + f32 row scale; fp32 acc; f16/f32 y",
     COUNT(k_skinny_shapes), k_skinny_shapes, COUNT(k_skinny_variants), k_skinny_variants, check_entry<E_SKINNY>,
     bench_entry<E_SKINNY>},
    {"qgemm_w8a16_tc", "qgemm_w8a16", "f16 x, int8 W + f32 row scale; fp32 acc; f16/f32 y", COUNT(k_tc_shapes),
     k_tc_shapes, COUNT(k_tc_variants), k_tc_variants, check_entry<E_TC>, bench_entry<E_TC>},
    {"qgemm_w8a8", "qgemm_w8a8", "f16 x -> int8 rows + scale, int8 W + scale; int32 acc; f16/f32 y",
     COUNT(k_w8a8_shapes), k_w8a8_shapes, COUNT(k_w8a8_variants), k_w8a8_variants, check_entry<E_W8A8>,
     bench_entry<E_W8A8>},
    {"quantize_rows", "quant_rows", "f16 in; int8 [N, I] + f32 row scale out (exact)", COUNT(k_quant_shapes),
     k_quant_shapes, COUNT(k_quant_variants), k_quant_variants, check_quant, bench_quant},
};
extern "C" const int uzwk_n_ops_qgemm = (int)(sizeof uzwk_ops_qgemm / sizeof uzwk_ops_qgemm[0]);
