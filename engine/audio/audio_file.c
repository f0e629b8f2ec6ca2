/*
 * audio_file.c - decode an audio file with libsndfile, downmix to mono block by block, and
 * resample to 16 kHz (resample.c). libsndfile 1.2 (Debian 12) reads WAV/WAVEX/RF64/W64, AIFF,
 * CAF, FLAC, OGG (Vorbis and Opus), MPEG-1/2 layer I-III (MP3, via mpg123) and more.
 *
 * Integer PCM is read as float normalised by 1/2^(bits-1) (libsndfile's default), so 16-bit
 * input gives x/32768 like OAI's ffmpeg s16le path.
 *
 * Truncation: libsndfile silently shrinks a WAV/AIFF data chunk that runs past the end of the
 * file and only notes it in its log ("data : <declared> (should be <real>)"); we read that log.
 * For every format we also compare the frames decoded with the frames the header promised.
 */
#include "audio/audio.h"
#include "audio/downmix.h"

#include <errno.h>
#include <inttypes.h>
#include <sndfile.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { MIN_RATE = 1000, MAX_RATE = 384000, MAX_CHANNELS = 64, BLOCK_FRAMES = 4096 };
#define MAX_SECONDS (24.0 * 3600.0)

#define SET_ERR(...) do { if (err && err_size) snprintf(err, err_size, __VA_ARGS__); } while (0)

/* Explain why sf_open failed. */
static void open_error(const char *path, char *err, size_t err_size) {
    const char *why = sf_strerror(NULL);
    struct stat st;
    if (stat(path, &st) != 0) {
        SET_ERR("audio: cannot open '%s': %s", path, strerror(errno));
    } else if (S_ISDIR(st.st_mode)) {
        SET_ERR("audio: cannot open '%s': is a directory", path);
    } else if (access(path, R_OK) != 0) {
        SET_ERR("audio: cannot open '%s': not readable: %s", path, why);
    } else if (st.st_size == 0) {
        SET_ERR("audio: '%s' is an empty file (0 bytes)", path);
    } else {
        SET_ERR("audio: cannot open '%s': not a recognised audio file (%s)", path, why);
    }
}

/* 1 when libsndfile's log says a data chunk is shorter in the file than its header declares. */
static int log_says_truncated(SNDFILE *f, long long *declared, long long *actual) {
    char log[8192];
    log[0] = 0;
    sf_command(f, SFC_GET_LOG_INFO, log, (int)sizeof log);
    log[sizeof log - 1] = 0;
    for (char *line = log; line && *line;) {
        char *next = strchr(line, '\n');
        if (next) *next++ = 0;
        if (strncmp(line, "data", 4) == 0 || strncmp(line, "SSND", 4) == 0) {
            long long d = 0, s = 0;
            const char *colon = strchr(line, ':');
            const char *sb = strstr(line, "(should be");
            if (colon && sb && sscanf(colon + 1, "%lld", &d) == 1 && sscanf(sb + 10, "%lld", &s) == 1) {
                /* 0 and 0xFFFFFFFF-ish sizes are streaming placeholders ("length unknown"), not damage */
                if (s < d && d != 0 && d < 0xFFFFFF00LL) {
                    *declared = d;
                    *actual = s;
                    return 1;
                }
            }
        }
        line = next;
    }
    return 0;
}

/* Read every frame of f, averaging channels, into *mono (malloc'ed); frame count in *n. */
static int read_mono(SNDFILE *f, const SF_INFO *info, size_t max_frames, const char *path, float **mono,
                     size_t *n, char *err, size_t err_size) {
    const int ch = info->channels;
    const int known = info->frames > 0 && info->frames < SF_COUNT_MAX;
    size_t cap = known ? (size_t)info->frames : (size_t)1 << 20;
    if (cap > max_frames) cap = max_frames;
    float *out = malloc(cap * sizeof *out);                                  /* [cap] mono */
    float *block = malloc((size_t)BLOCK_FRAMES * (size_t)ch * sizeof *block); /* [BLOCK_FRAMES, ch] */
    if (!out || !block) {
        free(out);
        free(block);
        SET_ERR("audio: out of memory decoding '%s' (%zu frames)", path, cap);
        return -1;
    }
    size_t total = 0;
    for (;;) {
        const sf_count_t got = sf_readf_float(f, block, BLOCK_FRAMES);
        if (got <= 0) break;
        if (total + (size_t)got > max_frames) {
            free(out);
            free(block);
            SET_ERR("audio: '%s' is too long (more than %.0f hours)", path, MAX_SECONDS / 3600.0);
            return -1;
        }
        if (total + (size_t)got > cap) {
            size_t ncap = cap * 2 > total + (size_t)got ? cap * 2 : total + (size_t)got;
            if (ncap > max_frames) ncap = max_frames;
            float *grown = realloc(out, ncap * sizeof *out);
            if (!grown) {
                free(out);
                free(block);
                SET_ERR("audio: out of memory decoding '%s' (%zu frames)", path, ncap);
                return -1;
            }
            out = grown;
            cap = ncap;
        }
        uzw_downmix(block, (size_t)got, ch, out + total);
        total += (size_t)got;
    }
    free(block);
    if (sf_error(f) != SF_ERR_NO_ERROR) {
        free(out);
        SET_ERR("audio: error decoding '%s' after %zu frames: %s", path, total, sf_strerror(f));
        return -1;
    }
    if (known && total < (size_t)info->frames) {
        free(out);
        SET_ERR("audio: '%s' is truncated: header promises %lld frames, only %zu could be decoded", path,
                (long long)info->frames, total);
        return -1;
    }
    *mono = out;
    *n = total;
    return 0;
}

int uzw_audio_load_16k(const char *path, float **pcm, size_t *n_samples, char *err, size_t err_size) {
    if (!pcm || !n_samples) {
        SET_ERR("audio: internal error: NULL output pointer");
        return -1;
    }
    *pcm = NULL;
    *n_samples = 0;
    if (!path || !*path) {
        SET_ERR("audio: cannot open: empty path");
        return -1;
    }
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *f = sf_open(path, SFM_READ, &info);
    if (!f) {
        open_error(path, err, err_size);
        return -1;
    }
    int rc = -1;
    float *mono = NULL;
    size_t n = 0;
    long long declared = 0, actual = 0;
    if (info.channels <= 0 || info.channels > MAX_CHANNELS) {
        SET_ERR("audio: '%s' has %d channels (expected 1..%d)", path, info.channels, MAX_CHANNELS);
    } else if (info.samplerate < MIN_RATE || info.samplerate > MAX_RATE) {
        SET_ERR("audio: '%s' has an unsupported sample rate %d Hz (expected %d..%d)", path, info.samplerate,
                MIN_RATE, MAX_RATE);
    } else if (info.frames <= 0) {
        SET_ERR("audio: '%s' is empty (0 audio frames)", path);
    } else if (info.frames < SF_COUNT_MAX && (double)info.frames > MAX_SECONDS * info.samplerate) {
        SET_ERR("audio: '%s' is too long: %lld frames at %d Hz is over %.0f hours", path, (long long)info.frames,
                info.samplerate, MAX_SECONDS / 3600.0);
    } else if ((double)info.frames < UZW_MIN_AUDIO_SECONDS * info.samplerate) {
        SET_ERR("audio: '%s' is too short: %.3f s (minimum %.2f s)", path, (double)info.frames / info.samplerate,
                UZW_MIN_AUDIO_SECONDS);
    } else if (log_says_truncated(f, &declared, &actual)) {
        SET_ERR("audio: '%s' is truncated: the data chunk declares %lld bytes but the file holds %lld", path,
                declared, actual);
    } else {
        size_t max_frames = (size_t)(MAX_SECONDS * info.samplerate);
        if (max_frames > SIZE_MAX / sizeof(float)) max_frames = SIZE_MAX / sizeof(float);
        if (read_mono(f, &info, max_frames, path, &mono, &n, err, err_size) == 0) {
            char sub[256];
            sub[0] = 0;
            rc = uzw_audio_to_16k_mono(mono, n, 1, info.samplerate, pcm, n_samples, sub, sizeof sub);
            if (rc != 0) SET_ERR("%s (in '%s')", sub, path);
            free(mono);
        }
    }
    sf_close(f);
    return rc;
}
