/*
 * mel_ref.c - plain-loop log-mel reference (the oracle): the same contract as uzw_mel_compute,
 * with a direct 400-point DFT and every sum in double. Slow (~200 M multiply-adds per 30 s);
 * used by the tests and the benchmark only.
 */
#include "mel/mel.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

enum { REF_NFFT = 400, REF_HOP = 160, REF_PAD = 200, REF_BINS = 201 };

int uzw_mel_compute_ref(int n_mels, const float *filters, const float *pcm, size_t n, size_t pad_zeros,
                        float *out) {
    if (n_mels <= 0 || !filters || !out || (!pcm && n > 0)) return -1;
    if (n > SIZE_MAX - pad_zeros) return -1;
    const size_t total = n + pad_zeros;
    if (total <= REF_PAD || total > (size_t)PTRDIFF_MAX / 2) return -1;
    const size_t n_frames = uzw_mel_n_frames(total);

    double *window = malloc(REF_NFFT * sizeof *window);   /* [400] */
    double *cos_t = malloc(REF_NFFT * sizeof *cos_t);     /* [400] cos(2*pi*j/400) */
    double *sin_t = malloc(REF_NFFT * sizeof *sin_t);     /* [400] */
    double *frame = malloc(REF_NFFT * sizeof *frame);     /* [400] windowed samples */
    double *power = malloc(REF_BINS * sizeof *power);     /* [201] */
    if (!window || !cos_t || !sin_t || !frame || !power) {
        free(window); free(cos_t); free(sin_t); free(frame); free(power);
        return -1;
    }
    for (int j = 0; j < REF_NFFT; j++) {
        window[j] = 0.5 - 0.5 * cos(2.0 * M_PI * j / REF_NFFT);
        cos_t[j] = cos(2.0 * M_PI * j / REF_NFFT);
        sin_t[j] = sin(2.0 * M_PI * j / REF_NFFT);
    }

    for (size_t t = 0; t < n_frames; t++) {
        /* frame t: padded samples 160t .. 160t+399, i.e. signal index 160t-200+j, reflected */
        for (int j = 0; j < REF_NFFT; j++) {
            ptrdiff_t i = (ptrdiff_t)(t * REF_HOP) - REF_PAD + j;
            if (i < 0) i = -i;
            if ((size_t)i >= total) i = 2 * ((ptrdiff_t)total - 1) - i;
            const double x = (size_t)i < n ? (double)pcm[i] : 0.0;
            frame[j] = x * window[j];
        }
        /* direct DFT: X[k] = sum_j frame[j] * exp(-2 pi i k j / 400) */
        for (int k = 0; k < REF_BINS; k++) {
            double re = 0.0, im = 0.0;
            for (int j = 0; j < REF_NFFT; j++) {
                const int idx = (k * j) % REF_NFFT;
                re += frame[j] * cos_t[idx];
                im -= frame[j] * sin_t[idx];
            }
            power[k] = re * re + im * im;
        }
        for (int m = 0; m < n_mels; m++) {
            double acc = 0.0;
            for (int k = 0; k < REF_BINS; k++) acc += (double)filters[(size_t)m * REF_BINS + k] * power[k];
            out[(size_t)m * n_frames + t] = (float)log10(acc > 1e-10 ? acc : 1e-10);
        }
    }

    const size_t n_out = (size_t)n_mels * n_frames;
    double mx = -INFINITY;
    for (size_t i = 0; i < n_out; i++)
        if (out[i] > mx) mx = out[i];
    for (size_t i = 0; i < n_out; i++) {
        double v = out[i];
        if (v < mx - 8.0) v = mx - 8.0;
        out[i] = (float)((v + 4.0) / 4.0);
    }
    free(window); free(cos_t); free(sin_t); free(frame); free(power);
    return 0;
}
