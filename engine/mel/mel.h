/*
 * mel.h - Whisper's log-mel spectrogram (OAI audio.py): periodic Hann(400), hop 160, centred STFT
 * with reflect padding, |X|^2, drop the last frame, mel projection, log10(max(x,1e-10)),
 * max(x, max-8), (x+4)/4. FFTW (single precision) does the 400-point real DFT.
 */
#ifndef UZW_MEL_H
#define UZW_MEL_H

#include <stddef.h>

/* Slaney mel filterbank as librosa.filters.mel(sr=16000, n_fft=400, n_mels) builds it.
 * out: [n_mels, 201], row-major. */
void uzw_mel_filters_slaney(int n_mels, float *out);

typedef struct uzw_mel_plan uzw_mel_plan;

/* filters: [n_mels, 201] (copied). Safe to call from several threads (FFTW's planner is serialised
 * inside); one plan is used by one thread at a time. Returns NULL on allocation failure. */
uzw_mel_plan *uzw_mel_plan_new(int n_mels, const float *filters);
void uzw_mel_plan_free(uzw_mel_plan *p);

/* Number of output frames for n samples: n / 160 (1 + n/160 STFT frames, the last dropped). */
size_t uzw_mel_n_frames(size_t n_samples);

/* Log-mel of pcm[0..n) followed by pad_zeros zero samples (OAI transcribe() passes 480000).
 * out: [n_mels, n_frames] row-major with n_frames = uzw_mel_n_frames(n + pad_zeros); the
 * max-8 clamp uses the maximum over the whole output. n + pad_zeros must be > 200 (reflect pad). */
int uzw_mel_compute(uzw_mel_plan *p, const float *pcm, size_t n, size_t pad_zeros, float *out);

/* Plain-loop reference (direct DFT, double accumulation), same contract: the oracle for tests. */
int uzw_mel_compute_ref(int n_mels, const float *filters, const float *pcm, size_t n, size_t pad_zeros, float *out);

#endif
