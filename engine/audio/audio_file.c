/*
 * audio_file.c - decode an audio file with libsndfile, downmix to mono block by block, and
 * resample to 16 kHz (resample.c). libsndfile 1.2 (Debian 12) reads WAV/WAVEX/RF64/W64, AIFF,
 * CAF, FLAC, OGG (Vorbis and Opus), MPEG-1/2 layer I-III (MP3, via mpg123) and more.
 * uzw_audio_decode_sndfile (audio_sndfile.h) holds every check and the decoding once libsndfile
 * has opened the input; uzw_audio_load_16k opens a path with it, audio_mem.c an upload in memory.
 *
 * Integer PCM is read as float normalised by 1/2^(bits-1) (libsndfile's default), so 16-bit
 * input gives x/32768 like OAI's ffmpeg s16le path.
 *
 * Truncation: libsndfile silently shrinks a WAV/AIFF data chunk that runs past the end of the
 * file and only notes it in its log ("data : <declared> (should be <real>)"); we read that log.
 * For every format but MPEG we also compare the frames decoded with the frames the header
 * promised. An MP3's count is exact only when it has a Xing/Info/VBRI frame; otherwise it is
 * mpg123_length's estimate from the file size ("a bad estimate, ignoring tags" in mpg123's
 * source), which an ID3v2 tag or a variable bit rate inflates: a valid MP3 with cover art and no
 * Info frame promised 289404 frames and held 241344. So an MP3 is decoded as far as its frames go,
 * and its length limits (too long, too short) are checked on the frames decoded, not the estimate.
 *
 * Memory: the mono buffer starts at the promised length but at most INITIAL_FRAMES and grows by
 * doubling, so a header that promises hours of audio in a few bytes (FLAC, Vorbis) costs nothing
 * until those frames really decode.
 */
#include "audio/audio.h"
#include "audio/audio_sndfile.h"
#include "audio/downmix.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <sndfile.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { MIN_RATE = 1000, MAX_RATE = 384000, MAX_CHANNELS = 64, BLOCK_FRAMES = 4096 };
enum {
    INITIAL_FRAMES = 1 << 22, /* the mono buffer starts at most this long (16 MiB) ... */
    UNKNOWN_FRAMES = 1 << 20  /* ... and this long when the header gives no length */
};

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

/* The limit in messages: "24 hours" (as before the limit was a parameter) or "30 s". */
static void limit_text(double max_seconds, char *buf, size_t cap) {
    if (max_seconds >= 3600.0 && fmod(max_seconds, 3600.0) == 0.0)
        snprintf(buf, cap, "%.0f hours", max_seconds / 3600.0);
    else
        snprintf(buf, cap, "%g s", max_seconds);
}

/* Read every frame of f, averaging channels, into *mono (malloc'ed); frame count in *n. exact:
 * info->frames is the true length (not unknown, not an MP3 estimate), so fewer is truncation. */
static int read_mono(SNDFILE *f, const SF_INFO *info, int exact, size_t max_frames, double max_seconds,
                     const char *shown, float **mono, size_t *n, char *err, size_t err_size) {
    const int ch = info->channels;
    const int known = info->frames > 0 && info->frames < SF_COUNT_MAX;
    size_t cap = known ? (size_t)info->frames : (size_t)UNKNOWN_FRAMES;
    if (cap > INITIAL_FRAMES) cap = INITIAL_FRAMES;
    if (cap > max_frames) cap = max_frames;
    if (cap == 0) cap = 1;
    float *out = malloc(cap * sizeof *out);                                  /* [cap] mono */
    float *block = malloc((size_t)BLOCK_FRAMES * (size_t)ch * sizeof *block); /* [BLOCK_FRAMES, ch] */
    if (!out || !block) {
        free(out);
        free(block);
        SET_ERR("audio: out of memory decoding %s (%zu frames)", shown, cap);
        return -1;
    }
    size_t total = 0;
    for (;;) {
        const sf_count_t got = sf_readf_float(f, block, BLOCK_FRAMES);
        if (got <= 0) break;
        if (total + (size_t)got > max_frames) {
            char limit[64];
            limit_text(max_seconds, limit, sizeof limit);
            free(out);
            free(block);
            SET_ERR("audio: %s is too long (more than %s)", shown, limit);
            return -1;
        }
        if (total + (size_t)got > cap) {
            size_t ncap = cap * 2 > total + (size_t)got ? cap * 2 : total + (size_t)got;
            if (ncap > max_frames) ncap = max_frames;
            float *grown = realloc(out, ncap * sizeof *out);
            if (!grown) {
                free(out);
                free(block);
                SET_ERR("audio: out of memory decoding %s (%zu frames)", shown, ncap);
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
        SET_ERR("audio: error decoding %s after %zu frames: %s", shown, total, sf_strerror(f));
        return -1;
    }
    if (exact && total < (size_t)info->frames) {
        free(out);
        SET_ERR("audio: %s is truncated: header promises %lld frames, only %zu could be decoded", shown,
                (long long)info->frames, total);
        return -1;
    }
    *mono = out;
    *n = total;
    return 0;
}

int uzw_audio_decode_sndfile(SNDFILE *f, const SF_INFO *info, const char *shown, double max_seconds, float **pcm,
                             size_t *n_samples, char *err, size_t err_size) {
    if (!f || !info || !shown || !pcm || !n_samples) {
        SET_ERR("audio: internal error: NULL argument to uzw_audio_decode_sndfile");
        return -1;
    }
    *pcm = NULL;
    *n_samples = 0;
    if (!(max_seconds > 0.0) || max_seconds > UZW_AUDIO_MAX_SECONDS) {
        SET_ERR("audio: internal error: duration limit %g s outside (0, %.0f]", max_seconds, UZW_AUDIO_MAX_SECONDS);
        return -1;
    }
    char limit[64];
    limit_text(max_seconds, limit, sizeof limit);
    int rc = -1;
    float *mono = NULL;
    size_t n = 0;
    long long declared = 0, actual = 0;
    /* the header's frame count is exact: not unknown, not an MP3 estimate (see the top) */
    const int exact = info->frames > 0 && info->frames < SF_COUNT_MAX &&
                      (info->format & SF_FORMAT_TYPEMASK) != SF_FORMAT_MPEG;
    if (info->channels <= 0 || info->channels > MAX_CHANNELS) {
        SET_ERR("audio: %s has %d channels (expected 1..%d)", shown, info->channels, MAX_CHANNELS);
    } else if (info->samplerate < MIN_RATE || info->samplerate > MAX_RATE) {
        SET_ERR("audio: %s has an unsupported sample rate %d Hz (expected %d..%d)", shown, info->samplerate,
                MIN_RATE, MAX_RATE);
    } else if (info->frames <= 0) {
        SET_ERR("audio: %s is empty (0 audio frames)", shown);
    } else if (exact && (double)info->frames > max_seconds * info->samplerate) {
        SET_ERR("audio: %s is too long: %lld frames at %d Hz is over %s", shown, (long long)info->frames,
                info->samplerate, limit);
    } else if (exact && (double)info->frames < UZW_MIN_AUDIO_SECONDS * info->samplerate) {
        SET_ERR("audio: %s is too short: %.3f s (minimum %.2f s)", shown, (double)info->frames / info->samplerate,
                UZW_MIN_AUDIO_SECONDS);
    } else if (log_says_truncated(f, &declared, &actual)) {
        SET_ERR("audio: %s is truncated: the data chunk declares %lld bytes but the file holds %lld", shown,
                declared, actual);
    } else {
        size_t max_frames = (size_t)(max_seconds * info->samplerate);
        if (max_frames > SIZE_MAX / sizeof(float)) max_frames = SIZE_MAX / sizeof(float);
        if (read_mono(f, info, exact, max_frames, max_seconds, shown, &mono, &n, err, err_size) == 0) {
            char sub[256];
            sub[0] = 0;
            rc = uzw_audio_to_16k_mono(mono, n, 1, info->samplerate, pcm, n_samples, sub, sizeof sub);
            if (rc != 0) SET_ERR("%s (in %s)", sub, shown);
            free(mono);
        }
    }
    return rc;
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
    /* messages name the file as before: in single quotes */
    const size_t len = strlen(path);
    char *shown = malloc(len + 3);
    if (!shown) {
        sf_close(f);
        SET_ERR("audio: out of memory opening '%s'", path);
        return -1;
    }
    shown[0] = '\'';
    memcpy(shown + 1, path, len);
    shown[len + 1] = '\'';
    shown[len + 2] = 0;
    const int rc = uzw_audio_decode_sndfile(f, &info, shown, UZW_AUDIO_MAX_SECONDS, pcm, n_samples, err, err_size);
    free(shown);
    sf_close(f);
    return rc;
}
