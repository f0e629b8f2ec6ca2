/* The voice-activity detector on real speech separated by digital silence and by low noise. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "audio/audio.h"
#include "audio/vad.h"
#include "testutil.h"

static float *load(const char *rel, size_t *n) {
    float *pcm;
    char err[256];
    cr_assert_eq(uzw_audio_load_16k(tu_shared(rel), &pcm, n, err, sizeof err), 0, "%s", err);
    return pcm;
}

Test(vad, speech_regions_around_silences) {
    size_t na, nb;
    float *a = load("data/ru/deepspeech_ru.wav", &na), *b = load("data/en/jfk.flac", &nb);
    size_t gap = 5 * 16000, n = na + gap + nb + gap;
    float *x = calloc(n, sizeof(float));
    cr_assert(x);
    memcpy(x, a, na * sizeof(float));
    memcpy(x + na + gap, b, nb * sizeof(float));
    /* quiet noise in the second gap (-70 dBFS): still not speech */
    unsigned seed = 1;
    for (size_t i = na + gap + nb; i < n; i++) x[i] = ((float)rand_r(&seed) / RAND_MAX - 0.5f) * 6e-4f;
    uzw_vad_region r[16];
    uzw_vad_opts o = uzw_vad_default_opts();
    int k = uzw_vad_regions(x, n, &o, r, 16);
    cr_assert_eq(k, 2, "%d regions", k);
    /* each clip is covered, the silences mostly are not (padding 0.4 s) */
    cr_expect_leq(r[0].start, 16000 * 0.5, "first region starts at %zu", r[0].start);
    cr_expect_geq(r[0].end, na - 16000 * 0.5);
    cr_expect_leq(r[0].end, na + 16000 * 1.0, "first region ends at %.2f s", r[0].end / 16000.0);
    cr_expect_geq(r[1].start, na + gap - 16000 * 1.0);
    cr_expect_leq(r[1].start, na + gap + 16000 * 1.0, "second region starts at %.2f s", r[1].start / 16000.0);
    cr_expect_geq(r[1].end, na + gap + nb - 16000 * 1.0);
    cr_expect_leq(r[1].end, na + gap + nb + 16000 * 1.0, "second region ends at %.2f s", r[1].end / 16000.0);
    /* times in the concatenation map back into the regions */
    double len0 = (r[0].end - r[0].start) / 16000.0;
    cr_expect_float_eq(uzw_vad_map_time(r, k, 0.0), r[0].start / 16000.0, 1e-9);
    cr_expect_float_eq(uzw_vad_map_time(r, k, len0 + 1.0), r[1].start / 16000.0 + 1.0, 1e-9);
    free(x); free(a); free(b);
}

Test(vad, silence_and_edge_cases) {
    float z[16000] = {0};
    uzw_vad_region r[4];
    cr_expect_eq(uzw_vad_regions(z, 16000, NULL, r, 4), 0);
    cr_expect_eq(uzw_vad_regions(z, 100, NULL, r, 4), 0);
    /* a 100 ms click is shorter than the minimum speech duration */
    float c[32000] = {0};
    for (int i = 8000; i < 9600; i++) c[i] = (i % 2) ? 0.5f : -0.5f;
    cr_expect_eq(uzw_vad_regions(c, 32000, NULL, r, 4), 0);
}
