/*
 * audio.h - audio in: decode any file libsndfile reads (WAV, FLAC, OGG/Vorbis, Opus, MP3),
 * downmix to mono, resample to 16 kHz with libsamplerate.
 */
#ifndef UZW_AUDIO_H
#define UZW_AUDIO_H

#include <stddef.h>

/* Shortest input accepted, in seconds at any rate (a few STFT frames). */
#define UZW_MIN_AUDIO_SECONDS 0.1

/* Decode path into mono float PCM at 16000 Hz. *pcm is malloc'ed; caller frees.
 * Returns 0, or -1 with a clear message (unreadable/unknown format, empty, too short,
 * truncated data, zero channels, absurd sample rate). */
int uzw_audio_load_16k(const char *path, float **pcm, size_t *n_samples, char *err, size_t err_size);

/* Same from a decoded buffer: interleaved frames at any rate and channel count. */
int uzw_audio_to_16k_mono(const float *interleaved, size_t n_frames, int channels, int sample_rate,
                          float **pcm, size_t *n_samples, char *err, size_t err_size);

#endif
