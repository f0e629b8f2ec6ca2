/*
 * resample.c - interleaved frames at any rate -> mono float at 16 kHz.
 *
 * Downmix: the mean of the channels (audio/downmix.h). Resampling: libsamplerate's
 * SRC_SINC_BEST_QUALITY over the whole buffer in one src_simple call (end_of_input set), ratio
 * 16000.0 / rate. The output buffer holds ceil(n_frames * ratio) frames (computed in double, as
 * python-samplerate >= 0.2 does in samplerate.resample), and the output length is the number of
 * frames libsamplerate generates into it (output_frames_gen), so a Python reference calling
 * samplerate.resample(x, 16000 / rate, 'sinc_best') on the same float input gets the same samples.
 * Input already at 16000 Hz is copied unchanged.
 */
#include "audio/audio.h"
#include "audio/downmix.h"

#include <limits.h>
#include <math.h>
#include <samplerate.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { TARGET_RATE = 16000, MIN_RATE = 1000, MAX_RATE = 384000, MAX_CHANNELS = 64 };

/* snprintf into the caller's buffer, which may be NULL. */
#define SET_ERR(...) do { if (err && err_size) snprintf(err, err_size, __VA_ARGS__); } while (0)

int uzw_audio_to_16k_mono(const float *interleaved, size_t n_frames, int channels, int sample_rate,
                          float **pcm, size_t *n_samples, char *err, size_t err_size) {
    if (!pcm || !n_samples) {
        SET_ERR("audio: internal error: NULL output pointer");
        return -1;
    }
    *pcm = NULL;
    *n_samples = 0;
    if (channels <= 0 || channels > MAX_CHANNELS) {
        SET_ERR("audio: unsupported channel count %d (expected 1..%d)", channels, MAX_CHANNELS);
        return -1;
    }
    if (sample_rate < MIN_RATE || sample_rate > MAX_RATE) {
        SET_ERR("audio: unsupported sample rate %d Hz (expected %d..%d)", sample_rate, MIN_RATE,
                 MAX_RATE);
        return -1;
    }
    if (n_frames == 0 || !interleaved) {
        SET_ERR("audio: empty input (0 frames)");
        return -1;
    }
    if ((double)n_frames < UZW_MIN_AUDIO_SECONDS * sample_rate) {
        SET_ERR("audio: too short: %.3f s (minimum %.2f s)", (double)n_frames / sample_rate,
                 UZW_MIN_AUDIO_SECONDS);
        return -1;
    }
    if (n_frames > (size_t)LONG_MAX || n_frames > SIZE_MAX / sizeof(float) / (size_t)channels) {
        SET_ERR("audio: input too long (%zu frames)", n_frames);
        return -1;
    }
    const size_t n_values = n_frames * (size_t)channels;
    for (size_t i = 0; i < n_values; i++) {
        if (!isfinite(interleaved[i])) {
            SET_ERR("audio: sample %zu is not finite (NaN or Inf)", i / (size_t)channels);
            return -1;
        }
    }

    /* mono [n_frames] at the input rate */
    float *mono = malloc(n_frames * sizeof *mono);
    if (!mono) {
        SET_ERR("audio: out of memory (%zu frames)", n_frames);
        return -1;
    }
    if (channels == 1) memcpy(mono, interleaved, n_frames * sizeof *mono);
    else uzw_downmix(interleaved, n_frames, channels, mono);

    if (sample_rate == TARGET_RATE) {
        *pcm = mono;
        *n_samples = n_frames;
        return 0;
    }

    const double ratio = (double)TARGET_RATE / (double)sample_rate;
    const double cap = ceil((double)n_frames * ratio);
    if (!(cap >= 1.0) || cap > (double)LONG_MAX || cap > (double)(SIZE_MAX / sizeof(float))) {
        free(mono);
        SET_ERR("audio: cannot size the resampled output (%zu frames at %d Hz)", n_frames,
                 sample_rate);
        return -1;
    }
    const size_t out_cap = (size_t)cap;
    float *out = malloc(out_cap * sizeof *out);  /* [ceil(n_frames * ratio)] */
    if (!out) {
        free(mono);
        SET_ERR("audio: out of memory (%zu resampled samples)", out_cap);
        return -1;
    }
    SRC_DATA d;
    memset(&d, 0, sizeof d);
    d.data_in = mono;
    d.data_out = out;
    d.input_frames = (long)n_frames;
    d.output_frames = (long)out_cap;
    d.end_of_input = 1;
    d.src_ratio = ratio;
    const int rc = src_simple(&d, SRC_SINC_BEST_QUALITY, 1);
    free(mono);
    if (rc != 0) {
        free(out);
        SET_ERR("audio: resampling %d Hz -> 16000 Hz failed: %s", sample_rate, src_strerror(rc));
        return -1;
    }
    if (d.output_frames_gen <= 0) {
        free(out);
        SET_ERR("audio: resampling %d Hz -> 16000 Hz produced no samples", sample_rate);
        return -1;
    }
    *pcm = out;
    *n_samples = (size_t)d.output_frames_gen;
    return 0;
}
