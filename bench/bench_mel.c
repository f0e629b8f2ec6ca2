/* bench_mel.c - time the FFTW log-mel against the plain-loop DFT reference on 30 s of audio
 * (480000 samples, 3000 frames), both measured in this run; prints ms and the speed ratio.
 *
 * usage: bench_mel [n_mels=80] [repetitions=20]
 * The input is deterministic synthetic "speech-like" audio (a few gliding tones plus noise); the
 * mel cost does not depend on the content. No pass/fail. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/util.h" /* uzw_sort_f64 */
#include "mel/mel.h"

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

int main(int argc, char **argv) {
    const int n_mels = argc > 1 ? atoi(argv[1]) : 80;
    int reps = argc > 2 ? atoi(argv[2]) : 20;
    if (n_mels <= 0 || n_mels > 512 || reps <= 0 || reps > 10000) {
        fprintf(stderr, "usage: %s [n_mels=80] [repetitions=20]\n", argv[0]);
        return 2;
    }
    const size_t n = 480000; /* 30 s at 16 kHz */
    const size_t frames = uzw_mel_n_frames(n);
    float *pcm = malloc(n * sizeof *pcm);                                /* [n] */
    float *filters = malloc((size_t)n_mels * 201 * sizeof *filters);    /* [M, 201] */
    float *fast = malloc((size_t)n_mels * frames * sizeof *fast);        /* [M, T] */
    float *ref = malloc((size_t)n_mels * frames * sizeof *ref);          /* [M, T] */
    double *times = malloc((size_t)reps * sizeof *times);
    if (!pcm || !filters || !fast || !ref || !times) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    uint32_t rng = 12345;
    for (size_t i = 0; i < n; i++) {
        rng = rng * 1664525u + 1013904223u;
        const double t = (double)i / 16000.0;
        pcm[i] = (float)(0.3 * sin(2 * M_PI * (200 + 50 * t) * t) + 0.1 * sin(2 * M_PI * 1800 * t) +
                         0.02 * ((double)(rng >> 8) / (1 << 24) - 0.5));
    }
    uzw_mel_filters_slaney(n_mels, filters);

    double t0 = now_ms();
    uzw_mel_plan *plan = uzw_mel_plan_new(n_mels, filters);
    const double t_plan = now_ms() - t0;
    if (!plan) {
        fprintf(stderr, "plan failed\n");
        return 1;
    }
    if (uzw_mel_compute(plan, pcm, n, 0, fast) != 0) return 1; /* warm-up */
    for (int r = 0; r < reps; r++) {
        t0 = now_ms();
        uzw_mel_compute(plan, pcm, n, 0, fast);
        times[r] = now_ms() - t0;
    }
    uzw_sort_f64(times, (size_t)reps);
    const double t_fast = times[reps / 2];

    t0 = now_ms();
    if (uzw_mel_compute_ref(n_mels, filters, pcm, n, 0, ref) != 0) return 1;
    const double t_ref = now_ms() - t0;

    double max_diff = 0;
    for (size_t i = 0; i < (size_t)n_mels * frames; i++) max_diff = fmax(max_diff, fabs(fast[i] - ref[i]));

    printf("log-mel of 30 s (%zu samples -> [%d, %zu]), single thread\n", n, n_mels, frames);
    printf("  plan (FFTW_ESTIMATE):  %8.3f ms\n", t_plan);
    printf("  FFTW  (median of %d):  %8.3f ms  (min %.3f, max %.3f)  = %.0fx real time\n", reps, t_fast, times[0],
           times[reps - 1], 30000.0 / t_fast);
    printf("  plain-loop reference:  %8.1f ms  (1 run)\n", t_ref);
    printf("  speed ratio ref/FFTW:  %8.1fx   max abs diff %.3g\n", t_ref / t_fast, max_diff);

    uzw_mel_plan_free(plan);
    free(pcm);
    free(filters);
    free(fast);
    free(ref);
    free(times);
    return 0;
}
