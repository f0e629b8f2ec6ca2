/*
 * Live streaming on the real base model (engine/stream/stream.c): jfk.flac pushed in 0.2 s pieces
 * gives final words, in time order, whose text is exactly the offline transcription's, each final
 * within 3 s of audio after it was spoken (compute excluded; bench/bench_stream.c measures the
 * wall-clock latency).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/context.h"
#include "testutil.h"

/* Lower-case letters and digits of the text, words separated by one space. */
static void norm(const char *in, char *out, size_t cap) {
    size_t o = 0;
    int space = 1;
    for (const unsigned char *p = (const unsigned char *)in; *p && o + 2 < cap; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')) out[o++] = (char)*p, space = 0;
        else if (*p >= 'A' && *p <= 'Z') out[o++] = (char)(*p - 'A' + 'a'), space = 0;
        else if (*p == '\'') continue;
        else if (!space) out[o++] = ' ', space = 1;
    }
    while (o && out[o - 1] == ' ') o--;
    out[o] = 0;
}

static void log_stderr(uzw_log_level level, const char *msg, void *user) {
    (void)user;
    if (level == UZW_LOG_DEBUG && strncmp(msg, "stream:", 7) == 0) fprintf(stderr, "%s\n", msg);
}

Test(stream, real_model_matches_offline) {
    void *golden;
    uzw_model *m;
    uzw_context *ctx;
    tu_real_setup(NULL, &golden, &m, &ctx);
    if (!m) cr_skip_test("default model missing (tools/setup-default-model.sh)");
    cr_assert_eq(uzw_load_audio_file(ctx, tu_shared("data/en/jfk.flac")), UZW_OK, "%s", uzw_last_error(ctx));
    size_t n = ctx->n_pcm;
    float *pcm = malloc(sizeof(float) * n);
    memcpy(pcm, ctx->pcm, sizeof(float) * n);
    uzw_params p = uzw_default_params();
    p.language = "en";
    p.beam_size = 1;
    if (getenv("UZW_STREAM_DEBUG")) p.log = log_stderr;
    cr_assert_eq(uzw_transcribe_pcm(ctx, pcm, n, &p), UZW_OK, "%s", uzw_last_error(ctx));
    char offline[2048], streamed[2048], joined[2048] = "";
    norm(uzw_full_text(ctx), offline, sizeof offline);
    static tu_stream_word seen[1024];
    int k = tu_run_stream(ctx, &p, pcm, n, 3200, seen, 1024, 1);
    size_t o = 0;
    for (int i = 0; i < k; i++) o += (size_t)snprintf(joined + o, sizeof joined - o, "%s ", seen[i].text);
    norm(joined, streamed, sizeof streamed);
    cr_assert_str_eq(streamed, offline, "streamed '%s' vs offline '%s'", streamed, offline);
    /* every word became final within 3 s of audio after it was spoken (compute time excluded) */
    for (int i = 0; i < k; i++)
        cr_assert_leq(seen[i].at - seen[i].t1, 3.0, "word %d '%s' (ends %.2f s) final only at %.2f s", i, seen[i].text,
                      seen[i].t1, seen[i].at);
    free(pcm);
    tu_real_teardown(golden, m, ctx);
}
