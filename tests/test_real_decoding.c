/*
 * Full decoding against faster-whisper 1.2.1 on the real Whisper base weights
 * (tests/fixtures/decoding/real_base.json, made by tests/reference/make_decoding_goldens.py):
 * timestamps on, language detected, condition_on_previous_text, greedy and beam search (5), on
 * every clip of ../shared/data and on a 158.7 s file concatenated from them with silences
 * (tests/fixtures/decoding/long_mix.json, rebuilt here). Checked: language, number of segments,
 * every segment's tokens (timestamp tokens included) and text identical, start/end within 0.02 s.
 *
 * Needs models/default.uzw; skips without it, except under CI where that is a failure.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio/audio.h"
#include "testutil.h"
#include "uzwhisper.h"

static json_t *golden;
static uzw_model *model;
static uzw_context *ctx;

static void setup(void) { tu_real_setup("tests/fixtures/decoding/real_base.json", (void **)&golden, &model, &ctx); }
static void teardown(void) { tu_real_teardown(golden, model, ctx); }

TestSuite(real_decoding, .init = setup, .fini = teardown, .timeout = 900);


static void check(const char *clip, const char *config, int beam_size) {
    if (!model) cr_skip_test("models/default.uzw is missing: run tools/setup-default-model.sh");
    json_t *g = json_object_get(json_object_get(json_object_get(json_object_get(golden, "clips"), clip), "faster_whisper"), config);
    cr_assert(g, "no golden %s/%s", clip, config);
    static const float t0[] = {0.0f};
    uzw_params p = uzw_default_params();
    p.beam_size = beam_size;
    p.best_of = 1;
    p.temperatures = t0;
    p.n_temperatures = 1;
    p.cut_repetitions = 0; /* faster-whisper has no repetition guard */
    uzw_status st = tu_transcribe_input(ctx, clip, &p);
    cr_assert_eq(st, UZW_OK, "%s: %s", clip, uzw_last_error(ctx));
    cr_expect_str_eq(uzw_language(ctx), json_string_value(json_object_get(g, "language")), "%s/%s language", clip, config);
    json_t *segs = json_object_get(g, "segments");
    int n = (int)json_array_size(segs), same_tokens = 0;
    double max_dt = 0;
    cr_expect_eq(uzw_n_segments(ctx), n, "%s/%s: %d segments, faster-whisper %d", clip, config, uzw_n_segments(ctx), n);
    for (int i = 0; i < n && i < uzw_n_segments(ctx); i++) {
        json_t *s = json_array_get(segs, (size_t)i), *toks = json_object_get(s, "tokens");
        int nt = (int)json_array_size(toks), ok = nt == uzw_segment_n_tokens(ctx, i);
        for (int j = 0; ok && j < nt; j++) ok = uzw_segment_token(ctx, i, j) == (int)json_integer_value(json_array_get(toks, (size_t)j));
        same_tokens += ok;
        cr_expect(ok, "%s/%s segment %d: tokens differ (%d vs %d tokens)", clip, config, i, uzw_segment_n_tokens(ctx, i), nt);
        cr_expect_str_eq(uzw_segment_text(ctx, i), json_string_value(json_object_get(s, "text")), "%s/%s segment %d text", clip, config, i);
        double dt0 = fabs(uzw_segment_start(ctx, i) - json_real_value(json_object_get(s, "start")));
        double dt1 = fabs(uzw_segment_end(ctx, i) - json_real_value(json_object_get(s, "end")));
        max_dt = fmax(max_dt, fmax(dt0, dt1));
    }
    cr_expect_leq(max_dt, 0.02, "%s/%s: segment boundaries off by %.3f s", clip, config, max_dt);
    printf("%s/%s: %d/%d segments with identical tokens, max boundary difference %.2g s\n", clip, config, same_tokens, n, max_dt);
}

#define PARITY(name, clip)                                                         \
    Test(real_decoding, name##_greedy) { check(clip, "greedy_ts", 1); }            \
    Test(real_decoding, name##_beam5) { check(clip, "beam5_ts", 5); }

PARITY(jfk, "en/jfk.flac")
PARITY(ru, "ru/deepspeech_ru.wav")
PARITY(en_de, "multi/en_de.mp3")
PARITY(uz_33727, "uz/usc/1126542829_1_33727_1.wav")
PARITY(uz_29207, "uz/usc/1131474547_2_29207_1.wav")
PARITY(uz_29208, "uz/usc/1131474547_2_29208_1.wav")
PARITY(uz_29209, "uz/usc/1131474547_2_29209_1.wav")
PARITY(uz_29210, "uz/usc/1131474547_2_29210_1.wav")
PARITY(long_mix, "long_mix")

/* The repetition guard: long_mix decoded greedily at temperature 0 only (no fallback) holds a real
 * loop (a window with gzip ratio 5.4, as in faster-whisper's output); with the guard on, no block
 * of text tokens repeats back to back any more, and the transcript is shorter. */
#include "decode/repetition.h"

static int all_tokens(int32_t **out) {
    int total = 0;
    for (int i = 0; i < uzw_n_segments(ctx); i++) total += uzw_segment_n_tokens(ctx, i);
    *out = malloc(sizeof(int32_t) * (size_t)(total ? total : 1));
    cr_assert(*out);
    int k = 0;
    for (int i = 0; i < uzw_n_segments(ctx); i++)
        for (int j = 0; j < uzw_segment_n_tokens(ctx, i); j++) (*out)[k++] = uzw_segment_token(ctx, i, j);
    return total;
}

Test(real_decoding, repetition_guard_cuts_the_loop) {
    if (!model) cr_skip_test("models/default.uzw is missing: run tools/setup-default-model.sh");
    static const float t0[] = {0.0f};
    size_t n;
    float *pcm = tu_long_mix(&n);
    uzw_params p = uzw_default_params();
    p.beam_size = 1;
    p.temperatures = t0;
    p.n_temperatures = 1;
    int32_t *tok;
    int counts[2], loops[2];
    for (int guard = 0; guard < 2; guard++) {
        p.cut_repetitions = guard;
        cr_assert_eq(uzw_transcribe_pcm(ctx, pcm, n, &p), UZW_OK, "%s", uzw_last_error(ctx));
        counts[guard] = all_tokens(&tok);
        loops[guard] = uzw_repetition_cut(tok, counts[guard], (int32_t)uzw_model_get_int(model, "eot")) < counts[guard];
        free(tok);
    }
    free(pcm);
    cr_expect(loops[0], "without the guard the loop should be there (as faster-whisper prints it)");
    cr_expect(!loops[1], "with the guard a loop remains");
    cr_expect_lt(counts[1], counts[0], "tokens with guard %d, without %d", counts[1], counts[0]);
    printf("repetition guard: %d tokens without, %d with\n", counts[0], counts[1]);
}

/* The voice-activity filter: 12 s of silence, the Russian clip, 8 s of silence. Only the speech is
 * decoded, and the segment times land on the clip in the original timeline. */
Test(real_decoding, vad_filter_maps_times_back) {
    if (!model) cr_skip_test("models/default.uzw is missing: run tools/setup-default-model.sh");
    float *clip;
    size_t nc;
    char err[256];
    cr_assert_eq(uzw_audio_load_16k(tu_shared("data/ru/deepspeech_ru.wav"), &clip, &nc, err, sizeof err), 0, "%s", err);
    size_t lead = 12 * 16000, n = lead + nc + 8 * 16000;
    float *pcm = calloc(n, sizeof(float));
    cr_assert(pcm);
    memcpy(pcm + lead, clip, nc * sizeof(float));
    uzw_params p = uzw_default_params();
    p.vad_filter = 1;
    cr_assert_eq(uzw_transcribe_pcm(ctx, pcm, n, &p), UZW_OK, "%s", uzw_last_error(ctx));
    cr_expect_float_eq(uzw_audio_duration(ctx), n / 16000.0, 1e-9);
    cr_assert_geq(uzw_n_segments(ctx), 1);
    double clip0 = lead / 16000.0, clip1 = (lead + nc) / 16000.0;
    for (int i = 0; i < uzw_n_segments(ctx); i++) {
        cr_expect_geq(uzw_segment_start(ctx, i), clip0 - 0.5, "segment %d starts at %.2f", i, uzw_segment_start(ctx, i));
        cr_expect_leq(uzw_segment_end(ctx, i), clip1 + 0.5, "segment %d ends at %.2f", i, uzw_segment_end(ctx, i));
    }
    cr_expect(strstr(uzw_full_text(ctx), "Ребят") != NULL, "%s", uzw_full_text(ctx));
    printf("vad: %d segments, %.2f-%.2f s (clip at %.2f-%.2f s): %s\n", uzw_n_segments(ctx), uzw_segment_start(ctx, 0),
           uzw_segment_end(ctx, uzw_n_segments(ctx) - 1), clip0, clip1, uzw_full_text(ctx));
    /* all silence: no segments, no text, no error */
    memset(pcm, 0, n * sizeof(float));
    cr_assert_eq(uzw_transcribe_pcm(ctx, pcm, n, &p), UZW_OK, "%s", uzw_last_error(ctx));
    cr_expect_eq(uzw_n_segments(ctx), 0);
    cr_expect_str_eq(uzw_full_text(ctx), "");
    free(pcm);
    free(clip);
}
