/*
 * Adapters against their reference libraries on the random fixture model (tests/fixtures/adapters,
 * made by tests/reference/make_lora_goldens.py with PEFT and make_bn_goldens.py with AdapterHub):
 *   - LoRA merged by us vs PEFT merge_and_unload: every changed tensor within f32 round-off
 *     (|d| <= 1e-6 + 1e-5|ref|: B A summed in another order), identical greedy tokens, first-step
 *     logits within 2e-3 + 1e-3|ref| (the tolerance of test_model_golden);
 *   - LoRA unmerged vs merged (ours): same tokens, logits within 1e-4 + 1e-4|ref|; over an INT8 base
 *     the logits stay near the merged float model's (rel. L2 <= 3%, test_quantize's bound x2) and
 *     far nearer to it than the base model's are;
 *   - bottleneck adapters vs the `adapters` library: identical tokens, logits within 2e-3 + 1e-3|ref|;
 *   - every refusal and validation error, on files rewritten here from the fixtures;
 *   - the public API and the commands (transcribe --adapter, convert --adapter, manifests).
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "adapter/adapter.h"
#include "import.h"
#include "model/forward.h"
#include "quantize.h"
#include "testutil.h"

#define MAX_TOK 32

static char tmpdir[128], model_f32[256], model_f16[256], model_w8a8[256], model_w8a16[256];
static int have_fixtures;

static void write_model(const char *path, uzw_dtype dt) {
    uzw_import im;
    uzw_import_init(&im);
    char err[1024] = "";
    cr_assert_eq(uzw_import_hf(tu_src("tests/fixtures/tiny-random/hf"), &im, err, sizeof err), 0, "%s", err);
    cr_assert_eq(uzw_import_write(&im, path, dt, err, sizeof err), 0, "%s", err);
    uzw_import_free(&im);
}

static void setup(void) {
    have_fixtures = tu_exists(tu_src("tests/fixtures/adapters/golden/lora_plain/golden.json")) &&
                    tu_exists(tu_src("tests/fixtures/golden/mel_jfk.f32"));
    if (!have_fixtures) return;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/uzw-adapter-XXXXXX");
    cr_assert(mkdtemp(tmpdir));
    snprintf(model_f32, sizeof model_f32, "%s/f32.uzw", tmpdir);
    snprintf(model_f16, sizeof model_f16, "%s/f16.uzw", tmpdir);
    snprintf(model_w8a8, sizeof model_w8a8, "%s/w8a8.uzw", tmpdir);
    snprintf(model_w8a16, sizeof model_w8a16, "%s/w8a16.uzw", tmpdir);
    write_model(model_f32, UZW_DT_F32);
    write_model(model_f16, UZW_DT_F16);
    char err[512];
    uzw_quant_report rep;
    uzw_quant_opts o8 = {2, NULL}, o16 = {1, NULL};
    cr_assert_eq(uzw_quantize_file(model_f32, model_w8a8, &o8, &rep, err, sizeof err), 0, "%s", err);
    cr_assert_eq(uzw_quantize_file(model_f32, model_w8a16, &o16, &rep, err, sizeof err), 0, "%s", err);
}

static void teardown(void) {
    if (have_fixtures) tu_rmtree(tmpdir);
}

TestSuite(adapter, .init = setup, .fini = teardown, .timeout = 600);

#define NEED_FIXTURES() do { if (!have_fixtures) cr_skip_test("adapter fixtures missing"); } while (0)

static uzw_model *load_model(const char *path) {
    uzw_model *m = NULL;
    char err[512];
    cr_assert_eq(uzw_model_load(path, NULL, &m, err, sizeof err), UZW_OK, "%s", err);
    return m;
}

static uzw_adapter *load_adapter(const uzw_model *m, const char *name) {
    char dir[256], err[2048];
    snprintf(dir, sizeof dir, "tests/fixtures/adapters/%s", name);
    uzw_adapter *a = NULL;
    uzw_status st = uzw_adapter_load(m, tu_src(dir), &a, err, sizeof err);
    cr_assert_eq(st, UZW_OK, "%s: %s", name, err);
    return a;
}

typedef struct {
    int32_t tok[MAX_TOK];
    int n;
    float *logits_first; /* [V] */
} run_out;

/* Greedy raw argmax after the golden prompt on mel_jfk (the rule of the golden files). */
static void run_greedy(const uzw_model *m, const uzw_adapter *const *ads, int n_ads, run_out *o) {
    uzw_fwd_state st;
    char err[256];
    cr_assert_eq(uzw_fwd_init(&st, m, 1, err, sizeof err), 0, "%s", err);
    for (int i = 0; i < n_ads; i++) st.adapters[i] = ads[i];
    st.n_adapters = n_ads;
    size_t n;
    float *mel = tu_read_f32(tu_src("tests/fixtures/golden/mel_jfk.f32"), &n);
    cr_assert(mel && n == 80 * 3000);
    memcpy(st.mel_win, mel, sizeof(float) * n);
    free(mel);
    const int32_t prompt[4] = {50258, 50259, 50359, 50363};
    int V = m->dims.n_vocab;
    cr_assert_eq(uzw_encode(m, &st), 0);
    cr_assert_eq(uzw_decoder_begin(m, &st), 0);
    cr_assert_eq(uzw_decoder_step(m, &st, prompt, 4), 0);
    o->logits_first = malloc(sizeof(float) * (size_t)V);
    memcpy(o->logits_first, st.logits, sizeof(float) * (size_t)V);
    o->n = 0;
    for (int step = 0; step < 24; step++) {
        int best = 0;
        for (int v = 1; v < V; v++)
            if (st.logits[v] > st.logits[best]) best = v;
        if (best == 50257) break;
        o->tok[o->n++] = best;
        int32_t t = best;
        cr_assert_eq(uzw_decoder_step(m, &st, &t, 1), 0);
    }
    uzw_fwd_free(&st);
}

static json_t *golden_of(const char *name) {
    char rel[256];
    snprintf(rel, sizeof rel, "tests/fixtures/adapters/golden/%s/golden.json", name);
    json_error_t je;
    json_t *g = json_load_file(tu_src(rel), 0, &je);
    cr_assert(g, "%s: %s", rel, je.text);
    return g;
}

static void expect_tokens(const run_out *o, const json_t *arr, const char *what) {
    size_t n = json_array_size(arr);
    char got[512] = "";
    for (int i = 0, p = 0; i < o->n && p < 480; i++) p += snprintf(got + p, sizeof got - (size_t)p, "%d ", o->tok[i]);
    cr_assert_eq((size_t)o->n, n, "%s: %d tokens, golden %zu (got %s)", what, o->n, n, got);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(o->tok[i], (int32_t)json_integer_value(json_array_get(arr, i)), "%s: token %zu differs (got %s)", what, i, got);
}

static void expect_close(const float *a, const float *b, size_t n, double atol, double rtol, const char *what) {
    tu_cmp c = tu_compare(a, b, n, atol, rtol);
    cr_assert_eq(c.n_bad, 0, "%s: %zu of %zu values off, worst |d| %.3g at %zu", what, c.n_bad, n, c.max_abs, c.worst);
}

static float *golden_logits(const char *name) {
    char rel[256];
    size_t n;
    snprintf(rel, sizeof rel, "tests/fixtures/adapters/golden/%s/logits_first.f32", name);
    float *v = tu_read_f32(tu_src(rel), &n);
    cr_assert(v && n == 51865, "%s", rel);
    return v;
}

/* ---------------------------------------------------------------- LoRA merged vs PEFT */

static void check_merged_tensors(uzw_model *m, const char *name) {
    char rel[256], err[512];
    snprintf(rel, sizeof rel, "tests/fixtures/adapters/golden/%s/merged.safetensors", name);
    uzw_st_file f;
    cr_assert_eq(uzw_st_open(tu_src(rel), &f, err, sizeof err), 0, "%s", err);
    cr_assert_gt(f.h.n, 0);
    for (int i = 0; i < f.h.n; i++) {
        const uzw_st_entry *e = &f.h.e[i];
        char canon[UZW_MAX_NAME];
        cr_assert_eq(uzw_hf_map_name(e->name, canon), HF_CANONICAL, "%s", e->name);
        const float **vec;
        uzw_wmat *mat;
        cr_assert_eq(uzw_model_slot(m, canon, &vec, &mat), 0, "%s", canon);
        const float *ours = vec ? *vec : mat->f;
        float *ref;
        cr_assert_eq(uzw_st_read_f32(&f, e, &ref, err, sizeof err), 0, "%s", err);
        char what[300];
        snprintf(what, sizeof what, "%s: merged %s", name, canon);
        expect_close(ours, ref, e->numel, 1e-6, 1e-5, what);
        free(ref);
    }
    uzw_st_close(&f);
}

static void check_lora_merged(const char *model_path, const char *name) {
    uzw_model *m = load_model(model_path);
    uzw_adapter *a = load_adapter(m, name);
    cr_assert_str_eq(uzw_adapter_get_str(a, "kind"), "lora");
    char err[1024];
    cr_assert_eq(uzw_model_merge_adapter(m, a, err, sizeof err), UZW_OK, "%s", err);
    check_merged_tensors(m, name);
    json_t *g = golden_of(name);
    run_out o;
    run_greedy(m, NULL, 0, &o);
    expect_tokens(&o, json_object_get(g, "tokens"), name);
    float *ref = golden_logits(name);
    expect_close(o.logits_first, ref, 51865, 2e-3, 1e-3, name);
    free(ref);
    free(o.logits_first);
    json_decref(g);
    uzw_adapter_free(a);
    uzw_model_free(m);
}

Test(adapter, lora_merged_matches_peft) {
    NEED_FIXTURES();
    const char *names[] = {"lora_plain", "lora_patterns", "lora_allbias", "lora_regex"};
    for (size_t i = 0; i < 4; i++) check_lora_merged(model_f32, names[i]);
}

Test(adapter, lora_merged_into_f16_model_matches_peft) {
    NEED_FIXTURES(); /* f16 tensors are widened into the model's own arena and merged in place */
    check_lora_merged(model_f16, "lora_plain");
    check_lora_merged(model_f16, "lora_patterns");
}

Test(adapter, lora_merges_stack) {
    NEED_FIXTURES(); /* two adapters merged in turn = the sum of their updates, whatever the order */
    uzw_model *m1 = load_model(model_f32), *m2 = load_model(model_f32);
    uzw_adapter *a = load_adapter(m1, "lora_plain"), *b = load_adapter(m1, "lora_regex");
    char err[1024];
    cr_assert_eq(uzw_model_merge_adapter(m1, a, err, sizeof err), UZW_OK, "%s", err);
    cr_assert_eq(uzw_model_merge_adapter(m1, b, err, sizeof err), UZW_OK, "%s", err);
    cr_assert_eq(uzw_model_merge_adapter(m2, b, err, sizeof err), UZW_OK, "%s", err);
    cr_assert_eq(uzw_model_merge_adapter(m2, a, err, sizeof err), UZW_OK, "%s", err);
    expect_close(m1->dec[0].q_w.f, m2->dec[0].q_w.f, 32 * 32, 1e-6, 1e-5, "stacked merge, dec.0.attn.q");
    /* unmerged, the two together run like the double merge */
    uzw_model *base = load_model(model_f32);
    const uzw_adapter *both[2] = {a, b};
    run_out um, mm;
    run_greedy(base, both, 2, &um);
    run_greedy(m1, NULL, 0, &mm);
    cr_assert_eq(um.n, mm.n);
    cr_assert_arr_eq(um.tok, mm.tok, sizeof(int32_t) * (size_t)um.n);
    expect_close(um.logits_first, mm.logits_first, 51865, 1e-4, 1e-4, "two unmerged vs two merged");
    free(um.logits_first);
    free(mm.logits_first);
    uzw_adapter_free(a);
    uzw_adapter_free(b);
    uzw_model_free(m1);
    uzw_model_free(m2);
    uzw_model_free(base);
}

/* ---------------------------------------------------------------- LoRA unmerged */

static void check_unmerged(const char *model_path, const char *merged_model_path, const char *name) {
    uzw_model *m = load_model(model_path), *mm = load_model(merged_model_path);
    uzw_adapter *a = load_adapter(m, name), *a2 = load_adapter(mm, name);
    cr_assert_eq(uzw_adapter_get_int(a, "unmerged_ok"), 1, "%s", name);
    char err[1024];
    cr_assert_eq(uzw_model_merge_adapter(mm, a2, err, sizeof err), UZW_OK, "%s", err);
    run_out u, g;
    const uzw_adapter *list[1] = {a};
    run_greedy(m, list, 1, &u);
    run_greedy(mm, NULL, 0, &g);
    json_t *gj = golden_of(name);
    expect_tokens(&u, json_object_get(gj, "tokens"), name);
    expect_close(u.logits_first, g.logits_first, 51865, 1e-4, 1e-4, name);
    free(u.logits_first);
    free(g.logits_first);
    json_decref(gj);
    uzw_adapter_free(a);
    uzw_adapter_free(a2);
    uzw_model_free(m);
    uzw_model_free(mm);
}

Test(adapter, lora_unmerged_matches_merged) {
    NEED_FIXTURES();
    check_unmerged(model_f32, model_f32, "lora_plain");
    check_unmerged(model_f32, model_f32, "lora_regex");
    check_unmerged(model_f16, model_f32, "lora_plain");
}

static double rel_l2(const float *a, const float *b, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) num += ((double)a[i] - b[i]) * ((double)a[i] - b[i]), den += (double)b[i] * b[i];
    return sqrt(num / den);
}

Test(adapter, lora_unmerged_over_int8) {
    NEED_FIXTURES();
    float *ref = golden_logits("lora_plain");
    uzw_model *base = load_model(model_f32);
    run_out b;
    run_greedy(base, NULL, 0, &b);
    double base_dist = rel_l2(b.logits_first, ref, 51865);
    const char *paths[2] = {model_w8a8, model_w8a16};
    for (int k = 0; k < 2; k++) {
        uzw_model *q = load_model(paths[k]);
        uzw_adapter *a = load_adapter(q, "lora_plain");
        const uzw_adapter *list[1] = {a};
        run_out u;
        run_greedy(q, list, 1, &u);
        double d = rel_l2(u.logits_first, ref, 51865);
        cr_assert_leq(d, 0.03, "%s + unmerged LoRA: rel. L2 %.4f from the merged float model's logits", paths[k], d);
        cr_assert_lt(d, 0.25 * base_dist, "%s: %.4f is not much nearer the adapted logits than the base (%.4f)", paths[k], d,
                     base_dist);
        char err[512];
        cr_assert_eq(uzw_model_merge_adapter(q, a, err, sizeof err), UZW_ERR_UNSUPPORTED);
        cr_assert(strstr(err, "int8"), "%s", err);
        free(u.logits_first);
        uzw_adapter_free(a);
        uzw_model_free(q);
    }
    free(b.logits_first);
    free(ref);
    uzw_model_free(base);
}

/* ---------------------------------------------------------------- bottleneck adapters */

Test(adapter, bottleneck_matches_adapterhub) {
    NEED_FIXTURES();
    const char *names[] = {"bn_seq", "bn_double", "bn_options"};
    uzw_model *m = load_model(model_f32);
    for (int i = 0; i < 3; i++) {
        uzw_adapter *a = load_adapter(m, names[i]);
        cr_assert_str_eq(uzw_adapter_get_str(a, "kind"), "bottleneck");
        cr_assert_str_eq(uzw_adapter_get_str(a, "name"), names[i]);
        const uzw_adapter *list[1] = {a};
        run_out o;
        run_greedy(m, list, 1, &o);
        json_t *g = golden_of(names[i]);
        expect_tokens(&o, json_object_get(g, "tokens"), names[i]);
        float *ref = golden_logits(names[i]);
        expect_close(o.logits_first, ref, 51865, 2e-3, 1e-3, names[i]);
        char err[512];
        cr_assert_eq(uzw_model_merge_adapter(m, a, err, sizeof err), UZW_ERR_UNSUPPORTED);
        cr_assert(strstr(err, "non-linear"), "%s", err);
        free(ref);
        free(o.logits_first);
        json_decref(g);
        uzw_adapter_free(a);
    }
    uzw_model_free(m);
}

Test(adapter, bottleneck_over_int8) {
    NEED_FIXTURES();
    float *ref = golden_logits("bn_double");
    uzw_model *q = load_model(model_w8a8);
    uzw_adapter *a = load_adapter(q, "bn_double");
    const uzw_adapter *list[1] = {a};
    run_out u;
    run_greedy(q, list, 1, &u);
    double d = rel_l2(u.logits_first, ref, 51865);
    cr_assert_leq(d, 0.03, "w8a8 + bn_double: rel. L2 %.4f", d);
    free(u.logits_first);
    free(ref);
    uzw_adapter_free(a);
    uzw_model_free(q);
}

/* ---------------------------------------------------------------- the public API */

static float *jfk_pcm(size_t *n) {
    float *pcm = tu_read_f32(tu_src("tests/fixtures/golden/pcm_jfk.f32"), n);
    cr_assert(pcm);
    if (*n > 16000 * 4) *n = 16000 * 4;
    return pcm;
}

static char *transcribe_text(const uzw_model *m, const uzw_adapter *const *ads, int n_ads, uzw_status *st_out) {
    uzw_context *ctx;
    cr_assert_eq(uzw_context_create(m, &ctx), UZW_OK);
    size_t n;
    float *pcm = jfk_pcm(&n);
    uzw_params p = uzw_default_params();
    p.language = "en";
    p.beam_size = 1;
    p.without_timestamps = 1;
    p.n_temperatures = 1;
    float t0 = 0.0f;
    p.temperatures = &t0;
    p.max_tokens_per_window = 12;
    p.adapters = ads;
    p.n_adapters = n_ads;
    uzw_status st = uzw_transcribe_pcm(ctx, pcm, n, &p);
    char *text = strdup(st == UZW_OK ? uzw_full_text(ctx) : uzw_last_error(ctx));
    if (st_out) *st_out = st;
    free(pcm);
    uzw_context_free(ctx);
    return text;
}

Test(adapter, public_api_per_request) {
    NEED_FIXTURES();
    uzw_model *m = load_model(model_f32), *mm = load_model(model_f32);
    uzw_adapter *a = load_adapter(m, "lora_plain"), *bn = load_adapter(m, "bn_seq");
    char err[512];
    cr_assert_eq(uzw_model_merge_adapter(mm, a, err, sizeof err), UZW_OK, "%s", err);
    cr_assert_eq(uzw_adapter_get_int(a, "max_rank"), 8);
    cr_assert_gt(uzw_adapter_get_int(a, "n_params"), 0);
    cr_assert_eq(uzw_adapter_get_int(a, "n_modules"), 2 * 6 + 2 * 10);
    cr_assert_eq(uzw_adapter_get_int(a, "nonsense"), -1);
    cr_assert_null(uzw_adapter_get_str(a, "nonsense"));
    uzw_status st;
    char *base = transcribe_text(m, NULL, 0, &st);
    cr_assert_eq(st, UZW_OK, "%s", base);
    const uzw_adapter *one[1] = {a};
    char *un = transcribe_text(m, one, 1, &st);
    cr_assert_eq(st, UZW_OK, "%s", un);
    char *merged = transcribe_text(mm, NULL, 0, &st);
    cr_assert_str_eq(un, merged, "unmerged '%s' vs merged '%s'", un, merged);
    cr_assert_str_neq(un, base, "the adapter changed nothing ('%s')", un);
    char *again = transcribe_text(m, NULL, 0, &st); /* the next request without it is the base model again */
    cr_assert_str_eq(again, base);
    /* adapters loaded against another model are refused */
    const uzw_adapter *wrong[1] = {bn};
    char *ok = transcribe_text(m, wrong, 1, &st);
    cr_assert_eq(st, UZW_OK, "%s", ok);
    uzw_params p = uzw_default_params();
    p.n_adapters = 1;
    p.adapters = NULL;
    uzw_context *ctx;
    cr_assert_eq(uzw_context_create(m, &ctx), UZW_OK);
    size_t n;
    float *pcm = jfk_pcm(&n);
    cr_assert_eq(uzw_transcribe_pcm(ctx, pcm, n, &p), UZW_ERR_INVALID_ARG);
    free(pcm);
    uzw_context_free(ctx);
    free(base); free(un); free(merged); free(again); free(ok);
    uzw_adapter_free(a);
    uzw_adapter_free(bn);
    uzw_model_free(m);
    uzw_model_free(mm);
}

Test(adapter, merge_only_adapters_refused_unmerged) {
    NEED_FIXTURES();
    uzw_model *m = load_model(model_f32);
    const char *names[] = {"lora_patterns", "lora_allbias"};
    for (int i = 0; i < 2; i++) {
        uzw_adapter *a = load_adapter(m, names[i]);
        cr_assert_eq(uzw_adapter_get_int(a, "unmerged_ok"), 0, "%s", names[i]);
        const uzw_adapter *one[1] = {a};
        uzw_status st;
        char *msg = transcribe_text(m, one, 1, &st);
        cr_assert_eq(st, UZW_ERR_UNSUPPORTED, "%s: %s", names[i], msg);
        cr_assert(strstr(msg, "merg"), "%s", msg);
        free(msg);
        uzw_adapter_free(a);
    }
    uzw_model_free(m);
}

/* ---------------------------------------------------------------- bad adapters */

/* A copy of fixture `name` in tmp/<out>, with its config edited by `edit` (may be NULL) and its
 * tensors filtered/renamed/changed by `tensor` (may be NULL: copied as they are). */
typedef int (*tensor_fn)(const char *name, char *new_name, size_t cap, char *dtype, float *v, size_t n);

static void rewrite_safetensors(const char *src, const char *dst, tensor_fn fn) {
    char err[512];
    uzw_st_file f;
    cr_assert_eq(uzw_st_open(src, &f, err, sizeof err), 0, "%s", err);
    json_t *hdr = json_object();
    size_t off = 0, cap = 0;
    uint8_t *data = NULL;
    for (int i = 0; i < f.h.n; i++) {
        const uzw_st_entry *e = &f.h.e[i];
        float *v;
        cr_assert_eq(uzw_st_read_f32(&f, e, &v, err, sizeof err), 0, "%s", err);
        char name[256], dtype[8] = "F32";
        snprintf(name, sizeof name, "%s", e->name);
        if (fn && !fn(e->name, name, sizeof name, dtype, v, e->numel)) { free(v); continue; }
        size_t bytes = e->numel * (strcmp(dtype, "I32") == 0 ? 4 : 4);
        if (off + bytes > cap) { cap = (off + bytes) * 2; data = realloc(data, cap); }
        memcpy(data + off, v, bytes);
        json_t *shape = json_array();
        for (int d = 0; d < e->n_dims; d++) json_array_append_new(shape, json_integer(e->shape[d]));
        json_object_set_new(hdr, name, json_pack("{s:s, s:o, s:[I,I]}", "dtype", dtype, "shape", shape, "data_offsets",
                                                 (json_int_t)off, (json_int_t)(off + bytes)));
        off += bytes;
        free(v);
    }
    uzw_st_close(&f);
    char *h = json_dumps(hdr, JSON_COMPACT);
    size_t hl = strlen(h);
    FILE *o = fopen(dst, "wb");
    cr_assert(o);
    uint64_t n = hl;
    fwrite(&n, 8, 1, o);
    fwrite(h, 1, hl, o);
    if (off) fwrite(data, 1, off, o);
    fclose(o);
    free(h);
    free(data);
    json_decref(hdr);
}

static const char *make_variant(const char *name, const char *out, const char *key, json_t *value, tensor_fn fn) {
    static char dir[300];
    char cmd[1024], src[300], dst[400];
    snprintf(dir, sizeof dir, "%s/%s", tmpdir, out);
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", dir, dir);
    cr_assert_eq(system(cmd), 0);
    snprintf(src, sizeof src, "tests/fixtures/adapters/%s/adapter_config.json", name);
    json_error_t je;
    json_t *cfg = json_load_file(tu_src(src), 0, &je);
    cr_assert(cfg, "%s", je.text);
    if (key) {
        json_t *obj = cfg;
        if (strncmp(key, "config.", 7) == 0) obj = json_object_get(cfg, "config"), key += 7;
        if (value) json_object_set_new(obj, key, value);
        else json_object_del(obj, key);
    }
    snprintf(dst, sizeof dst, "%s/adapter_config.json", dir);
    cr_assert_eq(json_dump_file(cfg, dst, JSON_INDENT(1)), 0);
    json_decref(cfg);
    int peft = strncmp(name, "lora", 4) == 0;
    const char *wf = peft ? "adapter_model.safetensors" : "adapter.safetensors";
    snprintf(src, sizeof src, "tests/fixtures/adapters/%s/%s", name, wf);
    snprintf(dst, sizeof dst, "%s/%s", dir, wf);
    rewrite_safetensors(tu_src(src), dst, fn);
    return dir;
}

static void expect_refused(const uzw_model *m, const char *dir, uzw_status want, const char *needle) {
    uzw_adapter *a = NULL;
    char err[2048] = "";
    uzw_status st = uzw_adapter_load(m, dir, &a, err, sizeof err);
    cr_assert_eq(st, want, "%s: status %d (%s), want %d", dir, st, err, want);
    cr_assert_null(a);
    cr_assert(strstr(err, needle), "%s: message '%s' lacks '%s'", dir, err, needle);
}

static int rename_to_layer7(const char *n, char *nn, size_t cap, char *dt, float *v, size_t k) {
    (void)dt, (void)v, (void)k;
    const char *p = strstr(n, "layers.1.");
    if (p) snprintf(nn, cap, "%.*slayers.7.%s", (int)(p - n), n, p + 9);
    return 1;
}
static int drop_one_b(const char *n, char *nn, size_t cap, char *dt, float *v, size_t k) {
    (void)nn, (void)cap, (void)dt, (void)v, (void)k;
    return !strstr(n, "decoder.layers.0.fc1.lora_B");
}
static int put_nan(const char *n, char *nn, size_t cap, char *dt, float *v, size_t k) {
    (void)nn, (void)cap, (void)dt;
    if (strstr(n, "encoder.layers.0.fc2.lora_A") && k) v[k / 2] = NAN;
    return 1;
}
static int as_int32(const char *n, char *nn, size_t cap, char *dt, float *v, size_t k) {
    (void)nn, (void)cap, (void)v, (void)k;
    if (strstr(n, "encoder.layers.0.fc2.lora_A")) snprintf(dt, 8, "I32");
    return 1;
}
static int lora_on_conv(const char *n, char *nn, size_t cap, char *dt, float *v, size_t k) {
    (void)dt, (void)v, (void)k;
    const char *p = strstr(n, "encoder.layers.0.fc1.");
    if (p) snprintf(nn, cap, "%.*sencoder.conv1.%s", (int)(p - n), n, p + 21);
    return 1;
}
static int bn_rename_place(const char *n, char *nn, size_t cap, char *dt, float *v, size_t k) {
    (void)dt, (void)v, (void)k;
    const char *p = strstr(n, "encoder.layers.0.output_adapters");
    if (p) snprintf(nn, cap, "%.*sencoder.layers.0.cross_attention_adapters%s", (int)(p - n), n, p + 32);
    return 1;
}
static int bn_drop_up(const char *n, char *nn, size_t cap, char *dt, float *v, size_t k) {
    (void)nn, (void)cap, (void)dt, (void)v, (void)k;
    return !strstr(n, "decoder.layers.1.output_adapters.adapters.bn_seq.adapter_up.weight");
}

Test(adapter, bad_adapters_refused_clearly) {
    NEED_FIXTURES();
    uzw_model *m = load_model(model_f32);
    expect_refused(m, tu_src("tests/fixtures/adapters/lora_bin"), UZW_ERR_UNSUPPORTED, "safetensors");
    expect_refused(m, tu_src("tests/fixtures/adapters/lora_dora"), UZW_ERR_UNSUPPORTED, "use_dora");
    expect_refused(m, "/nonexistent/adapter", UZW_ERR_IO, "adapter_config.json");
    /* LoRA */
    expect_refused(m, make_variant("lora_plain", "rank", "r", json_integer(4), NULL), UZW_ERR_MODEL_FORMAT, "rank 4");
    expect_refused(m, make_variant("lora_plain", "targets", "target_modules", json_pack("[s]", "q_proj"), NULL),
                   UZW_ERR_MODEL_FORMAT, "does not select");
    expect_refused(m, make_variant("lora_plain", "layer7", NULL, NULL, rename_to_layer7), UZW_ERR_MODEL_FORMAT, "no module");
    expect_refused(m, make_variant("lora_plain", "noB", NULL, NULL, drop_one_b), UZW_ERR_MODEL_FORMAT, "no lora_B");
    expect_refused(m, make_variant("lora_plain", "nan", NULL, NULL, put_nan), UZW_ERR_MODEL_FORMAT, "non-finite");
    expect_refused(m, make_variant("lora_plain", "i32", NULL, NULL, as_int32), UZW_ERR_MODEL_FORMAT, "I32");
    expect_refused(m, make_variant("lora_plain", "conv", NULL, NULL, lora_on_conv), UZW_ERR_UNSUPPORTED, "not supported");
    expect_refused(m, make_variant("lora_plain", "pissa", "init_lora_weights", json_string("pissa"), NULL),
                   UZW_ERR_UNSUPPORTED, "init_lora_weights");
    expect_refused(m, make_variant("lora_plain", "ia3", "peft_type", json_string("IA3"), NULL), UZW_ERR_UNSUPPORTED, "IA3");
    expect_refused(m, make_variant("lora_plain", "badre", "target_modules", json_string("(q_proj"), NULL),
                   UZW_ERR_MODEL_FORMAT, "regular expression");
    expect_refused(m, make_variant("lora_plain", "qalora", "use_qalora", json_true(), NULL), UZW_ERR_UNSUPPORTED, "QALoRA");
    expect_refused(m, make_variant("lora_patterns", "nolorabias", "lora_bias", json_false(), NULL), UZW_ERR_MODEL_FORMAT,
                   "lora_bias");
    expect_refused(m, make_variant("lora_patterns", "nosave", "modules_to_save", json_null(), NULL), UZW_ERR_MODEL_FORMAT,
                   "modules_to_save");
    /* bottleneck */
    expect_refused(m, make_variant("bn_seq", "rf", "config.reduction_factor", json_integer(4), NULL), UZW_ERR_MODEL_FORMAT,
                   "wrong shape");
    expect_refused(m, make_variant("bn_seq", "place", NULL, NULL, bn_rename_place), UZW_ERR_MODEL_FORMAT, "no adapter place");
    expect_refused(m, make_variant("bn_seq", "noup", NULL, NULL, bn_drop_up), UZW_ERR_MODEL_FORMAT, "lacks");
    expect_refused(m, make_variant("bn_seq", "leave", "config.leave_out", json_pack("[i]", 0), NULL), UZW_ERR_MODEL_FORMAT,
                   "no adapter there");
    expect_refused(m, make_variant("bn_seq", "par", "config.is_parallel", json_true(), NULL), UZW_ERR_UNSUPPORTED, "parallel");
    expect_refused(m, make_variant("bn_seq", "act", "config.non_linearity", json_string("mish"), NULL), UZW_ERR_UNSUPPORTED,
                   "mish");
    expect_refused(m, make_variant("bn_seq", "arch", "config.architecture", json_string("prefix_tuning"), NULL),
                   UZW_ERR_UNSUPPORTED, "prefix_tuning");
    expect_refused(m, make_variant("bn_seq", "hidden", "hidden_size", json_integer(64), NULL), UZW_ERR_MODEL_FORMAT,
                   "hidden_size");
    uzw_model_free(m);
}

/* ---------------------------------------------------------------- the commands */

Test(adapter, commands) {
    NEED_FIXTURES();
    char bin[300], lora[300], cmd[4096], out[8192], merged[300], wav[300];
    snprintf(bin, sizeof bin, "%s", tu_build("uzwhisper")); /* tu_* paths live in a few rotating slots */
    snprintf(lora, sizeof lora, "%s", tu_src("tests/fixtures/adapters/lora_plain"));
    /* convert --adapter writes the merged model: its greedy tokens are PEFT's */
    snprintf(merged, sizeof merged, "%s/merged.uzw", tmpdir);
    snprintf(cmd, sizeof cmd, "%s convert --adapter %s %s %s", bin, tu_src("tests/fixtures/adapters/lora_plain"),
             tu_src("tests/fixtures/tiny-random/hf"), merged);
    cr_assert_eq(tu_run(cmd, out, sizeof out), 0, "%s", out);
    uzw_model *m = load_model(merged);
    run_out o;
    run_greedy(m, NULL, 0, &o);
    json_t *g = golden_of("lora_plain");
    expect_tokens(&o, json_object_get(g, "tokens"), "convert --adapter");
    json_decref(g);
    free(o.logits_first);
    uzw_model_free(m);
    snprintf(cmd, sizeof cmd, "%s inspect %s | grep source.adapters", bin, merged);
    cr_assert_eq(tu_run(cmd, out, sizeof out), 0, "%s", out);
    cr_assert(strstr(out, "lora_plain:"), "source.adapters missing from inspect:\n%s", out);
    snprintf(cmd, sizeof cmd, "%s convert --adapter %s %s %s/x.uzw", bin, tu_src("tests/fixtures/adapters/bn_seq"),
             tu_src("tests/fixtures/tiny-random/hf"), tmpdir);
    cr_assert_neq(tu_run(cmd, out, sizeof out), 0);
    cr_assert(strstr(out, "non-linear"), "%s", out);

    /* transcribe: merged (--adapter DIR) and unmerged (NAME=DIR + --use-adapter) print the same text */
    snprintf(wav, sizeof wav, "%s", tu_shared("data/en/jfk.flac"));
    if (!tu_exists(wav)) cr_skip_test("shared data missing");
    const char *opts = "-l en --beam-size 1 --without-timestamps --temperature 0 --max-tokens 12 --languages any "
                       "--no-code-switch";
    char a[4096], b[4096], c[4096];
    snprintf(cmd, sizeof cmd, "%s transcribe -m %s %s --adapter %s %s 2>&1", bin, model_f32, opts,
             lora, wav);
    cr_assert_eq(tu_run(cmd, a, sizeof a), 0, "%s", a);
    snprintf(cmd, sizeof cmd, "%s transcribe -m %s %s --adapter uzb=%s --use-adapter uzb %s 2>&1", bin, model_f32, opts,
             lora, wav);
    cr_assert_eq(tu_run(cmd, b, sizeof b), 0, "%s", b);
    cr_assert_str_eq(a, b);
    snprintf(cmd, sizeof cmd, "%s transcribe -m %s %s --json --adapter uzb=%s --use-adapter uzb %s 2>&1", bin, model_f32, opts,
             lora, wav);
    cr_assert_eq(tu_run(cmd, out, sizeof out), 0, "%s", out);
    cr_assert(strstr(out, "\"adapters\":[\"uzb\"]"), "the JSON does not name the adapter: %s", out);
    snprintf(cmd, sizeof cmd, "%s transcribe -m %s %s --adapter uzb=%s %s 2>&1", bin, model_f32, opts,
             lora, wav);
    cr_assert_eq(tu_run(cmd, c, sizeof c), 0, "%s", c);
    cr_assert_str_neq(a, c, "resident but unused, the adapter must not change the output");
    /* a manifest chooses per line */
    char man[300], odir[300];
    snprintf(man, sizeof man, "%s/list.jsonl", tmpdir);
    snprintf(odir, sizeof odir, "%s/out", tmpdir);
    FILE *f = fopen(man, "w");
    fprintf(f, "{\"audio\": \"%s\", \"id\": \"with\", \"adapter\": \"uzb\"}\n{\"audio\": \"%s\", \"id\": \"without\"}\n", wav, wav);
    fclose(f);
    snprintf(cmd, sizeof cmd, "%s transcribe -m %s %s --adapter uzb=%s --manifest %s -o %s -w 1 --no-progress 2>&1", bin,
             model_f32, opts, lora, man, odir);
    cr_assert_eq(tu_run(cmd, out, sizeof out), 0, "%s", out);
    char p1[400], p2[400];
    snprintf(p1, sizeof p1, "%s/with.txt", odir);
    snprintf(p2, sizeof p2, "%s/without.txt", odir);
    size_t n1, n2;
    char *t1 = (char *)tu_read_file(p1, &n1), *t2 = (char *)tu_read_file(p2, &n2);
    cr_assert(t1 && t2);
    cr_assert_str_neq(t1, t2, "the manifest's adapter field changed nothing");
    free(t1);
    free(t2);
    /* inspect checks an adapter folder against a model and lists it */
    snprintf(cmd, sizeof cmd, "%s inspect %s -m %s 2>&1", bin, tu_src("tests/fixtures/adapters/lora_patterns"), model_f32);
    cr_assert_eq(tu_run(cmd, out, sizeof out), 0, "%s", out);
    cr_assert(strstr(out, "dec.1.xattn.q  rank 4    scale 8 "), "%s", out);
    cr_assert(strstr(out, "unmerged: no: it replaces"), "%s", out);
    snprintf(cmd, sizeof cmd, "%s inspect %s -m %s 2>&1", bin, tu_src("tests/fixtures/adapters/lora_dora"), model_f32);
    cr_assert_eq(tu_run(cmd, out, sizeof out), 2, "%s", out);
    /* bench scores the model with the adapter and says so */
    f = fopen(man, "w");
    fprintf(f, "{\"audio\": \"%s\", \"text\": \"and so my fellow americans\", \"language\": \"en\"}\n", wav);
    fclose(f);
    snprintf(cmd, sizeof cmd, "%s bench %s -m %s --adapter %s --max-tokens 8 --beam-size 1 --md %s/b.md --quiet 2>&1", bin, man,
             model_f32, lora, tmpdir);
    cr_assert_eq(tu_run(cmd, out, sizeof out), 0, "%s", out);
    snprintf(p1, sizeof p1, "%s/b.md", tmpdir);
    char *md = (char *)tu_read_file(p1, &n1);
    cr_assert(md && strstr(md, "with adapters `lora_plain`"), "%s", md ? md : "(no report)");
    free(md);
    /* unknown names fail before any work */
    f = fopen(man, "w");
    fprintf(f, "{\"audio\": \"%s\", \"adapter\": \"nope\"}\n", wav);
    fclose(f);
    snprintf(cmd, sizeof cmd, "%s transcribe -m %s --adapter uzb=%s --manifest %s 2>&1", bin, model_f32,
             lora, man);
    cr_assert_eq(tu_run(cmd, out, sizeof out), 1, "%s", out);
    cr_assert(strstr(out, "no adapter named 'nope'"), "%s", out);
    snprintf(cmd, sizeof cmd, "%s transcribe -m %s --use-adapter x %s 2>&1", bin, model_f32, wav);
    cr_assert_eq(tu_run(cmd, out, sizeof out), 1, "%s", out);
    cr_assert(strstr(out, "no adapter named 'x'"), "%s", out);
    snprintf(cmd, sizeof cmd, "%s transcribe -m %s --adapter %s %s 2>&1", bin, model_f32,
             tu_src("tests/fixtures/adapters/lora_dora"), wav);
    cr_assert_eq(tu_run(cmd, out, sizeof out), 2, "%s", out);
    cr_assert(strstr(out, "DoRA"), "%s", out);
}
