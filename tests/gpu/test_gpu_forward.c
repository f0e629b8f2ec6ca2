/* gpu label: the CUDA forward pass (engine/gpu) against the CPU reference forward pass on the same
 * weights: the random-weight fixture model (tests/fixtures/tiny-random, every golden clip), the
 * same model quantised to INT8 (both schemes, weights/quantize.h: the GPU's INT8 kernels against
 * the CPU's INT8 products on the same int8 file) and, when models/default.uzw is present, the real
 * base model on the clips in ../shared/data.
 *
 * Tolerances (fp16 weights and activations against the f32 reference; docs/kernels.md):
 *   encoder output  ||gpu - cpu|| / ||cpu|| <= 1e-2
 *   prompt logits   ||gpu - cpu|| / ||cpu|| <= 1e-2
 *   greedy and beam-search tokens: identical (a difference is reported with the position and the
 *   two logit margins, so a genuine near-tie can be told from a bug).
 * The INT8 files use the same bounds: the weights are the same int8 values and scales on both
 * sides (exact in fp16), so what differs is what differs for float models (fp16 activations,
 * summation order), plus for W8A8 the activation rows quantised from fp16 values on the GPU and
 * from f32 values on the CPU: a value within fp16 rounding of a rounding boundary of x * 127 / amax
 * lands one int8 step apart (well under 1% of the values, each off by amax / 127), about 2e-3 of
 * relative error per product, inside 1e-2. Greedy tokens (with and without timestamps) are
 * expected identical; beam search is left to the float test (its ranking of near-equal hypotheses
 * is the first thing such a perturbation flips).
 * Skips with the reason where there is no GPU or no CUDA build. */
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
#include "quantize.h"
#include "testutil.h"
#ifdef UZW_HAVE_CUDA
#include "cuda_api.h"
#include "gpu/gpu.h"
#endif

#ifdef UZW_HAVE_CUDA
static void need_gpu(void) {
    char err[256] = "";
    if (uzw_cuda_device_count(err, sizeof err) == 0) cr_skip_test("no CUDA device: %s", err);
}

static double rel_l2(const float *a, const float *ref, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)a[i] - ref[i];
        num += isfinite(d) ? d * d : INFINITY;
        den += (double)ref[i] * ref[i];
    }
    return den > 0 ? sqrt(num / den) : sqrt(num);
}

/* The model at path, a CPU context and a CUDA context on it. */
static void open_pair(const char *path, uzw_model **m, uzw_context **cpu, uzw_context **gpu) {
    char err[1024];
    cr_assert_eq(uzw_model_load(path, NULL, m, err, sizeof err), UZW_OK, "%s", err);
    cr_assert_eq(uzw_context_create(*m, cpu), UZW_OK);
    cr_assert_eq(uzw_context_create(*m, gpu), UZW_OK);
    cr_assert_eq(uzw_context_set_device(*gpu, "cuda"), UZW_OK, "%s", uzw_last_error(*gpu));
}

/* The tiny fixture converted from its HF copy into dir/tiny.uzw. */
static int tiny_model(char *dir, size_t dir_cap, char *path, size_t path_cap) {
    if (!tu_exists(tu_src("tests/fixtures/tiny-random/hf"))) return -1;
    snprintf(dir, dir_cap, "/tmp/uzw-gpu-XXXXXX");
    cr_assert(mkdtemp(dir));
    uzw_import im;
    uzw_import_init(&im);
    char err[1024] = "";
    cr_assert_eq(uzw_import_hf(tu_src("tests/fixtures/tiny-random/hf"), &im, err, sizeof err), 0, "%s", err);
    snprintf(path, path_cap, "%s/tiny.uzw", dir);
    cr_assert_eq(uzw_import_write(&im, path, UZW_DT_F32, err, sizeof err), 0, "%s", err);
    uzw_import_free(&im);
    return 0;
}

static float *golden_f32(json_t *clip, const char *key, size_t *n) {
    json_t *f = json_object_get(json_object_get(clip, "files"), key);
    if (!f) return NULL;
    char rel[256];
    snprintf(rel, sizeof rel, "tests/fixtures/golden/%s", json_string_value(json_object_get(f, "file")));
    return tu_read_f32(tu_src(rel), n);
}

static float *clip_pcm(json_t *clip, size_t *n) {
    float *pcm = golden_f32(clip, "pcm_16k", n);
    if (pcm) return pcm;
    char err[256];
    cr_assert_eq(uzw_audio_load_16k(tu_shared(json_string_value(json_object_get(clip, "source"))), &pcm, n, err,
                                    sizeof err),
                 0, "%s", err);
    return pcm;
}

static void tokens_of(json_t *arr, int32_t *out, int *n) {
    *n = (int)json_array_size(arr);
    for (int i = 0; i < *n; i++) out[i] = (int32_t)json_integer_value(json_array_get(arr, (size_t)i));
}

/* Both contexts' windows hold the clip's first 30 s log-mel. */
static void fill_windows(json_t *clip, uzw_context *cpu, uzw_context *gpu) {
    size_t n;
    float *pcm = clip_pcm(clip, &n);
    size_t use = n < UZW_CHUNK_SAMPLES ? n : UZW_CHUNK_SAMPLES;
    cr_assert_eq(uzw_mel_compute(cpu->mel_plan, pcm, use, UZW_CHUNK_SAMPLES - use, cpu->st.mel_win), 0);
    size_t nm = (size_t)cpu->m->dims.n_mels * 2 * cpu->m->dims.n_audio_ctx;
    memcpy(gpu->st.mel_win, cpu->st.mel_win, nm * sizeof(float));
    free(pcm);
}

/* Search one window on both and compare the tokens. */
static void same_search(const char *what, const uzw_model *m, uzw_context *cpu, uzw_context *gpu, const int32_t *prompt,
                        int np, const uzw_search_opts *so) {
    int32_t a[512], b[512];
    uzw_search_result ra = {.tokens = a}, rb = {.tokens = b};
    cr_assert_eq(uzw_search_window(m, &cpu->st, prompt, np, so, &ra), 0);
    cr_assert_eq(uzw_search_window(m, &gpu->st, prompt, np, so, &rb), 0, "%s: gpu search failed: %s", what, gpu->st.gpu_err);
    int first = -1;
    for (int i = 0; i < (ra.n_tokens < rb.n_tokens ? ra.n_tokens : rb.n_tokens); i++)
        if (a[i] != b[i]) { first = i; break; }
    cr_expect(ra.n_tokens == rb.n_tokens && first < 0, "%s: cpu %d tokens, gpu %d, first difference at %d", what,
              ra.n_tokens, rb.n_tokens, first);
    printf("%s: %d tokens, identical: %s, sum logprob cpu %.4f gpu %.4f\n", what, ra.n_tokens,
           ra.n_tokens == rb.n_tokens && first < 0 ? "yes" : "no", ra.sum_logprob, rb.sum_logprob);
}

/* The model at path on the CPU and on the GPU over every golden clip: encoder output, prompt
 * logits, then greedy (and with beams, beam 5) search with and without timestamps. */
static void compare_on_golden(const char *path, int with_beam, int quant) {
    json_error_t je;
    json_t *golden = json_load_file(tu_src("tests/fixtures/golden/golden.json"), 0, &je);
    cr_assert(golden, "golden.json: %s", je.text);
    uzw_model *m = NULL;
    uzw_context *cpu = NULL, *gpu = NULL;
    open_pair(path, &m, &cpu, &gpu);
    cr_assert_eq(m->quant, quant, "%s: quant %d, expected %d", path, m->quant, quant);
    if (quant != UZW_QUANT_NONE) {
        /* the INT8 matrices stay INT8 on the device; W8A8 only where the CPU takes it too */
        const uzw_gpu_model *g = gpu->gmodel;
        int a8 = quant == UZW_QUANT_W8A8;
        cr_expect(g->tok_emb.q && !g->tok_emb.h, "tok_emb is not int8 on the device");
        cr_expect(g->enc[0].qkv_w.q && g->enc[0].fc2_w.q && g->dec[0].xkv_w.q && g->dec[0].fc1_w.q,
                  "a matrix was widened to fp16");
        cr_expect_eq(g->enc[0].fc1_w.a8, a8);
        cr_expect_eq(g->enc[0].qkv_w.a8, a8);
        cr_expect_eq(g->dec[0].xkv_w.a8, a8);
        cr_expect_eq(g->dec[0].qkv_w.a8, 0);
        cr_expect_eq(g->dec[0].fc2_w.a8, 0);
        cr_expect_eq(g->tok_emb.a8, 0);
        cr_expect_eq(g->any_a8, a8);
        cr_expect_eq(gpu->gstate->xq != NULL, a8);
    }
    cr_assert_eq(uzw_ctx_reserve_sequences(cpu, 5), UZW_OK);
    cr_assert_eq(uzw_ctx_reserve_sequences(gpu, 5), UZW_OK, "%s", uzw_last_error(gpu));
    size_t A = (size_t)m->dims.n_audio_ctx, D = (size_t)m->dims.n_audio_state, V = (size_t)m->dims.n_vocab;
    uzwk_f16 *enc16 = malloc(A * D * sizeof(uzwk_f16));
    float *enc = malloc(A * D * sizeof(float));
    cr_assert(enc16 && enc);
    const char *tag = quant == UZW_QUANT_W8A16 ? " w8a16" : quant == UZW_QUANT_W8A8 ? " w8a8" : "";
    const char *name;
    json_t *clip;
    json_object_foreach(json_object_get(golden, "clips"), name, clip) {
        fill_windows(clip, cpu, gpu);
        cr_assert_eq(uzw_encode(m, &cpu->st), 0);
        cr_assert_eq(uzw_encode(m, &gpu->st), 0, "%s", gpu->st.gpu_err);
        cr_assert_eq(uzwk_d2h(gpu->kctx, enc16, gpu->gstate->enc_out, A * D * sizeof(uzwk_f16)), 0);
        for (size_t i = 0; i < A * D; i++) enc[i] = uzwk_f16_to_f32_host(enc16[i]);
        double e = rel_l2(enc, cpu->st.enc_out, A * D);
        printf("[%s]%s encoder output: relative error %.3g\n", name, tag, e);
        cr_expect_leq(e, 1e-2, "[%s]%s encoder output: relative error %g", name, tag, e);
        /* prompt logits */
        int32_t prompt[64];
        int np;
        tokens_of(json_object_get(clip, "prompt_logits_prompt"), prompt, &np);
        cr_assert_eq(uzw_decoder_begin(m, &cpu->st), 0);
        cr_assert_eq(uzw_decoder_step(m, &cpu->st, prompt, np), 0);
        cr_assert_eq(uzw_decoder_begin(m, &gpu->st), 0);
        cr_assert_eq(uzw_decoder_step(m, &gpu->st, prompt, np), 0, "%s", gpu->st.gpu_err);
        e = rel_l2(gpu->st.logits, cpu->st.logits, V);
        printf("[%s]%s prompt logits: relative error %.3g\n", name, tag, e);
        cr_expect_leq(e, 1e-2, "[%s]%s prompt logits: relative error %g", name, tag, e);
        /* greedy (and beam) search over the same window, with and without timestamps */
        int max_tokens = (int)json_integer_value(json_object_get(clip, "max_tokens"));
        for (int ts = 0; ts <= 1; ts++)
            for (int beam = 1; beam <= (with_beam ? 5 : 1); beam += 4) {
                uzw_search_opts so = {.filters = {.suppress_blank = 1, .timestamps = ts, .max_initial_timestamp_index = 50},
                                      .max_sample = max_tokens, .temperature = 0, .beam_size = beam, .patience = 1,
                                      .length_penalty = 1};
                int32_t p2[8] = {m->sp.sot, m->sp.first_lang, m->sp.transcribe};
                int n2 = 3;
                if (!ts) p2[n2++] = m->sp.no_timestamps;
                char what[128];
                snprintf(what, sizeof what, "[%s]%s %s%s", name, tag, beam == 1 ? "greedy" : "beam 5",
                         ts ? " + timestamps" : "");
                same_search(what, m, cpu, gpu, p2, n2, &so);
            }
    }
    free(enc16);
    free(enc);
    uzw_context_free(cpu);
    uzw_context_free(gpu);
    uzw_model_free(m);
    json_decref(golden);
}
#endif

Test(gpu_forward, tiny_fixture_matches_cpu) {
#ifndef UZW_HAVE_CUDA
    cr_skip_test("built without CUDA (UZW_CUDA=OFF)");
#else
    need_gpu();
    char dir[64], path[128];
    if (tiny_model(dir, sizeof dir, path, sizeof path) != 0) cr_skip_test("fixture tests/fixtures/tiny-random absent");
    compare_on_golden(path, 1, UZW_QUANT_NONE);
    unlink(path);
    rmdir(dir);
#endif
}

/* The fixture quantised with each scheme: the GPU's INT8 path (int8 weights on the device, the
 * W8A16 / W8A8 kernels, the INT8 embedding) against the CPU's INT8 path on the same file. */
Test(gpu_forward, tiny_fixture_int8_matches_cpu) {
#ifndef UZW_HAVE_CUDA
    cr_skip_test("built without CUDA (UZW_CUDA=OFF)");
#else
    need_gpu();
    char dir[64], path[128];
    if (tiny_model(dir, sizeof dir, path, sizeof path) != 0) cr_skip_test("fixture tests/fixtures/tiny-random absent");
    for (int scheme = UZW_QUANT_W8A16; scheme <= UZW_QUANT_W8A8; scheme++) {
        char qpath[160], err[512];
        snprintf(qpath, sizeof qpath, "%s/tiny-%s.uzw", dir, scheme == UZW_QUANT_W8A8 ? "w8a8" : "w8a16");
        uzw_quant_opts o = {scheme, NULL};
        uzw_quant_report r;
        cr_assert_eq(uzw_quantize_file(path, qpath, &o, &r, err, sizeof err), 0, "%s", err);
        cr_assert_gt(r.n_quantised, 0);
        compare_on_golden(qpath, 0, scheme);
        unlink(qpath);
    }
    unlink(path);
    rmdir(dir);
#endif
}

Test(gpu_forward, real_model_transcripts_match_cpu) {
#ifndef UZW_HAVE_CUDA
    cr_skip_test("built without CUDA (UZW_CUDA=OFF)");
#else
    need_gpu();
    const char *path = tu_src("models/default.uzw");
    if (!tu_exists(path)) cr_skip_test("models/default.uzw absent (tools/setup-default-model.sh makes it)");
    static const char *const clips[] = {"data/en/jfk.flac", "data/ru/deepspeech_ru.wav", "data/multi/en_de.mp3"};
    char err[1024];
    uzw_model *m = NULL;
    uzw_context *cpu = NULL, *gpu = NULL;
    open_pair(path, &m, &cpu, &gpu);
    uzw_params p = uzw_default_params();
    for (size_t k = 0; k < sizeof clips / sizeof clips[0]; k++) {
        if (!tu_exists(tu_shared(clips[k]))) continue;
        float *pcm = NULL;
        size_t n = 0;
        cr_assert_eq(uzw_audio_load_16k(tu_shared(clips[k]), &pcm, &n, err, sizeof err), 0, "%s", err);
        cr_assert_eq(uzw_transcribe_pcm(cpu, pcm, n, &p), UZW_OK, "%s", uzw_last_error(cpu));
        cr_assert_eq(uzw_transcribe_pcm(gpu, pcm, n, &p), UZW_OK, "%s", uzw_last_error(gpu));
        printf("[%s]\n  cpu: %s\n  gpu: %s\n", clips[k], uzw_full_text(cpu), uzw_full_text(gpu));
        cr_expect_str_eq(uzw_full_text(gpu), uzw_full_text(cpu), "[%s] transcripts differ", clips[k]);
        free(pcm);
    }
    uzw_context_free(cpu);
    uzw_context_free(gpu);
    uzw_model_free(m);
#endif
}
