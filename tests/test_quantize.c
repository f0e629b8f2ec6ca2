/* `uzwhisper quantize` and the loading of INT8 files, on the random tiny fixture model:
 * - both schemes load, with int8 matrices bound in place and W8A8 panels for the encoder;
 * - the forward pass with int8 weights stays close to the float one (encoder output and logits);
 * - every corrupt int8 file is refused with a message naming the problem: a NaN, infinite or
 *   negative scale, a -128 weight, a scale of the wrong shape, int8 without a scheme, an unknown
 *   scheme, an int8 tensor that must stay float;
 * - the command's own errors: --keep patterns that match nothing, an already-int8 input. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/forward.h"
#include "model/model.h"
#include "quantize.h"
#include "testutil.h"
#include "wformat.h"

static char dir[256], tiny[512];

static void setup(void) {
    if (tu_tmp_with_tiny_model("uzw-quant", dir, sizeof dir, tiny, sizeof tiny) != 0)
        cr_skip_test("the tiny fixture model is missing");
}
static void teardown(void) { tu_rmtree(dir); }

static const char *path_in(const char *name) {
    static char p[4][600];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
    return p[k];
}

static void quantise(const char *out, int scheme, const char *keep) {
    uzw_quant_opts o = {scheme, keep};
    uzw_quant_report r;
    char err[512];
    cr_assert_eq(uzw_quantize_file(tiny, out, &o, &r, err, sizeof err), 0, "%s", err);
    cr_assert_gt(r.n_quantised, 0);
    cr_expect_lt(r.worst_rel_err, 0.03, "worst weight error %g (%s)", r.worst_rel_err, r.worst_name);
}

static uzw_model *load(const char *path, char *err, size_t es) {
    uzw_model *m = NULL;
    uzw_model_load(path, NULL, &m, err, es);
    return m;
}

/* Encoder output [A, D] and the logits [V] of a short prompt, for a fixed pseudo-random mel. */
static void forward(const uzw_model *m, float **enc, float **logits) {
    uzw_fwd_state st;
    char err[256];
    cr_assert_eq(uzw_fwd_init(&st, m, 1, err, sizeof err), 0, "%s", err);
    size_t nm = (size_t)m->dims.n_mels * 2 * m->dims.n_audio_ctx;
    unsigned seed = 42;
    for (size_t i = 0; i < nm; i++) st.mel_win[i] = (float)rand_r(&seed) / RAND_MAX * 2.0f - 1.0f;
    cr_assert_eq(uzw_encode(m, &st), 0);
    size_t ne = (size_t)m->dims.n_audio_ctx * m->dims.n_audio_state;
    *enc = malloc(sizeof(float) * ne);
    memcpy(*enc, st.enc_out, sizeof(float) * ne);
    cr_assert_eq(uzw_decoder_begin(m, &st), 0);
    int32_t prompt[4] = {m->sp.sot, m->sp.first_lang, m->sp.transcribe, m->sp.no_timestamps};
    cr_assert_eq(uzw_decoder_step(m, &st, prompt, 4), 0);
    *logits = malloc(sizeof(float) * m->dims.n_vocab);
    memcpy(*logits, st.logits, sizeof(float) * m->dims.n_vocab);
    uzw_fwd_free(&st);
}

static double rel_l2(const float *a, const float *b, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        num += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        den += (double)b[i] * b[i];
    }
    return sqrt(num / den);
}

TestSuite(quantize, .init = setup, .fini = teardown);

Test(quantize, both_schemes_load_and_stay_close_to_float) {
    char err[512];
    uzw_model *f = load(tiny, err, sizeof err);
    cr_assert(f, "%s", err);
    float *enc_f, *lg_f;
    forward(f, &enc_f, &lg_f);
    const char *names[2] = {"w8a16.uzw", "w8a8.uzw"};
    for (int scheme = 1; scheme <= 2; scheme++) {
        const char *p = path_in(names[scheme - 1]);
        quantise(p, scheme, NULL);
        uzw_model *q = load(p, err, sizeof err);
        cr_assert(q, "%s", err);
        cr_expect_eq(q->quant, scheme);
        cr_expect_str_eq(q->dtype, "int8");
        /* matrices are int8 in place; only W8A8's encoder (and cross K/V) matrices have panels */
        cr_expect(q->enc[0].q_w.q && !q->enc[0].q_w.f && q->tok_emb.q);
        cr_expect_eq(q->enc[0].fc1_w.a8, scheme == 2);
        cr_expect_eq(q->dec[0].xk_w.a8, scheme == 2);
        cr_expect_eq(q->dec[0].q_w.a8, 0);
        cr_expect(q->conv1_w != NULL); /* convolutions stay float */
        float *enc_q, *lg_q;
        forward(q, &enc_q, &lg_q);
        double ee = rel_l2(enc_q, enc_f, (size_t)f->dims.n_audio_ctx * f->dims.n_audio_state);
        double el = rel_l2(lg_q, lg_f, (size_t)f->dims.n_vocab);
        cr_log_info("%s: encoder output rel. L2 error %.4f, prompt logits %.4f", names[scheme - 1], ee, el);
        cr_expect_lt(ee, 0.05, "%s encoder error %g", names[scheme - 1], ee);
        cr_expect_lt(el, 0.05, "%s logits error %g", names[scheme - 1], el);
        cr_expect_gt(ee, 0.0, "int8 must change something");
        free(enc_q);
        free(lg_q);
        uzw_model_free(q);
    }
    free(enc_f);
    free(lg_f);
    uzw_model_free(f);
}

Test(quantize, keep_patterns_store_f16) {
    const char *p = path_in("keep.uzw");
    quantise(p, 2, "dec.tok_emb,enc.0,*.fc2.weight");
    uzw_wfile wf;
    char err[512];
    cr_assert_eq(uzw_wfile_open(p, &wf, err, sizeof err), 0, "%s", err);
    cr_expect_eq(uzw_wfile_tensor(&wf, "dec.tok_emb")->dtype, UZW_DT_F16);
    cr_expect_eq(uzw_wfile_tensor(&wf, "enc.0.attn.q.weight")->dtype, UZW_DT_F16);
    cr_expect_eq(uzw_wfile_tensor(&wf, "dec.0.fc2.weight")->dtype, UZW_DT_F16);
    cr_expect_eq(uzw_wfile_tensor(&wf, "dec.0.fc1.weight")->dtype, UZW_DT_I8);
    cr_expect_null(uzw_wfile_tensor(&wf, "dec.tok_emb.scale"));
    const char *s;
    uint32_t len;
    cr_assert_eq(uzw_meta_get_str(&wf, "quant.kept", &s, &len, err, sizeof err), 0);
    char kept[4096];
    snprintf(kept, sizeof kept, "%.*s", (int)len, s);
    cr_expect(strstr(kept, "enc.0.fc1.weight") != NULL, "%s", kept);
    cr_expect(strstr(kept, "dec.0.fc1.weight") == NULL, "%s", kept);
    uzw_wfile_close(&wf);
    uzw_model *m = load(p, err, sizeof err);
    cr_assert(m, "%s", err);
    cr_expect(m->tok_emb.f && !m->tok_emb.q);
    uzw_model_free(m);
}

Test(quantize, command_errors) {
    char cmd[2048], out[4096];
    snprintf(cmd, sizeof cmd, "%s quantize %s %s --scheme w8a8 --keep enc.99", tu_build("uzwhisper"), tiny, path_in("x.uzw"));
    cr_expect_eq(tu_run(cmd, out, sizeof out), 1, "%s", out);
    cr_expect(strstr(out, "enc.99") != NULL, "%s", out);
    snprintf(cmd, sizeof cmd, "%s quantize %s %s --scheme w4a4", tu_build("uzwhisper"), tiny, path_in("x.uzw"));
    cr_expect_eq(tu_run(cmd, out, sizeof out), 1, "%s", out);
    snprintf(cmd, sizeof cmd, "%s quantize %s %s --scheme w8a8", tu_build("uzwhisper"), tiny, path_in("q.uzw"));
    cr_expect_eq(tu_run(cmd, out, sizeof out), 0, "%s", out);
    cr_expect(strstr(out, "matrices int8") != NULL, "%s", out);
    snprintf(cmd, sizeof cmd, "%s quantize %s %s --scheme w8a8", tu_build("uzwhisper"), path_in("q.uzw"), path_in("qq.uzw"));
    cr_expect_eq(tu_run(cmd, out, sizeof out), 1, "%s", out);
    cr_expect(strstr(out, "already int8") != NULL, "%s", out);
    cr_expect_not(tu_exists(path_in("qq.uzw")), "a refused quantisation leaves no file");
}

/* ---------------------------------------------------------------- corrupt int8 files */

typedef enum { NAN_SCALE, INF_SCALE, NEG_SCALE, MINUS_128, SCALE_SHAPE, NO_SCHEME, BAD_SCHEME, INT8_CONV } damage;

/* Copy src to dst record by record and tensor by tensor, with one kind of damage. */
static int rewrite(const char *src, const char *dst, damage d, char *err, size_t es) {
    uzw_wfile wf;
    if (uzw_wfile_open(src, &wf, err, es) != 0) return -1;
    uzw_wbuild *b = uzw_wbuild_new();
    for (uint32_t i = 0; i < wf.hdr.n_meta; i++) {
        const uzw_meta *m = &wf.meta[i];
        if (!strcmp(m->key, "quant.scheme") && (d == NO_SCHEME || d == BAD_SCHEME)) {
            if (d == BAD_SCHEME) uzw_wbuild_str(b, "quant.scheme", "w4a4");
            continue;
        }
        uzw_wbuild_meta_copy(b, m);
    }
    const char *target = "dec.0.fc1.weight";
    for (uint32_t i = 0; i < wf.hdr.n_tensors; i++) {
        const uzw_tensor *t = &wf.tensors[i];
        void *bytes = malloc(t->nbytes);
        memcpy(bytes, t->data, t->nbytes);
        int64_t dims[4] = {t->dims[0], t->dims[1], t->dims[2], t->dims[3]};
        uint64_t nbytes = t->nbytes;
        if (!strcmp(t->name, "dec.0.fc1.weight.scale")) {
            float *s = bytes;
            if (d == NAN_SCALE) s[3] = NAN;
            if (d == INF_SCALE) s[3] = INFINITY;
            if (d == NEG_SCALE) s[3] = -s[3];
            if (d == SCALE_SHAPE) { dims[0] -= 1; nbytes -= 4; }
        }
        if (!strcmp(t->name, target) && d == MINUS_128) ((int8_t *)bytes)[5] = -128;
        if (!strcmp(t->name, "enc.conv1.weight") && d == INT8_CONV) {
            /* the conv kernel as int8 with a valid scale: still refused (it must stay float) */
            size_t n = t->nbytes / 4;
            int8_t *q = calloc(n, 1);
            float *sc = malloc(sizeof(float) * (size_t)t->dims[0]);
            for (int64_t r = 0; r < t->dims[0]; r++) sc[r] = 0.01f;
            uzw_wbuild_tensor_raw(b, t->name, UZW_DT_I8, t->n_dims, dims, q, n);
            int64_t sd[1] = {t->dims[0]};
            uzw_wbuild_tensor_f32(b, "enc.conv1.weight.scale", UZW_DT_F32, 1, sd, sc);
            free(q); free(sc); free(bytes);
            continue;
        }
        uzw_wbuild_tensor_raw(b, t->name, t->dtype, t->n_dims, dims, bytes, nbytes);
        free(bytes);
    }
    int rc = uzw_wbuild_write(b, dst, err, es);
    uzw_wbuild_free(b);
    uzw_wfile_close(&wf);
    return rc;
}

Test(quantize, corrupt_int8_files_are_refused) {
    const char *good = path_in("good.uzw");
    quantise(good, 2, NULL);
    static const struct { damage d; const char *expect; } cases[] = {
        {NAN_SCALE, "dec.0.fc1.weight.scale'[3]"}, {INF_SCALE, "dec.0.fc1.weight.scale'[3]"},
        {NEG_SCALE, "finite and >= 0"},            {MINUS_128, "-128"},
        {SCALE_SHAPE, "dec.0.fc1.weight"},         {NO_SCHEME, "quant.scheme"},
        {BAD_SCHEME, "w4a4"},                      {INT8_CONV, "enc.conv1.weight"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[512] = "", p[600];
        snprintf(p, sizeof p, "%s/bad%zu.uzw", dir, i);
        int wrc = rewrite(good, p, cases[i].d, err, sizeof err);
        if (wrc != 0) { /* the writer itself refuses a scale of the wrong shape: also a clear refusal */
            cr_expect_eq(cases[i].d, SCALE_SHAPE, "case %zu: writer failed: %s", i, err);
            cr_expect(strstr(err, cases[i].expect) != NULL, "case %zu: %s", i, err);
            continue;
        }
        uzw_model *m = NULL;
        uzw_status st = uzw_model_load(p, NULL, &m, err, sizeof err);
        cr_expect_neq(st, UZW_OK, "case %zu loaded", i);
        cr_expect_null(m);
        cr_expect(strstr(err, cases[i].expect) != NULL, "case %zu: message '%s' lacks '%s'", i, err, cases[i].expect);
    }
}
