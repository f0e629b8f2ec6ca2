/*
 * protocol_pcm.c - an AUDIO payload of uzw-stream/1 (interleaved little-endian PCM, s16le or f32le,
 * 1 or 2 channels) into mono float samples at the stream's rate (docs/protocol.md, "AUDIO").
 * Bytes are assembled explicitly, so the host's byte order and the payload's alignment do not
 * matter. s16 v becomes v / 32768 (exact in float); f32 must be finite and is clamped to [-1, 1]
 * per channel. Channels are averaged with the arithmetic of engine/audio/downmix.h (float sum in
 * channel order, divided by (float)channels), so a stream gives the engine the same samples as the
 * same audio read from a file. Resampling to 16 kHz is the engine's job, later.
 */
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "protocol.h"
#include "core/util.h" /* uzw_errf */

uint32_t uzs_pcm_frame_bytes(uzs_pcm_format format, int channels) {
    if (channels < 1 || channels > UZS_MAX_CHANNELS) return 0;
    switch (format) {
    case UZS_PCM_S16LE: return 2u * (uint32_t)channels;
    case UZS_PCM_F32LE: return 4u * (uint32_t)channels;
    default: return 0;
    }
}

/* One s16le sample at p, in [-1, 1). */
static inline float s16_at(const uint8_t *p) {
    const int u = p[0] | p[1] << 8;            /* 0..65535 */
    const int v = u >= 0x8000 ? u - 0x10000 : u; /* two's complement without implementation-defined casts */
    return (float)v * (1.0f / 32768.0f);
}

/* One f32le sample at p. */
static inline float f32_at(const uint8_t *p) {
    const uint32_t bits = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

long uzs_pcm_to_mono(uzs_pcm_format format, int channels, const void *payload, size_t len, float *mono,
                     char *err, size_t err_size) {
    const uint32_t fb = uzs_pcm_frame_bytes(format, channels);
    if (!fb) {
        uzw_errf(err, err_size, "AUDIO: bad sample format %d or channel count %d", (int)format, channels);
        return -1;
    }
    if (len % fb != 0) {
        uzw_errf(err, err_size, "AUDIO: %zu bytes is not a whole number of %u-byte sample frames", len, (unsigned)fb);
        return -1;
    }
    const size_t n = len / fb;
    if (n > (size_t)LONG_MAX) {
        uzw_errf(err, err_size, "AUDIO: %zu sample frames is too many", n);
        return -1;
    }
    if (n && (!payload || !mono)) {
        uzw_errf(err, err_size, "AUDIO: NULL payload or output");
        return -1;
    }
    const uint8_t *p = payload;
    const float fch = (float)channels;
    if (format == UZS_PCM_S16LE) {
        for (size_t i = 0; i < n; i++, p += fb) {
            float acc = s16_at(p);
            for (int c = 1; c < channels; c++) acc += s16_at(p + 2 * c);
            mono[i] = channels == 1 ? acc : acc / fch;
        }
        return (long)n;
    }
    for (size_t i = 0; i < n; i++, p += fb) {
        float acc = 0.0f;
        for (int c = 0; c < channels; c++) {
            float x = f32_at(p + 4 * c);
            if (!isfinite(x)) {
                uzw_errf(err, err_size, "AUDIO: sample frame %zu, channel %d is %s; f32le samples must be finite", i, c,
                        isnan(x) ? "NaN" : "infinite");
                return -1;
            }
            x = x > 1.0f ? 1.0f : x < -1.0f ? -1.0f : x;
            acc = c == 0 ? x : acc + x;
        }
        mono[i] = channels == 1 ? acc : acc / fch;
    }
    return (long)n;
}
