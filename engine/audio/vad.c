/* vad.c - energy-based voice-activity detection (see vad.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "audio/vad.h"

#define SR 16000
#define HOP 160   /* 10 ms */
#define WIN 480   /* 30 ms */

uzw_vad_opts uzw_vad_default_opts(void) {
    uzw_vad_opts o = {12.0f, -60.0f, 250, 2000, 400};
    return o;
}

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Level of each frame in dBFS of the pre-emphasised signal; -200 for digital silence. */
static float *frame_levels(const float *pcm, size_t n, size_t n_frames) {
    float *db = malloc(sizeof(float) * (n_frames ? n_frames : 1));
    if (!db) return NULL;
    for (size_t f = 0; f < n_frames; f++) {
        size_t a = f * HOP, b = a + WIN < n ? a + WIN : n;
        double e = 0;
        for (size_t i = a; i < b; i++) {
            double y = pcm[i] - (i ? 0.97 * pcm[i - 1] : 0.0);
            e += y * y;
        }
        e /= (double)(b > a ? b - a : 1);
        db[f] = e > 1e-20 ? (float)(10.0 * log10(e)) : -200.0f;
    }
    return db;
}

int uzw_vad_regions(const float *pcm, size_t n, const uzw_vad_opts *opts, uzw_vad_region *out, int max) {
    uzw_vad_opts o = opts ? *opts : uzw_vad_default_opts();
    size_t nf = n / HOP;
    if (nf == 0) return 0;
    float *db = frame_levels(pcm, n, nf), *sorted = malloc(sizeof(float) * nf);
    if (!db || !sorted) { free(db); free(sorted); return -1; }
    /* noise floor: the 10th percentile of the non-silent frames */
    size_t k = 0;
    for (size_t f = 0; f < nf; f++)
        if (db[f] > -199.0f) sorted[k++] = db[f];
    float floor = -200.0f;
    if (k) {
        qsort(sorted, k, sizeof(float), cmp_float);
        floor = sorted[k / 10];
    }
    free(sorted);
    float thr = floor + o.threshold_db > o.floor_db ? floor + o.threshold_db : o.floor_db;
    int count = 0;
    size_t min_speech = (size_t)o.min_speech_ms / 10, min_gap = (size_t)o.min_silence_ms / 10, pad = (size_t)o.pad_ms * SR / 1000;
    size_t start = 0, last_speech = 0;
    int in = 0;
    for (size_t f = 0; f <= nf; f++) {
        int speech = f < nf && db[f] > thr;
        if (speech && !in) { in = 1; start = f; }
        if (speech) last_speech = f;
        /* a region ends after min_gap frames without speech, or at the end */
        if (in && (f == nf || (!speech && f - last_speech >= min_gap))) {
            in = 0;
            if (last_speech + 1 - start < min_speech) continue;
            size_t a = start * HOP, b = (last_speech + 1) * HOP + (WIN - HOP);
            a = a > pad ? a - pad : 0;
            b = b + pad < n ? b + pad : n;
            if (count > 0 && count <= max && a <= out[count - 1].end) { /* padding made them touch */
                out[count - 1].end = b;
                continue;
            }
            if (count < max) { out[count].start = a; out[count].end = b; }
            count++;
        }
    }
    free(db);
    return count;
}

double uzw_vad_map_time(const uzw_vad_region *r, int n, double t) {
    double acc = 0;
    for (int i = 0; i < n; i++) {
        double len = (double)(r[i].end - r[i].start) / SR;
        if (t < acc + len || i == n - 1) return r[i].start / (double)SR + (t - acc);
        acc += len;
    }
    return t;
}
