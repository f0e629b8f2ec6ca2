/* test_mel.c - the log-mel front end: the Slaney filterbank against OAI's mel_filters.npz (dumped by
 * tests/reference/dump_mel_filters.py), the FFTW path against the plain-loop DFT reference, and the
 * FFTW path against openai-whisper's log_mel_spectrogram (golden fixture from another script). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio/audio.h"
#include "mel/mel.h"
#include "testutil.h"

#define N_BINS 201
#define GUARD 64
#define GUARD_VALUE 1234.5f

/* Mel vs reference in the normalised log domain ((log10 + 4) / 4): both run in float32 for the FFT
 * on one side only, so the gap comes from FFTW's single-precision rounding; 1e-4 there is 4e-4 in
 * log10, i.e. ~0.1 % in power. */
#define TOL_REF 1e-4
/* Filterbank vs the npz: both are float32 roundings of the same double formula. */
#define TOL_FILTERS 1e-6
/* vs openai-whisper: torch.stft (float32, its own FFT) vs FFTW float32, both with float rounding in
 * |X|^2 and the matmul; differences concentrate in low-power bins just above the max-8 floor, where a
 * relative power error e moves the output by e / (4 ln 10). 1e-4 allows e ~ 1e-3 there. */
#define TOL_GOLDEN 1e-4

static float *load_filters(int n_mels) {
    char rel[64];
    snprintf(rel, sizeof rel, "tests/fixtures/mel_filters_%d.f32", n_mels);
    size_t n = 0;
    float *f = tu_read_f32(tu_src(rel), &n);
    cr_assert_not_null(f, "cannot read %s (run tests/reference/dump_mel_filters.py)", tu_src(rel));
    cr_assert_eq(n, (size_t)n_mels * N_BINS, "%s holds %zu floats", rel, n);
    return f;
}

/* out buffer with a guard region after n floats */
static float *alloc_guarded(size_t n) {
    float *p = malloc((n + GUARD) * sizeof *p);
    cr_assert_not_null(p);
    for (size_t i = 0; i < n + GUARD; i++) p[i] = GUARD_VALUE;
    return p;
}

static void check_guard(const float *p, size_t n, const char *what) {
    for (size_t i = n; i < n + GUARD; i++)
        cr_assert_eq(p[i], GUARD_VALUE, "%s: write past the end at +%zu", what, i - n);
}

static void check_filters(int n_mels) {
    float *want = load_filters(n_mels);
    float *got = alloc_guarded((size_t)n_mels * N_BINS);
    uzw_mel_filters_slaney(n_mels, got);
    check_guard(got, (size_t)n_mels * N_BINS, "filters");
    tu_cmp c = tu_compare(got, want, (size_t)n_mels * N_BINS, TOL_FILTERS, 0.0);
    cr_log_info("filters %d: max abs diff %.3g at %zu", n_mels, c.max_abs, c.worst);
    cr_expect_eq(c.n_bad, 0, "filters %d: %zu bad, max abs diff %.3g at [%zu, %zu]", n_mels, c.n_bad, c.max_abs,
                 c.worst / N_BINS, c.worst % N_BINS);
    free(want);
    free(got);
}

Test(mel, filters_match_oai_80) { check_filters(80); }
Test(mel, filters_match_oai_128) { check_filters(128); }

Test(mel, n_frames) {
    cr_expect_eq(uzw_mel_n_frames(480000), 3000);
    cr_expect_eq(uzw_mel_n_frames(176000 + 480000), 4100);
    cr_expect_eq(uzw_mel_n_frames(159), 0);
    cr_expect_eq(uzw_mel_n_frames(321), 2);
}

/* Run FFTW and reference on pcm[0..n) + pad zeros; return the max abs diff. */
static double fftw_vs_ref(int n_mels, const float *pcm, size_t n, size_t pad) {
    float *filters = load_filters(n_mels);
    const size_t frames = uzw_mel_n_frames(n + pad), count = (size_t)n_mels * frames;
    float *fast = alloc_guarded(count), *ref = alloc_guarded(count);
    uzw_mel_plan *plan = uzw_mel_plan_new(n_mels, filters);
    cr_assert_not_null(plan);
    cr_assert_eq(uzw_mel_compute(plan, pcm, n, pad, fast), 0, "mel n=%zu pad=%zu", n, pad);
    cr_assert_eq(uzw_mel_compute_ref(n_mels, filters, pcm, n, pad, ref), 0);
    check_guard(fast, count, "mel");
    check_guard(ref, count, "mel_ref");
    tu_cmp c = tu_compare(fast, ref, count, TOL_REF, 0.0);
    cr_log_info("fftw vs ref: M=%d n=%zu pad=%zu frames=%zu max abs diff %.3g", n_mels, n, pad, frames, c.max_abs);
    cr_expect_eq(c.n_bad, 0, "M=%d n=%zu pad=%zu: %zu bad, max abs %.3g at [%zu, %zu]", n_mels, n, pad, c.n_bad,
                 c.max_abs, c.worst / frames, c.worst % frames);
    /* after the max-8 clamp and (x+4)/4 the range is at most 2 */
    float lo = fast[0], hi = fast[0];
    for (size_t i = 0; i < count; i++) {
        lo = fast[i] < lo ? fast[i] : lo;
        hi = fast[i] > hi ? fast[i] : hi;
    }
    cr_expect_leq(hi - lo, 2.0f + 1e-6f, "range %g", hi - lo);
    uzw_mel_plan_free(plan);
    free(filters);
    free(fast);
    free(ref);
    return c.max_abs;
}

Test(mel, fftw_matches_ref_on_jfk) {
    char err[256] = "";
    float *pcm = NULL;
    size_t n = 0;
    cr_assert_eq(uzw_audio_load_16k(tu_shared("data/en/jfk.flac"), &pcm, &n, err, sizeof err), 0, "%s", err);
    const size_t lens[] = {201, 399, 1601, 16001, 48017, n};
    double worst = 0;
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        /* start inside the speech so short slices are not silence */
        const size_t off = lens[i] < n ? 32000 : 0, len = lens[i] < n - off ? lens[i] : n - off;
        double d = fftw_vs_ref(80, pcm + off, len, 0);
        worst = d > worst ? d : worst;
    }
    worst = fmax(worst, fftw_vs_ref(80, pcm, n, 480000));
    worst = fmax(worst, fftw_vs_ref(128, pcm, n, 0));
    worst = fmax(worst, fftw_vs_ref(128, pcm + 1000, 3333, 480000));
    cr_log_info("mel fftw vs plain-loop ref on jfk: max abs diff %.3g (tolerance %.0e)", worst, TOL_REF);
    free(pcm);
}

Test(mel, fftw_matches_ref_on_sine) {
    const size_t n = 48001;
    float *pcm = malloc(n * sizeof *pcm);
    cr_assert_not_null(pcm);
    for (size_t i = 0; i < n; i++) pcm[i] = (float)(0.5 * sin(2.0 * M_PI * 1000.0 * (double)i / 16000.0));
    double d = fftw_vs_ref(80, pcm, n, 0);
    d = fmax(d, fftw_vs_ref(80, pcm, 12345, 480000));
    d = fmax(d, fftw_vs_ref(128, pcm, 777, 0));
    cr_log_info("mel fftw vs ref on 1 kHz sine: max abs diff %.3g", d);
    /* the 1 kHz tone lands in the mel band whose triangle covers bin 25 (1000 Hz / 40 Hz) */
    float *filters = load_filters(80);
    const size_t frames = uzw_mel_n_frames(n);
    float *out = malloc(80 * frames * sizeof *out);
    cr_assert_not_null(out);
    uzw_mel_plan *plan = uzw_mel_plan_new(80, filters);
    cr_assert_not_null(plan);
    cr_assert_eq(uzw_mel_compute(plan, pcm, n, 0, out), 0);
    int best = 0;
    for (int m = 1; m < 80; m++)
        if (out[(size_t)m * frames + frames / 2] > out[(size_t)best * frames + frames / 2]) best = m;
    cr_expect_gt(filters[(size_t)best * N_BINS + 25], 0.0f, "peak band %d does not cover 1 kHz", best);
    uzw_mel_plan_free(plan);
    free(out);
    free(filters);
    free(pcm);
}

Test(mel, bad_lengths_and_silence) {
    float *filters = load_filters(80);
    uzw_mel_plan *plan = uzw_mel_plan_new(80, filters);
    cr_assert_not_null(plan);
    float pcm[400] = {0};
    float *out = alloc_guarded(80 * 4);
    cr_expect_eq(uzw_mel_compute(plan, pcm, 200, 0, out), -1, "200 samples cannot be reflect-padded by 200");
    cr_expect_eq(uzw_mel_compute(plan, pcm, 100, 100, out), -1);
    cr_expect_eq(uzw_mel_compute(plan, NULL, 10, 500, out), -1);
    cr_expect_eq(uzw_mel_compute(plan, pcm, (size_t)-1, 2, out), -1, "length overflow");
    cr_expect_eq(uzw_mel_compute_ref(80, filters, pcm, 200, 0, out), -1);
    /* 0 samples + 640 zeros: all log10(1e-10) = -10 -> (-10 + 4) / 4 = -1.5 */
    cr_assert_eq(uzw_mel_compute(plan, pcm, 0, 640, out), 0);
    for (size_t i = 0; i < 80 * 4; i++) cr_assert_float_eq(out[i], -1.5f, 1e-6f, "silence at %zu: %g", i, out[i]);
    check_guard(out, 80 * 4, "silence");
    cr_expect_null(uzw_mel_plan_new(0, filters));
    cr_expect_null(uzw_mel_plan_new(80, NULL));
    uzw_mel_plan_free(NULL);
    uzw_mel_plan_free(plan);
    free(out);
    free(filters);
}

/* The golden fixture's arguments, inferred from the file sizes: n_mels in {80, 128}; padding 0,
 * 480000 (transcribe()), or up to 480000 samples (pad_or_trim). Must be unambiguous. */
static int infer_golden_args(size_t n_pcm, size_t n_mel, int *n_mels, size_t *pad) {
    const int mels[] = {80, 128};
    const size_t pads[] = {0, 480000, n_pcm < 480000 ? 480000 - n_pcm : 0};
    int found = 0;
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++) {
            if (j == 2 && pads[2] == 0) continue;
            if ((size_t)mels[i] * uzw_mel_n_frames(n_pcm + pads[j]) == n_mel) {
                if (found && (*n_mels != mels[i] || *pad != pads[j])) return -1;
                *n_mels = mels[i];
                *pad = pads[j];
                found = 1;
            }
        }
    return found ? 0 : -1;
}

Test(mel, matches_openai_whisper_golden) {
    const char *mel_path = tu_src("tests/fixtures/golden/mel_jfk.f32");
    const char *pcm_path = tu_src("tests/fixtures/golden/pcm_jfk.f32");
    if (!tu_exists(mel_path) || !tu_exists(pcm_path))
        cr_skip_test("golden fixture tests/fixtures/golden/{mel,pcm}_jfk.f32 not generated yet");
    size_t n_pcm = 0, n_mel = 0;
    float *pcm = tu_read_f32(pcm_path, &n_pcm);
    float *want = tu_read_f32(mel_path, &n_mel);
    cr_assert(pcm && want, "cannot read the golden files");
    int n_mels = 0;
    size_t pad = 0;
    cr_assert_eq(infer_golden_args(n_pcm, n_mel, &n_mels, &pad), 0,
                 "cannot tell n_mels/padding from %zu pcm samples and %zu mel values (see golden.json)", n_pcm, n_mel);
    float *filters = load_filters(n_mels);
    float *got = alloc_guarded(n_mel);
    uzw_mel_plan *plan = uzw_mel_plan_new(n_mels, filters);
    cr_assert_not_null(plan);
    cr_assert_eq(uzw_mel_compute(plan, pcm, n_pcm, pad, got), 0);
    check_guard(got, n_mel, "golden mel");
    const size_t frames = n_mel / (size_t)n_mels;
    tu_cmp c = tu_compare(got, want, n_mel, TOL_GOLDEN, 0.0);
    cr_log_info("mel vs openai-whisper golden (M=%d, padding=%zu, %zu frames): max abs diff %.3g at [%zu, %zu]",
                n_mels, pad, frames, c.max_abs, c.worst / frames, c.worst % frames);
    cr_expect_eq(c.n_bad, 0, "%zu of %zu values off by more than %.0e (max %.3g)", c.n_bad, n_mel, TOL_GOLDEN,
                 c.max_abs);
    uzw_mel_plan_free(plan);
    free(filters);
    free(got);
    free(want);
    free(pcm);
}
