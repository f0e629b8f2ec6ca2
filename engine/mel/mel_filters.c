/*
 * mel_filters.c - the Slaney mel filterbank that librosa.filters.mel(sr=16000, n_fft=400, n_mels)
 * builds with its defaults (fmin 0, fmax 8000, htk=False, norm='slaney'); OAI ships the same
 * numbers in assets/mel_filters.npz (whisper-facts §3.1). Computed in double, stored as float.
 */
#include "mel/mel.h"

#include <math.h>
#include <stdlib.h>

enum { MEL_SR = 16000, MEL_NFFT = 400, MEL_BINS = MEL_NFFT / 2 + 1 };

/* Slaney mel scale: linear (200/3 Hz per mel) below 1 kHz, logarithmic above. */
static const double F_SP = 200.0 / 3.0;
static const double MIN_LOG_HZ = 1000.0;
static const double MIN_LOG_MEL = 1000.0 / (200.0 / 3.0); /* 15 */

static double hz_to_mel(double hz) {
    if (hz < MIN_LOG_HZ) return hz / F_SP;
    return MIN_LOG_MEL + log(hz / MIN_LOG_HZ) / (log(6.4) / 27.0);
}

static double mel_to_hz(double mel) {
    if (mel < MIN_LOG_MEL) return mel * F_SP;
    return MIN_LOG_HZ * exp((log(6.4) / 27.0) * (mel - MIN_LOG_MEL));
}

void uzw_mel_filters_slaney(int n_mels, float *out) {
    if (n_mels <= 0 || !out) return;
    /* n_mels+2 band edges, evenly spaced in mel from mel(0) to mel(sr/2), back in Hz */
    double *edges = malloc(((size_t)n_mels + 2) * sizeof *edges);  /* [n_mels+2] */
    if (!edges) {
        /* no way to report: leave a recognisably empty bank rather than garbage */
        for (size_t i = 0; i < (size_t)n_mels * MEL_BINS; i++) out[i] = 0.0f;
        return;
    }
    const double mel_lo = hz_to_mel(0.0), mel_hi = hz_to_mel(MEL_SR / 2.0);
    for (int i = 0; i < n_mels + 2; i++)
        edges[i] = mel_to_hz(mel_lo + (mel_hi - mel_lo) * (double)i / (double)(n_mels + 1));

    for (int m = 0; m < n_mels; m++) {
        const double f0 = edges[m], f1 = edges[m + 1], f2 = edges[m + 2];
        const double enorm = 2.0 / (f2 - f0);            /* slaney area normalisation */
        float *row = out + (size_t)m * MEL_BINS;          /* [201] */
        for (int k = 0; k < MEL_BINS; k++) {
            const double f = (double)k * MEL_SR / MEL_NFFT; /* 40k Hz */
            const double rise = (f - f0) / (f1 - f0);
            const double fall = (f2 - f) / (f2 - f1);
            double w = rise < fall ? rise : fall;
            if (w < 0.0) w = 0.0;
            row[k] = (float)(w * enorm);
        }
    }
    free(edges);
}
