/*
 * Live streams (engine/stream/stream.c): audio pushed in small pieces gives final words that never
 * change and, on the real base model, come in time order and match the offline transcription of the
 * same audio (tests/test_real_stream.c); the argument checks; silence costs no decoding pass. Timings
 * are measured by bench/bench_stream.c, not here.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/context.h"
#include "testutil.h"

static char tmpdir[128], tiny[256];
static uzw_model *m;      /* the tiny fixture model and a context over it, for every test */
static uzw_context *ctx;

static void setup(void) {
    if (tu_tmp_with_tiny_model("uzw-stream", tmpdir, sizeof tmpdir, tiny, sizeof tiny) != 0) return;
    char err[256];
    cr_assert_eq(uzw_model_load(tiny, NULL, &m, err, sizeof err), UZW_OK, "%s", err);
    cr_assert_eq(uzw_context_create(m, &ctx), UZW_OK);
}
static void teardown(void) {
    uzw_context_free(ctx);
    if (m) tu_rmtree(tmpdir);
    uzw_model_free(m);
}
TestSuite(stream, .init = setup, .fini = teardown, .timeout = 600);

Test(stream, arguments_and_silence) {
    if (!m) cr_skip_test("tiny fixture model missing");
    uzw_stream *s;
    uzw_stream_params bad = uzw_stream_default_params();
    bad.step_s = 0;
    cr_assert_eq(uzw_stream_begin(ctx, NULL, &bad, &s), UZW_ERR_INVALID_ARG);
    cr_assert_eq(uzw_stream_begin(NULL, NULL, NULL, &s), UZW_ERR_INVALID_ARG);
    cr_assert_eq(uzw_stream_begin(ctx, NULL, NULL, &s), UZW_OK);
    float *z = calloc(16000 * 5, sizeof(float)); /* 5 s of silence: no decoding pass at all */
    cr_assert_eq(uzw_stream_push(s, z, 16000 * 5), UZW_OK);
    cr_assert_eq(uzw_stream_n_passes(s), 0, "silence was decoded %d times", uzw_stream_n_passes(s));
    cr_assert_eq(uzw_stream_n_words(s), 0);
    z[100] = NAN;
    cr_assert_eq(uzw_stream_push(s, z, 200), UZW_ERR_AUDIO);
    cr_assert_eq(uzw_stream_end(s), UZW_OK);
    cr_assert(fabs(uzw_stream_received(s) - 5.0) < 1e-6);
    uzw_stream_free(s);
    free(z);
}

Test(stream, tiny_model_invariants) {
    if (!m) cr_skip_test("tiny fixture model missing");
    size_t n;
    float *pcm = tu_read_f32(tu_src("tests/fixtures/golden/pcm_jfk.f32"), &n);
    cr_assert(pcm);
    uzw_params p = uzw_default_params();
    p.language = "en";
    p.beam_size = 1;
    p.max_tokens_per_window = 24;
    static tu_stream_word seen[4096];
    tu_run_stream(ctx, &p, pcm, n, 4000, seen, 4096, 0); /* random weights: word times are noise */
    free(pcm);
}

