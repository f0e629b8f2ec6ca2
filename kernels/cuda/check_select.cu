// check_select.cu - registry entries of the select family (select.cu): "select" (the logit rules,
// log-softmax and top-k) checked against the engine's own CPU path, uzw_apply_filters and
// uzw_logsumexp (engine/decode/logit_filters.c), on a host uzw_model that carries only what those
// read (n_vocab, special ids, suppress lists); and "greedy_commit" against plain loops.
//
// Every select check runs several launches so that each shape, B = 1 included, sees every
// history scenario (first step, after a timestamp pair, after text + timestamp, monotonic
// constraint with a late timestamp, timestamps' mass winning and losing, dead rows, fewer finite
// entries than k, exact ties) under three rule settings (SuppressBlank on/off,
// max_initial_timestamp_index 50 / -1).
//
// Pass criteria (select): ids exactly equal (ties go to the lower id on both sides); the filtered
// logits bitwise equal to the CPU's (an entry is either the untouched input or -inf); the padding
// of each row (ldl > V) untouched; -inf log-probabilities exactly where the CPU has none; finite
// ones within |d| <= 2e-5 + 2e-6 |ref|. The kernel's log-softmax is fp32: (x - M) - log(S) with S
// a sum of up to 51866 exponentials, whose rounding is a few 1e-6 absolute in log(S); the CPU's is
// double. A fixed absolute bound is used because a dominant token has log-probability ~0, where a
// relative bound means nothing; any wrong normaliser (a rule not applied to the sum, a -inf entry
// counted) is off by far more than 2e-5. rel_err is reported over the finite log-probabilities.
//
// The timestamp-mass rule is decided in fp32 on the device and in double on the CPU. A row whose
// decision would change when every timestamp logit moves by +-1e-4 (i.e. its margin
// logsumexp(ts) - max_text is within ~1e-4 of zero) is redrawn before the run; the number of
// redrawn rows is written in the detail ("redrawn N").
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "k_select.h"

extern "C" {
#include "model/model.h"
#include "decode/search.h"
}

/* ---------------------------------------------------------------- Whisper's vocabularies */

/* Multilingual non-speech tokens (OAI tokenizer.non_speech_tokens; facts sheet section 4.4). */
static const int32_t k_non_speech[82] = {
    1,     2,     7,     8,     9,     10,    14,    25,    26,    27,    28,    29,    31,    58,
    59,    60,    61,    62,    63,    90,    91,    92,    93,    359,   503,   522,   542,   873,
    893,   902,   918,   922,   931,   1350,  1853,  1982,  2460,  2627,  3246,  3253,  3268,  3536,
    3846,  3961,  4183,  4667,  6585,  6647,  7273,  9061,  9383,  10428, 10929, 11938, 12033, 12331,
    12562, 13793, 14157, 14635, 15265, 15618, 16553, 16604, 18362, 18956, 20075, 21675, 22520, 26130,
    26161, 26435, 28279, 29464, 31650, 32302, 32470, 36865, 42863, 47425, 49870, 50254};

typedef struct {
    int V, eot, sot, no_timestamps, timestamp_begin;
    int32_t specials[6]; /* appended to the non-speech list: the full OAI suppress set (88 ids) */
} sel_vocab;

/* v1/v2 multilingual (V = 51865) and large-v3 / turbo (V = 51866). */
static const sel_vocab k_vocab_v2 = {51865, 50257, 50258, 50363, 50364, {50258, 50358, 50359, 50360, 50361, 50362}};
static const sel_vocab k_vocab_v3 = {51866, 50257, 50258, 50364, 50365, {50258, 50359, 50360, 50361, 50362, 50363}};

#define SEL_N_SUPPRESS 88
#define SEL_LDH 448 /* T: the history row length */

/* The host model uzw_apply_filters reads, with its lists (owned by the caller). */
typedef struct {
    uzw_model m;
    int32_t suppress[SEL_N_SUPPRESS];
    int32_t suppress_begin[2];
} sel_host_model;

static void sel_model_init(sel_host_model *hm, const sel_vocab *vc) {
    memset(hm, 0, sizeof *hm);
    memcpy(hm->suppress, k_non_speech, sizeof k_non_speech);
    for (int i = 0; i < 6; i++) hm->suppress[82 + i] = vc->specials[i];
    hm->suppress_begin[0] = 220; /* " " */
    hm->suppress_begin[1] = vc->eot;
    hm->m.dims.n_vocab = vc->V;
    hm->m.sp.eot = vc->eot;
    hm->m.sp.sot = vc->sot;
    hm->m.sp.no_timestamps = vc->no_timestamps;
    hm->m.sp.timestamp_begin = vc->timestamp_begin;
    hm->m.suppress = hm->suppress;
    hm->m.n_suppress = SEL_N_SUPPRESS;
    hm->m.suppress_begin = hm->suppress_begin;
    hm->m.n_suppress_begin = 2;
}

static int sel_is_suppressed(const sel_host_model *hm, int id) {
    for (int i = 0; i < SEL_N_SUPPRESS; i++)
        if (hm->suppress[i] == id) return 1;
    return id == 220;
}

/* ---------------------------------------------------------------- shapes and variants */

typedef struct {
    int B, V, k, ldl, apply_rules, timestamps;
} sel_shape;

static const sel_shape k_sel_shapes[] = {
    {1, 51865, 1, 51865, 1, 1},  {1, 51865, 5, 51865, 1, 1},  {5, 51865, 5, 51872, 1, 1},
    {8, 51865, 1, 51865, 1, 1},  {32, 51865, 1, 51865, 1, 1}, {32, 51865, 5, 51865, 1, 1},
    {5, 51866, 10, 51866, 1, 1}, {7, 51865, 64, 51871, 1, 1}, {5, 51865, 5, 51865, 1, 0},
    {5, 51865, 5, 51865, 0, 1},
};
static const char *const k_sel_shape_names[] = {
    "B=1 V=51865 k=1",
    "B=1 V=51865 k=5",
    "B=5 V=51865 k=5 ldl=51872",
    "B=8 V=51865 k=1",
    "B=32 V=51865 k=1",
    "B=32 V=51865 k=5",
    "B=5 V=51866 k=10 (large-v3 ids)",
    "B=7 V=51865 k=64 ldl=51871",
    "B=5 V=51865 k=5 timestamps off",
    "B=5 V=51865 k=5 rules off",
};
#define SEL_N_SHAPES (int)(sizeof k_sel_shapes / sizeof k_sel_shapes[0])
static const char *const k_sel_variants[] = {"1024 threads per sequence", "512 threads per sequence"};

/* Rule settings each check runs under: {suppress_blank, max_initial_timestamp_index}. */
static const int k_sel_cfg[3][2] = {{1, 50}, {1, -1}, {0, 50}};

/* ---------------------------------------------------------------- random rows */

enum {
    SC_FIRST,          /* n = 0                                                     */
    SC_FIRST_DEAD,     /* n = 0 with every timestamp logit -inf: nothing survives   */
    SC_AFTER_PAIR,     /* ... text, ts, ts: no timestamp allowed                    */
    SC_SINGLE_TS,      /* n = 1, a timestamp: counts as a pair                      */
    SC_TEXT_TS,        /* ... text, ts: text suppressed, ts >= last allowed         */
    SC_TEXT_TS_END,    /* ... text, ts = V-1: only V-1 among the timestamps         */
    SC_LATE_TS_MASS,   /* text ending, last ts late (V-101), boosted timestamps     */
    SC_LAST_TS_MAX,    /* text ending, last ts = V-1: every timestamp suppressed    */
    SC_MASS_WIN,       /* text only, timestamps boosted: their mass wins            */
    SC_MASS_LOSE,      /* text only, one huge text logit: the mass loses            */
    SC_PLAIN,          /* text only, plain logits                                   */
    SC_FEW,            /* three finite entries (fewer than k)                       */
    SC_TIES,           /* exact ties at the top                                     */
    SC_COUNT
};

static int sel_rand_int(uint64_t *st, int lo, int hi) { /* [lo, hi) */
    int v = lo + (int)floor(uzwk_rand_uniform(st, 0.0, (double)(hi - lo)));
    return v < hi ? v : hi - 1;
}

static float sel_gauss(uint64_t *st) {
    double u1 = 1.0 - uzwk_rand_uniform(st, 0.0, 1.0), u2 = uzwk_rand_uniform(st, 0.0, 1.0);
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

/* A text id that is not suppressed. */
static int sel_free_text_id(uint64_t *st, const sel_host_model *hm) {
    for (;;) {
        int id = sel_rand_int(st, 0, hm->m.sp.eot);
        if (!sel_is_suppressed(hm, id)) return id;
    }
}

/* Draw row lg [V] and its history h [ldh] (n sampled tokens, then garbage) for scenario sc. */
static void sel_gen_row(uint64_t *st, const sel_host_model *hm, int sc, float *lg, int32_t *h, int ldh, int *n_out) {
    const int V = hm->m.dims.n_vocab, TB = hm->m.sp.timestamp_begin, EOT = hm->m.sp.eot;
    /* logits: normal with sd 3, and a few large values */
    for (int j = 0; j < V; j++) lg[j] = 3.0f * sel_gauss(st);
    for (int i = 0; i < 6; i++) lg[sel_rand_int(st, 0, V)] = (float)uzwk_rand_uniform(st, 8.0, 14.0);
    /* garbage after the history: a kernel reading past n would see timestamps and text */
    for (int i = 0; i < ldh; i++)
        h[i] = uzwk_rand_uniform(st, 0.0, 1.0) < 0.5 ? sel_rand_int(st, TB, V) : sel_rand_int(st, 0, EOT);

    int n = sel_rand_int(st, 3, 300);
    if (n > ldh) n = ldh;
    /* default history: text with one early timestamp pair at the start (0, 1) */
    h[0] = TB;
    h[1] = TB + sel_rand_int(st, 1, 40);
    for (int i = 2; i < n; i++) h[i] = sel_rand_int(st, 0, EOT);
    int text_only = 0;
    switch (sc) {
    case SC_FIRST: n = 0; break;
    case SC_FIRST_DEAD:
        n = 0;
        for (int j = TB; j < V; j++) lg[j] = -INFINITY;
        break;
    case SC_AFTER_PAIR: {
        int a = TB + sel_rand_int(st, 50, 900);
        h[n - 2] = a;
        h[n - 1] = a + sel_rand_int(st, 0, 200);
        break;
    }
    case SC_SINGLE_TS:
        n = 1;
        h[0] = TB + sel_rand_int(st, 0, 100);
        break;
    case SC_TEXT_TS:
        h[n - 2] = sel_rand_int(st, 0, EOT);
        h[n - 1] = TB + sel_rand_int(st, 200, 1200);
        break;
    case SC_TEXT_TS_END:
        h[n - 2] = sel_rand_int(st, 0, EOT);
        h[n - 1] = V - 1;
        break;
    case SC_LATE_TS_MASS:
        h[n / 2] = V - 101;
        for (int j = TB; j < V; j++) lg[j] += 6.0f;
        break;
    case SC_LAST_TS_MAX: h[n / 2] = V - 1; break;
    case SC_MASS_WIN:
        text_only = 1;
        for (int j = TB; j < V; j++) lg[j] += 5.0f;
        break;
    case SC_MASS_LOSE:
        text_only = 1;
        lg[sel_free_text_id(st, hm)] = 25.0f;
        break;
    case SC_PLAIN: text_only = 1; break;
    case SC_FEW: {
        text_only = 1;
        for (int j = 0; j < V; j++) lg[j] = -INFINITY;
        for (int i = 0; i < 3; i++) lg[sel_free_text_id(st, hm)] = 2.0f * sel_gauss(st);
        break;
    }
    case SC_TIES: {
        float mx = -INFINITY;
        for (int j = 0; j < V; j++) mx = lg[j] > mx ? lg[j] : mx;
        for (int i = 0; i < 4; i++) lg[sel_free_text_id(st, hm)] = mx + 1.0f;
        /* three tied ids 1024 apart: owned by one thread at 1024 and at 512 threads per row */
        for (;;) {
            int x = sel_rand_int(st, 0, EOT - 2048);
            if (sel_is_suppressed(hm, x) || sel_is_suppressed(hm, x + 1024) || sel_is_suppressed(hm, x + 2048)) continue;
            lg[x] = lg[x + 1024] = lg[x + 2048] = mx + 1.0f;
            break;
        }
        for (int i = 0; i < 3; i++) lg[sel_free_text_id(st, hm)] = mx + 0.5f;
        /* half the rows: two timestamps tie at the top too (their mass then wins, and the tie
         * between them decides); the other half: text ties only */
        if (uzwk_rand_uniform(st, 0.0, 1.0) < 0.5)
            for (int i = 0; i < 2; i++) lg[sel_rand_int(st, TB + 50, V)] = mx + 1.0f;
        break;
    }
    default: break;
    }
    if (text_only)
        for (int i = 0; i < n; i++) h[i] = sel_rand_int(st, 0, EOT);
    *n_out = n;
}

/* 1 if the timestamp-mass decision of uzw_apply_filters changes when every timestamp logit moves
 * by +-1e-4 (the row sits within ~1e-4 of the boundary). tmp [V] is scratch. */
static int sel_near_boundary(const sel_host_model *hm, const uzw_filter_opts *fo, const int32_t *h, int n,
                             const float *lg, float *tmp) {
    const int V = hm->m.dims.n_vocab, TB = hm->m.sp.timestamp_begin;
    long finite_text[2];
    for (int s = 0; s < 2; s++) {
        memcpy(tmp, lg, sizeof(float) * (size_t)V);
        for (int j = TB; j < V; j++) tmp[j] += s ? -1e-4f : 1e-4f;
        uzw_apply_filters(&hm->m, fo, h, n, tmp);
        long cnt = 0;
        for (int j = 0; j < TB; j++) cnt += tmp[j] != -INFINITY;
        finite_text[s] = cnt;
    }
    return finite_text[0] != finite_text[1];
}

/* The CPU path: rules (uzw_apply_filters) on lg in place, then the k best by (value desc, id asc)
 * and their log-softmax from uzw_logsumexp, as search.c computes it. */
static void sel_reference(const sel_host_model *hm, const uzw_filter_opts *fo, int apply, const int32_t *h, int n,
                          float *lg, int k, int32_t *ids, double *lps, float *best_v) {
    const int V = hm->m.dims.n_vocab;
    if (apply) uzw_apply_filters(&hm->m, fo, h, n, lg);
    int cnt = 0;
    for (int j = 0; j < V; j++) {
        float s = lg[j];
        if (!(s > -INFINITY)) continue;
        if (cnt == k && s <= best_v[k - 1]) continue;
        int pos = cnt < k ? cnt++ : k - 1;
        while (pos > 0 && best_v[pos - 1] < s) {
            best_v[pos] = best_v[pos - 1];
            ids[pos] = ids[pos - 1];
            pos--;
        }
        best_v[pos] = s;
        ids[pos] = j;
    }
    float mx;
    double lse = uzw_logsumexp(lg, V, &mx);
    for (int i = 0; i < k; i++) {
        if (i < cnt) {
            lps[i] = (double)lg[ids[i]] - mx - lse;
        } else {
            ids[i] = -1;
            lps[i] = -INFINITY;
        }
    }
}

/* ---------------------------------------------------------------- select: check */

#define SEL_PAD_VALUE 1234.5f /* in the row padding: would win every selection if it were read */
#define SEL_ID_POISON 0x5A5A5A5A
#define SEL_LP_ATOL 2e-5
#define SEL_LP_RTOL 2e-6

typedef struct {
    float *lg_in, *lg_ref, *lg_out, *lp_out, *tmp, *best_v; /* host */
    int32_t *h, *nh, *id_ref, *id_out, *id_poison;
    double *lp_ref;
    int32_t *d_h, *d_nh, *d_sup, *d_sup_begin; /* dev */
    uzwk_guarded g_lg, g_id, g_lp;
} sel_bufs;

static void sel_bufs_free(sel_bufs *s) {
    free(s->lg_in); free(s->lg_ref); free(s->lg_out); free(s->lp_out); free(s->tmp); free(s->best_v);
    free(s->h); free(s->nh); free(s->id_ref); free(s->id_out); free(s->id_poison); free(s->lp_ref);
    uzwk_free(s->d_h); uzwk_free(s->d_nh); uzwk_free(s->d_sup); uzwk_free(s->d_sup_begin);
    uzwk_guarded_free(&s->g_lg); uzwk_guarded_free(&s->g_id); uzwk_guarded_free(&s->g_lp);
}

static int sel_bufs_new(uzwk_ctx *c, sel_bufs *s, const sel_shape *sh, const sel_host_model *hm) {
    const size_t B = (size_t)sh->B, V = (size_t)sh->V, k = (size_t)sh->k, L = (size_t)sh->ldl;
    memset(s, 0, sizeof *s);
    s->lg_in = (float *)malloc(sizeof(float) * B * L);
    s->lg_ref = (float *)malloc(sizeof(float) * B * V);
    s->lg_out = (float *)malloc(sizeof(float) * B * L);
    s->lp_out = (float *)malloc(sizeof(float) * B * k);
    s->tmp = (float *)malloc(sizeof(float) * V);
    s->best_v = (float *)malloc(sizeof(float) * k);
    s->h = (int32_t *)malloc(sizeof(int32_t) * B * SEL_LDH);
    s->nh = (int32_t *)malloc(sizeof(int32_t) * B);
    s->id_ref = (int32_t *)malloc(sizeof(int32_t) * B * k);
    s->id_out = (int32_t *)malloc(sizeof(int32_t) * B * k);
    s->id_poison = (int32_t *)malloc(sizeof(int32_t) * B * k);
    s->lp_ref = (double *)malloc(sizeof(double) * B * k);
    if (!s->lg_in || !s->lg_ref || !s->lg_out || !s->lp_out || !s->tmp || !s->best_v || !s->h || !s->nh ||
        !s->id_ref || !s->id_out || !s->id_poison || !s->lp_ref)
        return uzwk_fail(c, "check select: out of host memory");
    for (size_t i = 0; i < B * k; i++) s->id_poison[i] = SEL_ID_POISON;
    s->d_h = (int32_t *)uzwk_malloc(c, sizeof(int32_t) * B * SEL_LDH);
    s->d_nh = (int32_t *)uzwk_malloc(c, sizeof(int32_t) * B);
    s->d_sup = (int32_t *)uzwk_malloc(c, sizeof hm->suppress);
    s->d_sup_begin = (int32_t *)uzwk_malloc(c, sizeof hm->suppress_begin);
    if (!s->d_h || !s->d_nh || !s->d_sup || !s->d_sup_begin) return -1;
    if (uzwk_h2d(c, s->d_sup, hm->suppress, sizeof hm->suppress) ||
        uzwk_h2d(c, s->d_sup_begin, hm->suppress_begin, sizeof hm->suppress_begin))
        return -1;
    if (uzwk_guarded_new(c, &s->g_lg, sizeof(float) * B * L) || uzwk_guarded_new(c, &s->g_id, sizeof(int32_t) * B * k) ||
        uzwk_guarded_new(c, &s->g_lp, sizeof(float) * B * k))
        return -1;
    return 0;
}

static void sel_rules_init(uzwk_select_rules *r, const sel_shape *sh, const sel_host_model *hm, const sel_bufs *s,
                           const uzw_filter_opts *fo) {
    r->V = sh->V;
    r->eot = hm->m.sp.eot;
    r->no_timestamps = hm->m.sp.no_timestamps;
    r->timestamp_begin = hm->m.sp.timestamp_begin;
    r->suppress = s->d_sup;
    r->n_suppress = hm->m.n_suppress;
    r->suppress_begin = s->d_sup_begin;
    r->n_suppress_begin = hm->m.n_suppress_begin;
    r->suppress_blank = fo->suppress_blank;
    r->timestamps = fo->timestamps;
    r->max_initial_timestamp_index = fo->max_initial_timestamp_index;
}

static int check_select(uzwk_ctx *c, int shape, int variant, uint64_t seed, uzwk_check_result *r) {
    if (shape < 0 || shape >= SEL_N_SHAPES) return uzwk_fail(c, "check select: no shape %d", shape);
    const sel_shape *sh = &k_sel_shapes[shape];
    const int B = sh->B, V = sh->V, k = sh->k, L = sh->ldl;
    sel_host_model *hm = (sel_host_model *)malloc(sizeof *hm);
    sel_bufs s;
    memset(&s, 0, sizeof s);
    memset(r, 0, sizeof *r);
    int rc = -1;
    long n_bad = 0, n_lp = 0, redrawn = 0, ids_bad = 0, lg_bad = 0, lp_bad = 0;
    double num = 0, den = 0, max_abs = 0;
    char first[96] = ""; /* the first failure */
    uint64_t st = seed * 0x9E3779B97F4A7C15ull + 0x5E1ECull;
    if (!hm) return uzwk_fail(c, "check select: out of host memory");
    sel_model_init(hm, V == k_vocab_v3.V ? &k_vocab_v3 : &k_vocab_v2);
    if (sel_bufs_new(c, &s, sh, hm)) goto done;

    for (int cfg = 0; cfg < 3; cfg++) {
        uzw_filter_opts fo;
        fo.suppress_blank = k_sel_cfg[cfg][0];
        fo.timestamps = sh->timestamps;
        fo.max_initial_timestamp_index = k_sel_cfg[cfg][1];
        uzwk_select_rules rules;
        sel_rules_init(&rules, sh, hm, &s, &fo);
        for (int s0 = 0; s0 < SC_COUNT; s0 += B) {
            /* inputs and the CPU reference */
            for (int b = 0; b < B; b++) {
                float *lg = s.lg_in + (size_t)b * L;
                int32_t *h = s.h + (size_t)b * SEL_LDH;
                int n = 0, sc = (s0 + b) % SC_COUNT, tries = 0;
                for (;;) {
                    sel_gen_row(&st, hm, sc, lg, h, SEL_LDH, &n);
                    if (!sh->apply_rules || !sh->timestamps || !sel_near_boundary(hm, &fo, h, n, lg, s.tmp)) break;
                    redrawn++;
                    if (++tries == 50) {
                        uzwk_fail(c, "check select: scenario %d stays within 1e-4 of the timestamp-mass boundary", sc);
                        goto done;
                    }
                }
                for (int j = V; j < L; j++) lg[j] = SEL_PAD_VALUE;
                s.nh[b] = n;
                memcpy(s.lg_ref + (size_t)b * V, lg, sizeof(float) * (size_t)V);
                sel_reference(hm, &fo, sh->apply_rules, h, n, s.lg_ref + (size_t)b * V, k, s.id_ref + (size_t)b * k,
                              s.lp_ref + (size_t)b * k, s.best_v);
            }
            /* the device */
            if (uzwk_guarded_upload(c, &s.g_lg, s.lg_in, sizeof(float) * (size_t)B * L) ||
                uzwk_guarded_upload(c, &s.g_id, s.id_poison, sizeof(int32_t) * (size_t)B * k) ||
                uzwk_memset(c, s.g_lp.p, 0xFF, sizeof(float) * (size_t)B * k) ||
                uzwk_h2d(c, s.d_h, s.h, sizeof(int32_t) * (size_t)B * SEL_LDH) ||
                uzwk_h2d(c, s.d_nh, s.nh, sizeof(int32_t) * (size_t)B))
                goto done;
            if (uzwk_select(c, (float *)s.g_lg.p, L, B, &rules, sh->apply_rules, s.d_h, SEL_LDH, s.d_nh, k,
                            (int32_t *)s.g_id.p, (float *)s.g_lp.p, variant))
                goto done;
            if (uzwk_guarded_fetch(c, &s.g_lg, s.lg_out, &r->guard_bad) ||
                uzwk_guarded_fetch(c, &s.g_id, s.id_out, &r->guard_bad) ||
                uzwk_guarded_fetch(c, &s.g_lp, s.lp_out, &r->guard_bad))
                goto done;
            /* compare */
            for (int b = 0; b < B; b++) {
                const int sc = (s0 + b) % SC_COUNT;
                const float *lo = s.lg_out + (size_t)b * L, *lr = s.lg_ref + (size_t)b * V, *li = s.lg_in + (size_t)b * L;
                for (int j = 0; j < L; j++) {
                    const float *want = j < V ? &lr[j] : &li[j];
                    if (memcmp(&lo[j], want, sizeof(float)) == 0) continue;
                    if (lg_bad++ == 0 && n_bad == 0)
                        snprintf(first, sizeof first,
                                 "cfg %d sc %d row %d logit[%d] %g, cpu %g", cfg, sc, b, j,
                                 (double)lo[j], (double)*want);
                    n_bad++;
                }
                for (int i = 0; i < k; i++) {
                    const size_t q = (size_t)b * k + i;
                    if (s.id_out[q] != s.id_ref[q]) {
                        if (ids_bad++ == 0 && n_bad == 0)
                            snprintf(first, sizeof first, "cfg %d sc %d row %d id[%d] %d, cpu %d",
                                     cfg, sc, b, i, (int)s.id_out[q], (int)s.id_ref[q]);
                        n_bad++;
                    }
                    double ref = s.lp_ref[q], out = (double)s.lp_out[q];
                    int ok;
                    if (isinf(ref) && ref < 0) {
                        ok = isinf(out) && out < 0;
                    } else {
                        double d = fabs(out - ref);
                        ok = isfinite(out) && d <= SEL_LP_ATOL + SEL_LP_RTOL * fabs(ref);
                        if (isfinite(d)) {
                            num += d * d;
                            max_abs = d > max_abs ? d : max_abs;
                        }
                        den += ref * ref;
                        n_lp++;
                    }
                    if (!ok) {
                        if (lp_bad++ == 0 && n_bad == 0)
                            snprintf(first, sizeof first,
                                     "cfg %d sc %d row %d lp[%d] %.8g, cpu %.8g", cfg, sc, b, i,
                                     out, ref);
                        n_bad++;
                    }
                }
            }
        }
    }
    r->n_bad = n_bad;
    r->max_abs = max_abs;
    r->rel_err = den > 0 ? sqrt(num / den) : sqrt(num);
    r->tol = UZWK_TOL_F32;
    r->pass = n_bad == 0 && r->guard_bad == 0;
    if (r->guard_bad)
        snprintf(r->detail, sizeof r->detail, "%ld guard bytes overwritten (logits, ids or logprobs)", r->guard_bad);
    else if (n_bad == 0)
        snprintf(r->detail, sizeof r->detail,
                 "ids and filtered logits exact; %ld logprobs max abs %.3g (bound %.0e + %.0e|ref|); redrawn %ld", n_lp,
                 max_abs, SEL_LP_ATOL, SEL_LP_RTOL, redrawn);
    else
        snprintf(r->detail, sizeof r->detail, "%ld ids, %ld logits, %ld logprobs off; first: %s", ids_bad, lg_bad,
                 lp_bad, first);
    rc = 0;
done:
    sel_bufs_free(&s);
    free(hm);
    return rc;
}

/* ---------------------------------------------------------------- select: bench */

typedef struct {
    float *lg;
    int ldl, B, k, apply, variant, ldh;
    uzwk_select_rules rules;
    const int32_t *h, *nh;
    int32_t *id;
    float *lp;
} sel_bench_arg;

static int sel_bench_launch(uzwk_ctx *c, void *p) {
    sel_bench_arg *a = (sel_bench_arg *)p;
    return uzwk_select(c, a->lg, a->ldl, a->B, &a->rules, a->apply, a->h, a->ldh, a->nh, a->k, a->id, a->lp,
                       a->variant);
}

/* Rows of the plain text-history scenario; the rules are idempotent, so launches on the same
 * (in place filtered) logits do the same work. */
static int bench_select(uzwk_ctx *c, int shape, int variant, int reps, uzwk_bench_result *r) {
    if (shape < 0 || shape >= SEL_N_SHAPES) return uzwk_fail(c, "bench select: no shape %d", shape);
    const sel_shape *sh = &k_sel_shapes[shape];
    const int B = sh->B, V = sh->V, k = sh->k, L = sh->ldl;
    sel_host_model *hm = (sel_host_model *)malloc(sizeof *hm);
    sel_bufs s;
    memset(&s, 0, sizeof s);
    memset(r, 0, sizeof *r);
    int rc = -1;
    uint64_t st = 0xBE7C4ull + (uint64_t)shape;
    if (!hm) return uzwk_fail(c, "bench select: out of host memory");
    sel_model_init(hm, V == k_vocab_v3.V ? &k_vocab_v3 : &k_vocab_v2);
    if (sel_bufs_new(c, &s, sh, hm)) goto done;
    {
        uzw_filter_opts fo;
        fo.suppress_blank = 1;
        fo.timestamps = sh->timestamps;
        fo.max_initial_timestamp_index = 50;
        for (int b = 0; b < B; b++) {
            int n = 0;
            sel_gen_row(&st, hm, SC_PLAIN, s.lg_in + (size_t)b * L, s.h + (size_t)b * SEL_LDH, SEL_LDH, &n);
            for (int j = V; j < L; j++) s.lg_in[(size_t)b * L + j] = SEL_PAD_VALUE;
            s.nh[b] = n;
        }
        if (uzwk_guarded_upload(c, &s.g_lg, s.lg_in, sizeof(float) * (size_t)B * L) ||
            uzwk_h2d(c, s.d_h, s.h, sizeof(int32_t) * (size_t)B * SEL_LDH) ||
            uzwk_h2d(c, s.d_nh, s.nh, sizeof(int32_t) * (size_t)B))
            goto done;
        sel_bench_arg a;
        a.lg = (float *)s.g_lg.p;
        a.ldl = L;
        a.B = B;
        a.k = k;
        a.apply = sh->apply_rules;
        a.variant = variant;
        a.ldh = SEL_LDH;
        sel_rules_init(&a.rules, sh, hm, &s, &fo);
        a.h = s.d_h;
        a.nh = s.d_nh;
        a.id = (int32_t *)s.g_id.p;
        a.lp = (float *)s.g_lp.p;
        if (uzwk_time_median(c, sel_bench_launch, &a, reps, &r->ms)) goto done;
    }
    r->bytes = (double)B * V * sizeof(float); /* the logits read once; ids, logprobs negligible */
    r->flops = 3.0 * B * V;                   /* subtract, exp, add per entry */
    r->peer_ms = 0;
    r->peer[0] = '\0';
    rc = 0;
done:
    sel_bufs_free(&s);
    free(hm);
    return rc;
}

/* ---------------------------------------------------------------- greedy_commit */

static const int k_gc_B[] = {1, 5, 32, 300};
static const char *const k_gc_shape_names[] = {"B=1 ldh=448 max_len=224", "B=5 ldh=448 max_len=224",
                                               "B=32 ldh=448 max_len=224", "B=300 ldh=448 max_len=448"};
static const char *const k_gc_variants[] = {"256 threads, one per sequence"};

/* The header's bookkeeping in plain loops. */
static void gc_reference(const int32_t *top_id, const float *top_lp, int32_t *hist, int ldh, int32_t *n_hist,
                         int32_t *next_token, int32_t *next_pos, float *sum_lp, int32_t *done, int eot, int max_len,
                         int B) {
    for (int b = 0; b < B; b++) {
        if (done[b]) {
            next_token[b] = eot;
            continue;
        }
        int id = top_id[b], n = n_hist[b];
        next_pos[b] += 1;
        if (id == eot) {
            sum_lp[b] += top_lp[b];
            done[b] = 1;
            next_token[b] = eot;
        } else if (id < 0 || n < 0 || n >= max_len) {
            done[b] = 1;
            next_token[b] = eot;
        } else {
            hist[(size_t)b * ldh + n] = id;
            n_hist[b] = n + 1;
            sum_lp[b] += top_lp[b];
            next_token[b] = id;
        }
    }
}

static int check_greedy_commit(uzwk_ctx *c, int shape, int variant, uint64_t seed, uzwk_check_result *r) {
    if (shape < 0 || shape >= (int)(sizeof k_gc_B / sizeof k_gc_B[0])) return uzwk_fail(c, "check greedy_commit: no shape %d", shape);
    if (variant != 0) return uzwk_fail(c, "check greedy_commit: no variant %d", variant);
    const int B = k_gc_B[shape], ldh = SEL_LDH, max_len = B == 300 ? SEL_LDH : 224, eot = 50257;
    const int runs = B < 64 ? 16 : 2;
    const size_t nH = (size_t)B * ldh;
    memset(r, 0, sizeof *r);
    int rc = -1;
    long n_bad = 0;
    double max_abs = 0, num = 0, den = 0;
    uint64_t st = seed * 0xD1B54A32D192ED03ull + 0x6C0ull;
    /* host: inputs (top_id, top_lp), in/out state (6 arrays), reference copies, fetched copies */
    int32_t *tid = (int32_t *)malloc(sizeof(int32_t) * B);
    float *tlp = (float *)malloc(sizeof(float) * B);
    int32_t *hi[2], *ni[2], *nt[2], *np[2], *dn[2];
    float *sl[2];
    int32_t *ho = (int32_t *)malloc(sizeof(int32_t) * nH), *no = (int32_t *)malloc(sizeof(int32_t) * B);
    int32_t *nto = (int32_t *)malloc(sizeof(int32_t) * B), *npo = (int32_t *)malloc(sizeof(int32_t) * B);
    int32_t *dno = (int32_t *)malloc(sizeof(int32_t) * B);
    float *slo = (float *)malloc(sizeof(float) * B);
    int host_ok = tid && tlp && ho && no && nto && npo && dno && slo;
    for (int i = 0; i < 2; i++) {
        hi[i] = (int32_t *)malloc(sizeof(int32_t) * nH);
        ni[i] = (int32_t *)malloc(sizeof(int32_t) * B);
        nt[i] = (int32_t *)malloc(sizeof(int32_t) * B);
        np[i] = (int32_t *)malloc(sizeof(int32_t) * B);
        dn[i] = (int32_t *)malloc(sizeof(int32_t) * B);
        sl[i] = (float *)malloc(sizeof(float) * B);
        host_ok = host_ok && hi[i] && ni[i] && nt[i] && np[i] && dn[i] && sl[i];
    }
    int32_t *d_tid = (int32_t *)uzwk_malloc(c, sizeof(int32_t) * B);
    float *d_tlp = (float *)uzwk_malloc(c, sizeof(float) * B);
    uzwk_guarded gh, gn, gt, gp, gs, gd;
    memset(&gh, 0, sizeof gh); memset(&gn, 0, sizeof gn); memset(&gt, 0, sizeof gt);
    memset(&gp, 0, sizeof gp); memset(&gs, 0, sizeof gs); memset(&gd, 0, sizeof gd);
    if (!host_ok) {
        uzwk_fail(c, "check greedy_commit: out of host memory");
        goto done;
    }
    if (!d_tid || !d_tlp || uzwk_guarded_new(c, &gh, sizeof(int32_t) * nH) || uzwk_guarded_new(c, &gn, sizeof(int32_t) * B) ||
        uzwk_guarded_new(c, &gt, sizeof(int32_t) * B) || uzwk_guarded_new(c, &gp, sizeof(int32_t) * B) ||
        uzwk_guarded_new(c, &gs, sizeof(float) * B) || uzwk_guarded_new(c, &gd, sizeof(int32_t) * B))
        goto done;
    for (int run = 0; run < runs; run++) {
        for (int b = 0; b < B; b++) {
            double u = uzwk_rand_uniform(&st, 0, 1);
            tid[b] = u < 0.2 ? eot : u < 0.27 ? -1 : u < 0.5 ? sel_rand_int(&st, 50364, 51865) : sel_rand_int(&st, 0, eot);
            tlp[b] = tid[b] < 0 ? -INFINITY : (float)uzwk_rand_uniform(&st, -6.0, -1e-3);
            double v = uzwk_rand_uniform(&st, 0, 1);
            ni[0][b] = v < 0.15 ? max_len : v < 0.2 ? max_len - 1 : sel_rand_int(&st, 0, max_len);
            nt[0][b] = sel_rand_int(&st, 0, 51865);
            np[0][b] = sel_rand_int(&st, 3, 448);
            sl[0][b] = (float)uzwk_rand_uniform(&st, -60.0, 0.0);
            dn[0][b] = uzwk_rand_uniform(&st, 0, 1) < 0.25;
        }
        for (size_t i = 0; i < nH; i++) hi[0][i] = sel_rand_int(&st, 0, 51865);
        memcpy(hi[1], hi[0], sizeof(int32_t) * nH);
        memcpy(ni[1], ni[0], sizeof(int32_t) * B);
        memcpy(nt[1], nt[0], sizeof(int32_t) * B);
        memcpy(np[1], np[0], sizeof(int32_t) * B);
        memcpy(sl[1], sl[0], sizeof(float) * B);
        memcpy(dn[1], dn[0], sizeof(int32_t) * B);
        gc_reference(tid, tlp, hi[1], ldh, ni[1], nt[1], np[1], sl[1], dn[1], eot, max_len, B);
        if (uzwk_h2d(c, d_tid, tid, sizeof(int32_t) * B) || uzwk_h2d(c, d_tlp, tlp, sizeof(float) * B) ||
            uzwk_guarded_upload(c, &gh, hi[0], sizeof(int32_t) * nH) ||
            uzwk_guarded_upload(c, &gn, ni[0], sizeof(int32_t) * B) ||
            uzwk_guarded_upload(c, &gt, nt[0], sizeof(int32_t) * B) ||
            uzwk_guarded_upload(c, &gp, np[0], sizeof(int32_t) * B) ||
            uzwk_guarded_upload(c, &gs, sl[0], sizeof(float) * B) || uzwk_guarded_upload(c, &gd, dn[0], sizeof(int32_t) * B))
            goto done;
        if (uzwk_greedy_commit(c, d_tid, d_tlp, (int32_t *)gh.p, ldh, (int32_t *)gn.p, (int32_t *)gt.p, (int32_t *)gp.p,
                               (float *)gs.p, (int32_t *)gd.p, eot, max_len, B))
            goto done;
        if (uzwk_guarded_fetch(c, &gh, ho, &r->guard_bad) || uzwk_guarded_fetch(c, &gn, no, &r->guard_bad) ||
            uzwk_guarded_fetch(c, &gt, nto, &r->guard_bad) || uzwk_guarded_fetch(c, &gp, npo, &r->guard_bad) ||
            uzwk_guarded_fetch(c, &gs, slo, &r->guard_bad) || uzwk_guarded_fetch(c, &gd, dno, &r->guard_bad))
            goto done;
        for (size_t i = 0; i < nH; i++)
            if (ho[i] != hi[1][i]) {
                if (n_bad++ == 0)
                    snprintf(r->detail, sizeof r->detail, "run %d hist[%zu] = %d, reference %d", run, i, (int)ho[i],
                             (int)hi[1][i]);
            }
        for (int b = 0; b < B; b++) {
            int bad = no[b] != ni[1][b] || nto[b] != nt[1][b] || npo[b] != np[1][b] || dno[b] != dn[1][b] ||
                      memcmp(&slo[b], &sl[1][b], sizeof(float)) != 0;
            double d = fabs((double)slo[b] - (double)sl[1][b]);
            if (isfinite(d)) {
                max_abs = d > max_abs ? d : max_abs;
                num += d * d;
            }
            if (isfinite(sl[1][b])) den += (double)sl[1][b] * sl[1][b];
            if (bad && n_bad++ == 0)
                snprintf(r->detail, sizeof r->detail,
                         "run %d seq %d: n_hist %d/%d next %d/%d pos %d/%d done %d/%d sum %.9g/%.9g (out/ref)", run, b,
                         (int)no[b], (int)ni[1][b], (int)nto[b], (int)nt[1][b], (int)npo[b], (int)np[1][b],
                         (int)dno[b], (int)dn[1][b], (double)slo[b], (double)sl[1][b]);
        }
    }
    r->n_bad = n_bad;
    r->max_abs = max_abs;
    r->rel_err = den > 0 ? sqrt(num / den) : sqrt(num); /* of sum_logprob; must be 0 */
    r->tol = 0;
    r->pass = n_bad == 0 && r->guard_bad == 0;
    if (r->guard_bad)
        snprintf(r->detail, sizeof r->detail, "%ld guard bytes overwritten", r->guard_bad);
    else if (n_bad == 0)
        snprintf(r->detail, sizeof r->detail, "%d runs: every array exact (sum_logprob bitwise)", runs);
    rc = 0;
done:
    free(tid); free(tlp); free(ho); free(no); free(nto); free(npo); free(dno); free(slo);
    for (int i = 0; i < 2; i++) {
        free(hi[i]); free(ni[i]); free(nt[i]); free(np[i]); free(dn[i]); free(sl[i]);
    }
    uzwk_free(d_tid);
    uzwk_free(d_tlp);
    uzwk_guarded_free(&gh); uzwk_guarded_free(&gn); uzwk_guarded_free(&gt);
    uzwk_guarded_free(&gp); uzwk_guarded_free(&gs); uzwk_guarded_free(&gd);
    return rc;
}

/* ---------------------------------------------------------------- the family's entries */

extern "C" const uzwk_op uzwk_ops_select[] = {
    {"select", "select", "f32 logits (filtered in place) -> int32 ids, f32 logprobs", SEL_N_SHAPES, k_sel_shape_names,
     2, k_sel_variants, check_select, bench_select},
    {"greedy_commit", "select", "int32 ids, f32 logprobs -> int32 state, f32 sums",
     (int)(sizeof k_gc_B / sizeof k_gc_B[0]), k_gc_shape_names, 1, k_gc_variants, check_greedy_commit, NULL},
};
extern "C" const int uzwk_n_ops_select = (int)(sizeof uzwk_ops_select / sizeof uzwk_ops_select[0]);
