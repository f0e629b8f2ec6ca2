/*
 * mel.c - Whisper's log-mel spectrogram with FFTW (whisper-facts §3.1).
 *
 * Signal x = pcm[0..n) followed by pad_zeros zeros, N = n + pad_zeros samples. Frame t (t = 0..N/160-1;
 * torch's last frame is dropped) covers x[160t-200 .. 160t+199] with reflect padding at both ends,
 * is windowed by the periodic Hann(400), and goes through a 400-point real DFT (201 bins).
 * Frames are processed in blocks of FRAME_BLOCK: the block's power spectra [FRAME_BLOCK, 201] stay
 * in cache while each mel row is projected over the block and written contiguously into
 * out [M, n_frames]. The mel filters are triangles, so each row only touches its non-zero bins
 * (summed in double); log10f and the clamp run in float32 like torch.
 */
#include "mel/mel.h"

#include <fftw3.h>
#include <pthread.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* FFTW's planner is not thread-safe (its manual: only fftw_execute is). Contexts are created from many
 * threads in a server, so plan creation and destruction are serialised here. This lock is the one piece
 * of process-wide state in the library and guards FFTW's, not ours. */
static pthread_mutex_t planner_lock = PTHREAD_MUTEX_INITIALIZER;

enum {
    N_FFT = 400,
    HOP = 160,
    PAD = N_FFT / 2,        /* centre padding on each side */
    N_BINS = N_FFT / 2 + 1, /* 201 */
    FRAME_BLOCK = 64,
};

struct uzw_mel_plan {
    int n_mels;                 /* M */
    float *filters;             /* [M, 201] */
    int *lo, *hi;               /* [M]: non-zero bin range [lo, hi) of each filter row */
    float *window;              /* [400] periodic Hann */
    float *frame;               /* [400] FFTW input (fftwf_malloc) */
    fftwf_complex *spec;        /* [201] FFTW output (fftwf_malloc) */
    float *power;               /* [FRAME_BLOCK, 201] |X|^2 of one block of frames */
    fftwf_plan plan;
};

void uzw_mel_plan_free(uzw_mel_plan *p) {
    if (!p) return;
    if (p->plan) {
        pthread_mutex_lock(&planner_lock);
        fftwf_destroy_plan(p->plan);
        pthread_mutex_unlock(&planner_lock);
    }
    fftwf_free(p->frame);
    fftwf_free(p->spec);
    free(p->filters);
    free(p->lo);
    free(p->hi);
    free(p->window);
    free(p->power);
    free(p);
}

uzw_mel_plan *uzw_mel_plan_new(int n_mels, const float *filters) {
    if (n_mels <= 0 || n_mels > 4096 || !filters) return NULL;
    uzw_mel_plan *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->n_mels = n_mels;
    const size_t nf = (size_t)n_mels * N_BINS;
    p->filters = malloc(nf * sizeof *p->filters);
    p->lo = malloc((size_t)n_mels * sizeof *p->lo);
    p->hi = malloc((size_t)n_mels * sizeof *p->hi);
    p->window = malloc(N_FFT * sizeof *p->window);
    p->power = malloc((size_t)FRAME_BLOCK * N_BINS * sizeof *p->power);
    p->frame = fftwf_malloc(N_FFT * sizeof *p->frame);
    p->spec = fftwf_malloc(N_BINS * sizeof *p->spec);
    if (!p->filters || !p->lo || !p->hi || !p->window || !p->power || !p->frame || !p->spec) {
        uzw_mel_plan_free(p);
        return NULL;
    }
    memcpy(p->filters, filters, nf * sizeof *p->filters);
    for (int m = 0; m < n_mels; m++) {
        const float *row = p->filters + (size_t)m * N_BINS;
        int lo = 0, hi = N_BINS;
        while (lo < hi && row[lo] == 0.0f) lo++;
        while (hi > lo && row[hi - 1] == 0.0f) hi--;
        p->lo[m] = lo;
        p->hi[m] = hi;
    }
    for (int i = 0; i < N_FFT; i++)
        p->window[i] = (float)(0.5 - 0.5 * cos(2.0 * M_PI * (double)i / (double)N_FFT));
    pthread_mutex_lock(&planner_lock);
    p->plan = fftwf_plan_dft_r2c_1d(N_FFT, p->frame, p->spec, FFTW_ESTIMATE);
    pthread_mutex_unlock(&planner_lock);
    if (!p->plan) {
        uzw_mel_plan_free(p);
        return NULL;
    }
    return p;
}

size_t uzw_mel_n_frames(size_t n_samples) { return n_samples / HOP; }

/* x[i] of the zero-extended signal with torch's reflect padding, for i in [-200, N+200). */
static inline float sample_at(const float *pcm, size_t n, size_t total, ptrdiff_t i) {
    if (i < 0) i = -i;
    else if ((size_t)i >= total) i = 2 * ((ptrdiff_t)total - 1) - i;
    return (size_t)i < n ? pcm[i] : 0.0f;
}

/* Window frame t into p->frame. */
static void load_frame(const uzw_mel_plan *p, const float *pcm, size_t n, size_t total, size_t t) {
    const ptrdiff_t start = (ptrdiff_t)(t * HOP) - PAD;
    if (start >= 0 && (size_t)start + N_FFT <= n) {
        const float *src = pcm + start; /* fast path: wholly inside the real samples */
        for (int i = 0; i < N_FFT; i++) p->frame[i] = src[i] * p->window[i];
    } else {
        for (int i = 0; i < N_FFT; i++) p->frame[i] = sample_at(pcm, n, total, start + i) * p->window[i];
    }
}

int uzw_mel_compute(uzw_mel_plan *p, const float *pcm, size_t n, size_t pad_zeros, float *out) {
    if (!p || !out || (!pcm && n > 0)) return -1;
    if (n > SIZE_MAX - pad_zeros) return -1;
    const size_t total = n + pad_zeros;
    if (total <= PAD || total > (size_t)PTRDIFF_MAX / 2) return -1; /* reflect pad needs > 200 samples */
    const size_t n_frames = uzw_mel_n_frames(total);
    const int M = p->n_mels;

    for (size_t t0 = 0; t0 < n_frames; t0 += FRAME_BLOCK) {
        const size_t nb = n_frames - t0 < FRAME_BLOCK ? n_frames - t0 : FRAME_BLOCK;
        /* power spectra of the block: power [nb, 201] */
        for (size_t b = 0; b < nb; b++) {
            load_frame(p, pcm, n, total, t0 + b);
            fftwf_execute(p->plan);
            float *pw = p->power + b * N_BINS;
            for (int k = 0; k < N_BINS; k++) {
                const float re = p->spec[k][0], im = p->spec[k][1];
                pw[k] = re * re + im * im;
            }
        }
        /* mel projection + log10: out[m, t0..t0+nb) */
        for (int m = 0; m < M; m++) {
            const float *fr = p->filters + (size_t)m * N_BINS;
            const int lo = p->lo[m], hi = p->hi[m];
            float *dst = out + (size_t)m * n_frames + t0;
            for (size_t b = 0; b < nb; b++) {
                const float *pw = p->power + b * N_BINS;
                double acc = 0.0;
                for (int k = lo; k < hi; k++) acc += (double)fr[k] * (double)pw[k];
                const float a = (float)acc;
                dst[b] = log10f(a > 1e-10f ? a : 1e-10f);
            }
        }
    }

    /* dynamic range: max(x, global_max - 8), then (x + 4) / 4 */
    const size_t n_out = (size_t)M * n_frames;
    float mx = -INFINITY;
    for (size_t i = 0; i < n_out; i++)
        if (out[i] > mx) mx = out[i];
    const float floor_v = mx - 8.0f;
    for (size_t i = 0; i < n_out; i++) {
        const float v = out[i] > floor_v ? out[i] : floor_v;
        out[i] = (v + 4.0f) / 4.0f;
    }
    return 0;
}
