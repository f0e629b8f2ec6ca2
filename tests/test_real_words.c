/*
 * Word-level timestamps against faster-whisper 1.2.1 on the real Whisper base weights
 * (tests/fixtures/decoding/real_base.json, config `words`: greedy, temperature 0, timestamps on,
 * word_timestamps=True; openai-whisper agrees with it exactly). For every clip of ../shared/data and
 * the 158.7 s long mix (rebuilt as tests/test_real_decoding.c does): language, segments (tokens,
 * text, bounds within 0.02 s: word timestamps move both the bounds and the seek), and per segment
 * the words: same count and text, start/end within 0.02 s, probability within 1e-3. The largest
 * differences are printed.
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

TestSuite(real_words, .init = setup, .fini = teardown, .timeout = 900);


static double num(json_t *o, const char *key) { return json_number_value(json_object_get(o, key)); }

/* Words of our segment i against the golden segment's words; updates the maxima, returns mismatches. */
static int check_words(const char *clip, int i, json_t *gw, double *max_dt, double *max_dp) {
    int n = (int)json_array_size(gw), bad = 0;
    cr_expect_eq(uzw_segment_n_words(ctx, i), n, "%s segment %d: %d words, faster-whisper %d", clip, i, uzw_segment_n_words(ctx, i), n);
    bad += uzw_segment_n_words(ctx, i) != n;
    for (int w = 0; w < n && w < uzw_segment_n_words(ctx, i); w++) {
        json_t *g = json_array_get(gw, (size_t)w);
        const char *want = json_string_value(json_object_get(g, "word")), *got = uzw_word_text(ctx, i, w);
        int same = got && want && !strcmp(got, want);
        cr_expect(same, "%s segment %d word %d: '%s', faster-whisper '%s'", clip, i, w, got ? got : "(null)", want);
        double dt = fmax(fabs(uzw_word_start(ctx, i, w) - num(g, "start")), fabs(uzw_word_end(ctx, i, w) - num(g, "end")));
        double dp = fabs(uzw_word_prob(ctx, i, w) - num(g, "probability"));
        cr_expect_leq(dt, 0.02 + 1e-9, "%s segment %d word %d '%s': [%.3f, %.3f], faster-whisper [%.3f, %.3f]", clip, i, w, want,
                      uzw_word_start(ctx, i, w), uzw_word_end(ctx, i, w), num(g, "start"), num(g, "end"));
        cr_expect_leq(dp, 1e-3, "%s segment %d word %d '%s': probability %.5f, faster-whisper %.5f", clip, i, w, want,
                      uzw_word_prob(ctx, i, w), num(g, "probability"));
        bad += !same || dt > 0.02 + 1e-9 || dp > 1e-3;
        *max_dt = fmax(*max_dt, dt);
        *max_dp = fmax(*max_dp, dp);
    }
    return bad;
}

static void check(const char *clip) {
    if (!model) cr_skip_test("models/default.uzw is missing: run tools/setup-default-model.sh");
    json_t *g = json_object_get(json_object_get(json_object_get(json_object_get(golden, "clips"), clip), "faster_whisper"), "words");
    cr_assert(g, "no golden %s/words", clip);
    static const float t0[] = {0.0f};
    uzw_params p = uzw_default_params();
    p.beam_size = 1;
    p.best_of = 1;
    p.temperatures = t0;
    p.n_temperatures = 1;
    p.cut_repetitions = 0; /* faster-whisper has no repetition guard */
    p.word_timestamps = 1;
    uzw_status st = tu_transcribe_input(ctx, clip, &p);
    cr_assert_eq(st, UZW_OK, "%s: %s", clip, uzw_last_error(ctx));
    cr_expect_str_eq(uzw_language(ctx), json_string_value(json_object_get(g, "language")), "%s language", clip);
    json_t *segs = json_object_get(g, "segments");
    int n = (int)json_array_size(segs), same_tokens = 0, n_words = 0, bad_words = 0;
    double max_seg = 0, max_dt = 0, max_dp = 0;
    cr_expect_eq(uzw_n_segments(ctx), n, "%s: %d segments, faster-whisper %d", clip, uzw_n_segments(ctx), n);
    for (int i = 0; i < n && i < uzw_n_segments(ctx); i++) {
        json_t *s = json_array_get(segs, (size_t)i), *toks = json_object_get(s, "tokens");
        int nt = (int)json_array_size(toks), ok = nt == uzw_segment_n_tokens(ctx, i);
        for (int j = 0; ok && j < nt; j++) ok = uzw_segment_token(ctx, i, j) == (int)json_integer_value(json_array_get(toks, (size_t)j));
        same_tokens += ok;
        cr_expect(ok, "%s segment %d: tokens differ (%d vs %d tokens)", clip, i, uzw_segment_n_tokens(ctx, i), nt);
        cr_expect_str_eq(uzw_segment_text(ctx, i), json_string_value(json_object_get(s, "text")), "%s segment %d text", clip, i);
        max_seg = fmax(max_seg, fmax(fabs(uzw_segment_start(ctx, i) - num(s, "start")), fabs(uzw_segment_end(ctx, i) - num(s, "end"))));
        json_t *gw = json_object_get(s, "words");
        n_words += (int)json_array_size(gw);
        bad_words += check_words(clip, i, gw, &max_dt, &max_dp);
    }
    cr_expect_leq(max_seg, 0.02 + 1e-9, "%s: segment bounds off by %.3f s", clip, max_seg);
    printf("%s/words: %d/%d segments with identical tokens, %d/%d words match; max word time difference %.3g s, "
           "max probability difference %.2g, max segment bound difference %.3g s\n",
           clip, same_tokens, n, n_words - bad_words, n_words, max_dt, max_dp, max_seg);
}

Test(real_words, jfk) { check("en/jfk.flac"); }
Test(real_words, ru) { check("ru/deepspeech_ru.wav"); }
Test(real_words, en_de) { check("multi/en_de.mp3"); }
Test(real_words, uz_33727) { check("uz/usc/1126542829_1_33727_1.wav"); }
Test(real_words, uz_29207) { check("uz/usc/1131474547_2_29207_1.wav"); }
Test(real_words, uz_29208) { check("uz/usc/1131474547_2_29208_1.wav"); }
Test(real_words, uz_29209) { check("uz/usc/1131474547_2_29209_1.wav"); }
Test(real_words, uz_29210) { check("uz/usc/1131474547_2_29210_1.wav"); }
Test(real_words, long_mix) { check("long_mix"); }
