/*
 * Reference parity on the random-weight fixture model (tests/fixtures/tiny-random, made by
 * tests/reference/make_golden.py with openai-whisper, HF transformers and CTranslate2): the HF, CT2
 * and ggml copies are each converted here, then the engine's log-mel, encoder output, decoder
 * logits, language detection and greedy tokens are compared with the goldens.
 *
 * Tolerances (f32 everywhere, different summation orders than PyTorch):
 *   log-mel      |d| <= 1e-4 (normalised log10 units; FFTW vs torch.stft round-off, see test_mel)
 *   encoder out  |d| <= 2e-3 + 1e-3|ref| (values O(1) after ln_post; two layers of f32 matmuls)
 *   logits       |d| <= 2e-3 + 1e-3|ref|
 *   tokens and detected language: identical.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audio/audio.h"
#include "decode/context.h"
#include "decode/search.h"
#include "import.h"
#include "mel/mel.h"
#include "testutil.h"

static json_t *golden;
static char tmpdir[128];
static char model_paths[3][256];
static const char *formats[3] = {"hf", "ct2", "ggml"};

static int have_fixture(void) {
    return tu_exists(tu_src("tests/fixtures/golden/golden.json")) && tu_exists(tu_src("tests/fixtures/tiny-random/hf"));
}

static void convert(int which) {
    uzw_import im;
    uzw_import_init(&im);
    char err[1024] = "";
    int rc;
    if (which == 0) rc = uzw_import_hf(tu_src("tests/fixtures/tiny-random/hf"), &im, err, sizeof err);
    else if (which == 1) rc = uzw_import_ct2(tu_src("tests/fixtures/tiny-random/ct2"), &im, err, sizeof err);
    else rc = uzw_import_ggml(tu_src("tests/fixtures/tiny-random/ggml/model.bin"), &im, err, sizeof err);
    cr_assert_eq(rc, 0, "import %s: %s", formats[which], err);
    snprintf(model_paths[which], sizeof model_paths[which], "%s/%s.uzw", tmpdir, formats[which]);
    cr_assert_eq(uzw_import_write(&im, model_paths[which], UZW_DT_F32, err, sizeof err), 0, "write %s: %s", formats[which], err);
    uzw_import_free(&im);
}

static void setup(void) {
    if (!have_fixture()) return;
    json_error_t je;
    golden = json_load_file(tu_src("tests/fixtures/golden/golden.json"), 0, &je);
    cr_assert(golden, "golden.json: %s", je.text);
    snprintf(tmpdir, sizeof tmpdir, "/tmp/uzw-golden-XXXXXX");
    cr_assert(mkdtemp(tmpdir));
    for (int i = 0; i < 3; i++) convert(i);
}

static void teardown(void) {
    if (!golden) return;
    for (int i = 0; i < 3; i++) unlink(model_paths[i]);
    rmdir(tmpdir);
    json_decref(golden);
}

TestSuite(golden, .init = setup, .fini = teardown);

static float *golden_f32(json_t *clip, const char *key, size_t *n) {
    json_t *f = json_object_get(json_object_get(clip, "files"), key);
    if (!f) return NULL;
    char rel[256];
    snprintf(rel, sizeof rel, "tests/fixtures/golden/%s", json_string_value(json_object_get(f, "file")));
    float *v = tu_read_f32(tu_src(rel), n);
    cr_assert(v, "cannot read %s", rel);
    return v;
}

/* The clip's 16 kHz samples: the golden's own resampled copy if there is one, else the file. */
static float *clip_pcm(json_t *clip, size_t *n) {
    float *pcm = golden_f32(clip, "pcm_16k", n);
    if (pcm) return pcm;
    char rel[256], err[256];
    snprintf(rel, sizeof rel, "%s", json_string_value(json_object_get(clip, "source")));
    cr_assert_eq(uzw_audio_load_16k(tu_shared(rel), &pcm, n, err, sizeof err), 0, "%s", err);
    return pcm;
}

static void tokens_of(json_t *arr, int32_t *out, int *n) {
    *n = (int)json_array_size(arr);
    for (int i = 0; i < *n; i++) out[i] = (int32_t)json_integer_value(json_array_get(arr, (size_t)i));
}

/* Load a converted model and a context, and put the clip's window log-mel in ctx->st.mel_win exactly
 * as whisper.log_mel_spectrogram(whisper.pad_or_trim(pcm)) computes it. */
static void open_clip_window(const char *model_path, json_t *clip, uzw_model **m, uzw_context **ctx) {
    char err[1024];
    cr_assert_eq(uzw_model_load(model_path, NULL, m, err, sizeof err), UZW_OK, "%s", err);
    cr_assert_eq(uzw_context_create(*m, ctx), UZW_OK);
    size_t n;
    float *pcm = clip_pcm(clip, &n);
    size_t use = n < UZW_CHUNK_SAMPLES ? n : UZW_CHUNK_SAMPLES;
    cr_assert_eq(uzw_mel_compute((*ctx)->mel_plan, pcm, use, UZW_CHUNK_SAMPLES - use, (*ctx)->st.mel_win), 0);
    free(pcm);
}

/* One clip through one converted model. */
static void check_clip(const char *model_path, const char *fmt, const char *name) {
    json_t *clip = json_object_get(json_object_get(golden, "clips"), name);
    cr_assert(clip, "golden.json has no clip %s", name);
    uzw_model *m = NULL;
    uzw_context *ctx = NULL;
    open_clip_window(model_path, clip, &m, &ctx);
    size_t ng;
    float *gm = golden_f32(clip, "mel", &ng);
    if (gm) {
        cr_assert_eq(ng, (size_t)80 * 3000);
        tu_cmp c = tu_compare(ctx->st.mel_win, gm, ng, 1e-4, 0);
        cr_expect_eq(c.n_bad, 0, "[%s/%s] mel: %zu bad, max abs diff %g at %zu", fmt, name, c.n_bad, c.max_abs, c.worst);
        printf("[%s/%s] mel max abs diff %.3g\n", fmt, name, c.max_abs);
        free(gm);
    }
    /* encoder */
    uzw_encode(m, &ctx->st);
    float *ge = golden_f32(clip, "encoder_out", &ng);
    size_t A = (size_t)m->dims.n_audio_ctx, D = (size_t)m->dims.n_audio_state, V = (size_t)m->dims.n_vocab;
    cr_assert_eq(ng, A * D);
    tu_cmp c = tu_compare(ctx->st.enc_out, ge, ng, 2e-3, 1e-3);
    cr_expect_eq(c.n_bad, 0, "[%s/%s] encoder: %zu bad, max abs diff %g", fmt, name, c.n_bad, c.max_abs);
    printf("[%s/%s] encoder max abs diff %.3g\n", fmt, name, c.max_abs);
    free(ge);

    /* logits of the last prompt position */
    int32_t prompt[512];
    int np;
    tokens_of(json_object_get(clip, "prompt_logits_prompt"), prompt, &np);
    uzw_decoder_begin(m, &ctx->st);
    cr_assert_eq(uzw_decoder_step(m, &ctx->st, prompt, np), 0);
    float *gl = golden_f32(clip, "prompt_logits", &ng);
    cr_assert_eq(ng, V);
    c = tu_compare(ctx->st.logits, gl, ng, 2e-3, 1e-3);
    cr_expect_eq(c.n_bad, 0, "[%s/%s] logits: %zu bad, max abs diff %g", fmt, name, c.n_bad, c.max_abs);
    printf("[%s/%s] logits max abs diff %.3g\n", fmt, name, c.max_abs);
    free(gl);

    /* language detection on this window */
    int li = uzw_detect_language(ctx);
    const char *want = json_string_value(json_object_get(json_object_get(clip, "language_detection"), "detected"));
    cr_expect_str_eq(m->lang_codes[li], want, "[%s/%s] detected %s, reference %s", fmt, name, m->lang_codes[li], want);

    /* greedy tokens, with the clip's language and with the detected one */
    json_t *greedy = json_object_get(clip, "greedy");
    const char *key;
    json_t *g;
    json_object_foreach(greedy, key, g) {
        int32_t want_tok[512], got[512];
        int nw;
        tokens_of(json_object_get(g, "prompt"), prompt, &np);
        tokens_of(json_object_get(g, "tokens"), want_tok, &nw);
        int max_tokens = (int)json_integer_value(json_object_get(clip, "max_tokens"));
        uzw_search_opts so = {.filters = {.suppress_blank = 1, .timestamps = 0, .max_initial_timestamp_index = -1},
                              .max_sample = max_tokens, .temperature = 0, .beam_size = 1, .length_penalty = 1};
        uzw_search_result ws = {.tokens = got};
        cr_assert_eq(uzw_search_window(m, &ctx->st, prompt, np, &so, &ws), 0);
        int ng2 = ws.n_tokens;
        int first_diff = -1;
        for (int i = 0; i < (ng2 < nw ? ng2 : nw); i++)
            if (got[i] != want_tok[i]) { first_diff = i; break; }
        cr_expect(ng2 == nw && first_diff < 0, "[%s/%s/%s] greedy tokens differ: %d vs %d tokens, first difference at %d",
                  fmt, name, key, ng2, nw, first_diff);
        double want_lp = json_real_value(json_object_get(g, "avg_logprob"));
        double want_ns = json_real_value(json_object_get(g, "no_speech_prob"));
        cr_expect(fabs(ws.avg_logprob - want_lp) < 1e-3, "[%s/%s/%s] avg_logprob %.5f vs %.5f", fmt, name, key, ws.avg_logprob, want_lp);
        cr_expect(fabs(ws.no_speech_prob - want_ns) < 1e-4, "[%s/%s/%s] no_speech_prob %.6f vs %.6f", fmt, name, key, ws.no_speech_prob, want_ns);
        printf("[%s/%s/%s] greedy %d tokens, identical: %s\n", fmt, name, key, ng2, (ng2 == nw && first_diff < 0) ? "yes" : "no");
    }
    uzw_context_free(ctx);
    uzw_model_free(m);
}

#define CLIP_TESTS(fmt_i, fmt)                                                       \
    Test(golden, fmt##_jfk) { if (!golden) cr_skip_test("fixtures missing: run tests/reference/make_golden.py"); check_clip(model_paths[fmt_i], #fmt, "jfk"); } \
    Test(golden, fmt##_uz) { if (!golden) cr_skip_test("fixtures missing: run tests/reference/make_golden.py"); check_clip(model_paths[fmt_i], #fmt, "uz"); }   \
    Test(golden, fmt##_ru) { if (!golden) cr_skip_test("fixtures missing: run tests/reference/make_golden.py"); check_clip(model_paths[fmt_i], #fmt, "ru"); }

CLIP_TESTS(0, hf)
CLIP_TESTS(1, ct2)
CLIP_TESTS(2, ggml)

/* The engine's own resampler against python-samplerate on the same file (the golden pcm). */
Test(golden, resampler_matches_reference) {
    if (!golden) cr_skip_test("fixtures missing: run tests/reference/make_golden.py");
    json_t *clip = json_object_get(json_object_get(golden, "clips"), "uz");
    size_t ng, n;
    float *ref = golden_f32(clip, "pcm_16k", &ng);
    cr_assert(ref);
    float *pcm;
    char err[256];
    cr_assert_eq(uzw_audio_load_16k(tu_shared(json_string_value(json_object_get(clip, "source"))), &pcm, &n, err, sizeof err), 0, "%s", err);
    cr_expect_eq(n, ng, "resampled length %zu vs reference %zu", n, ng);
    tu_cmp c = tu_compare(pcm, ref, n < ng ? n : ng, 1e-5, 0);
    cr_expect_eq(c.n_bad, 0, "resampler: max abs diff %g at %zu", c.max_abs, c.worst);
    printf("resampler max abs diff %.3g over %zu samples\n", c.max_abs, n);
    free(pcm);
    free(ref);
}

/* Greedy decoding WITH timestamps on one window (the timestamp rules, max initial timestamp 1.0 s)
 * against openai-whisper on the same random model (tests/fixtures/decoding/tiny_random.json). Beam
 * search is compared on the real weights against faster-whisper instead (test_real_decoding.c):
 * we run CTranslate2's beam search, which differs from OAI's BeamSearchDecoder by design. */
static void check_timestamps(const char *name) {
    json_error_t je;
    json_t *tr = json_load_file(tu_src("tests/fixtures/decoding/tiny_random.json"), 0, &je);
    cr_assert(tr, "tiny_random.json: %s", je.text);
    json_t *g = json_object_get(json_object_get(json_object_get(json_object_get(tr, "clips"), name), "greedy_ts"), "tokens");
    json_t *gp = json_object_get(json_object_get(json_object_get(json_object_get(tr, "clips"), name), "greedy_ts"), "prompt");
    cr_assert(g && gp, "no greedy_ts golden for %s", name);
    json_t *clip = json_object_get(json_object_get(golden, "clips"), name);
    uzw_model *m = NULL;
    uzw_context *ctx = NULL;
    open_clip_window(model_paths[0], clip, &m, &ctx);
    uzw_encode(m, &ctx->st);
    int32_t prompt[16], want[512], got[512];
    int np, nw;
    tokens_of(gp, prompt, &np);
    tokens_of(g, want, &nw);
    uzw_search_opts so = {.filters = {.suppress_blank = 1, .timestamps = 1, .max_initial_timestamp_index = 50},
                          .max_sample = 224, .temperature = 0, .beam_size = 1, .length_penalty = 1};
    uzw_search_result r = {.tokens = got};
    cr_assert_eq(uzw_search_window(m, &ctx->st, prompt, np, &so, &r), 0);
    int first_diff = -1, n_ts = 0;
    for (int i = 0; i < (r.n_tokens < nw ? r.n_tokens : nw); i++)
        if (got[i] != want[i]) { first_diff = i; break; }
    for (int i = 0; i < r.n_tokens; i++) n_ts += got[i] >= m->sp.timestamp_begin;
    cr_expect(r.n_tokens == nw && first_diff < 0, "[hf/%s/timestamps] %d vs %d tokens, first difference at %d", name,
              r.n_tokens, nw, first_diff);
    printf("[hf/%s/greedy+timestamps] %d tokens (%d timestamps), identical: %s\n", name, r.n_tokens, n_ts,
           (r.n_tokens == nw && first_diff < 0) ? "yes" : "no");
    uzw_context_free(ctx);
    uzw_model_free(m);
    json_decref(tr);
}

Test(golden, timestamps_jfk) { if (!golden) cr_skip_test("fixtures missing"); check_timestamps("jfk"); }
Test(golden, timestamps_uz) { if (!golden) cr_skip_test("fixtures missing"); check_timestamps("uz"); }
Test(golden, timestamps_ru) { if (!golden) cr_skip_test("fixtures missing"); check_timestamps("ru"); }
