/*
 * audio.h - audio in: decode any file libsndfile reads (WAV, FLAC, OGG/Vorbis, Opus, MP3), from a
 * path or from bytes in memory (an HTTP upload), downmix to mono, resample to 16 kHz with
 * libsamplerate.
 */
#ifndef UZW_AUDIO_H
#define UZW_AUDIO_H

#include <stddef.h>

/* Shortest input accepted, in seconds at any rate (a few STFT frames). */
#define UZW_MIN_AUDIO_SECONDS 0.1
/* Longest input the file and upload readers accept by default, in seconds (24 hours). */
#define UZW_AUDIO_MAX_SECONDS (24.0 * 3600.0)
/* Largest upload uzw_audio_load_16k_mem accepts, in bytes (2 GiB). */
#define UZW_AUDIO_MAX_UPLOAD_BYTES ((size_t)2 << 30)

/* Decode path into mono float PCM at 16000 Hz. *pcm is malloc'ed; caller frees.
 * Returns 0, or -1 with a clear message (unreadable/unknown format, empty, too short,
 * truncated data, zero channels, absurd sample rate). */
int uzw_audio_load_16k(const char *path, float **pcm, size_t *n_samples, char *err, size_t err_size);

/* Same as uzw_audio_load_16k from an encoded file held in memory (an upload): data[size] is only read
 * during the call. name is used in messages only ("upload.wav"; NULL: "the upload"); a name ending in
 * ".mp3" also lets an MP3 that starts with junk be found, as the path reader does by extension.
 * Also refuses size 0 ("empty upload") and size > UZW_AUDIO_MAX_UPLOAD_BYTES (2 GiB). */
int uzw_audio_load_16k_mem(const void *data, size_t size, const char *name, float **pcm, size_t *n_samples,
                           char *err, size_t err_size);

/* Same with a lower limit on the decoded duration: max_seconds in (0, UZW_AUDIO_MAX_SECONDS]. The
 * limit is checked on the header before decoding and again while decoding, so a small upload that
 * expands to hours (a FLAC or Vorbis "bomb") is refused after max_seconds of audio, not 24 hours. */
int uzw_audio_load_16k_mem_max(const void *data, size_t size, const char *name, double max_seconds, float **pcm,
                               size_t *n_samples, char *err, size_t err_size);

/* Same from a decoded buffer: interleaved frames at any rate and channel count. */
int uzw_audio_to_16k_mono(const float *interleaved, size_t n_frames, int channels, int sample_rate,
                          float **pcm, size_t *n_samples, char *err, size_t err_size);

#endif
