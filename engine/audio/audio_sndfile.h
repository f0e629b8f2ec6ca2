/*
 * audio_sndfile.h - internal: what the path reader (audio_file.c) and the upload reader (audio_mem.c)
 * share once libsndfile has opened their input: every check on the header (channels, sample rate,
 * empty, too long, too short, truncation noted in libsndfile's log), the decode to mono, and the
 * resampling to 16 kHz. Each reader only opens its input and explains an open failure.
 */
#ifndef UZW_AUDIO_SNDFILE_H
#define UZW_AUDIO_SNDFILE_H

#include <sndfile.h>
#include <stddef.h>

/* Check and decode an opened f (not closed here) into mono float PCM at 16000 Hz (*pcm malloc'ed).
 * shown: the input as messages name it, quotes included ("'a.wav'", "the upload").
 * max_seconds: the longest audio accepted, in (0, UZW_AUDIO_MAX_SECONDS]; longer headers are refused
 * before decoding, longer streams as soon as the limit is passed.
 * Returns 0, or -1 with *pcm NULL, *n_samples 0 and a message naming `shown`. */
int uzw_audio_decode_sndfile(SNDFILE *f, const SF_INFO *info, const char *shown, double max_seconds, float **pcm,
                             size_t *n_samples, char *err, size_t err_size);

#endif
