/*
 * protocol_frame.c - uzw-stream/1 framing (docs/protocol.md, "Frames"): the server's incremental
 * decoder of the client byte stream, the client's frame encoder, and the names of frame types and
 * error codes. A frame is [type u8][payload length u32 little-endian][payload]. The decoder checks
 * each frame as early as possible: the type and its order at the first header byte (so an HTTP
 * request or a TLS handshake sent to this port is refused at once), the length against the
 * type's limit when the header is complete, before any payload is buffered.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"
#include "core/util.h" /* uzw_errf */

enum { PHASE_WANT_HELLO = 0, PHASE_STREAM = 1, PHASE_ENDED = 2, PHASE_FAILED = 3 };

static const char *const k_error_names[UZS_ERR_COUNT] = {
    [UZS_ERR_NONE] = "none",
    [UZS_ERR_BAD_FRAME] = "bad_frame",
    [UZS_ERR_TOO_LARGE] = "too_large",
    [UZS_ERR_BAD_HELLO] = "bad_hello",
    [UZS_ERR_BAD_AUDIO] = "bad_audio",
    [UZS_ERR_UNAUTHORIZED] = "unauthorized",
    [UZS_ERR_UNSUPPORTED] = "unsupported",
    [UZS_ERR_OVERLOADED] = "overloaded",
    [UZS_ERR_TIMEOUT] = "timeout",
    [UZS_ERR_SHUTTING_DOWN] = "shutting_down",
    [UZS_ERR_INTERNAL] = "internal",
};

const char *uzs_error_code_name(uzs_error_code code) {
    if ((int)code < 0 || code >= UZS_ERR_COUNT) return NULL;
    return k_error_names[code];
}

uzs_error_code uzs_error_code_from_name(const char *name) {
    if (!name) return UZS_ERR_NONE;
    for (int c = 1; c < UZS_ERR_COUNT; c++)
        if (strcmp(name, k_error_names[c]) == 0) return (uzs_error_code)c;
    return UZS_ERR_NONE;
}

const char *uzs_frame_type_name(int type) {
    switch (type) {
    case UZS_FRAME_HELLO: return "HELLO";
    case UZS_FRAME_AUDIO: return "AUDIO";
    case UZS_FRAME_END: return "END";
    case UZS_FRAME_PING: return "PING";
    default: return NULL;
    }
}

/* The largest payload a frame of this type may carry. */
static uint32_t type_limit(int type) {
    switch (type) {
    case UZS_FRAME_HELLO: return UZS_MAX_HELLO_BYTES;
    case UZS_FRAME_AUDIO: return UZS_MAX_AUDIO_FRAME_BYTES;
    default: return 0;
    }
}

/* ---------------------------------------------------------------- decoder */

void uzs_frame_decoder_init(uzs_frame_decoder *d) {
    memset(d, 0, sizeof *d);
    d->phase = PHASE_WANT_HELLO;
}

void uzs_frame_decoder_free(uzs_frame_decoder *d) {
    if (!d) return;
    free(d->buf);
    d->buf = NULL;
    d->cap = 0;
}

void uzs_frame_decoder_set_frame_bytes(uzs_frame_decoder *d, uint32_t frame_bytes) { d->frame_bytes = frame_bytes; }

uzs_error_code uzs_frame_decoder_error(const uzs_frame_decoder *d) { return d->error; }

/* Enter the failed state with a message prefixed by where in the stream it happened. */
static int fail(uzs_frame_decoder *d, uzs_error_code code, uint64_t at, char *err, size_t err_size,
                const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static int fail(uzs_frame_decoder *d, uzs_error_code code, uint64_t at, char *err, size_t err_size,
                const char *fmt, ...) {
    char what[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(d->message, sizeof d->message, "frame %llu at byte %llu: %s", (unsigned long long)d->n_frames,
             (unsigned long long)at, what);
    d->phase = PHASE_FAILED;
    d->error = code;
    free(d->buf); /* a failed stream holds no memory */
    d->buf = NULL;
    d->cap = 0;
    uzw_errf(err, err_size, "%s", d->message);
    return -1;
}

/* Check a frame's first byte (its type) against the phase; 0 ok, else -1 (failed). */
static int check_type(uzs_frame_decoder *d, uint8_t t, char *err, size_t err_size) {
    const uint64_t at = d->offset;
    if (d->phase == PHASE_ENDED)
        return fail(d, UZS_ERR_BAD_FRAME, at, err, err_size, "data after END (byte 0x%02x); END is the last frame", t);
    const char *name = uzs_frame_type_name(t);
    if (!name) {
        if (d->phase == PHASE_WANT_HELLO && d->n_frames == 0 && at == 0) {
            if (t == 0x16)
                return fail(d, UZS_ERR_BAD_FRAME, at, err, err_size,
                            "unknown frame type 0x16: this looks like a TLS handshake; this port speaks plain %s",
                            UZS_PROTOCOL_NAME);
            if (t == '{')
                return fail(d, UZS_ERR_BAD_FRAME, at, err, err_size,
                            "unknown frame type 0x7b ('{'): this looks like JSON without a frame header; send "
                            "HELLO as type 0x01, a u32 little-endian length, then the JSON");
            if (t >= 'A' && t <= 'Z')
                return fail(d, UZS_ERR_BAD_FRAME, at, err, err_size,
                            "unknown frame type 0x%02x ('%c'): this looks like text (an HTTP request?); this port "
                            "speaks %s binary frames, HTTP has its own port",
                            t, t, UZS_PROTOCOL_NAME);
        }
        return fail(d, UZS_ERR_BAD_FRAME, at, err, err_size,
                    "unknown frame type 0x%02x (known: 0x01 HELLO, 0x02 AUDIO, 0x03 END, 0x04 PING)", t);
    }
    if (d->phase == PHASE_WANT_HELLO && t != UZS_FRAME_HELLO)
        return fail(d, UZS_ERR_BAD_FRAME, at, err, err_size, "%s before HELLO; the first frame must be HELLO", name);
    if (d->phase == PHASE_STREAM && t == UZS_FRAME_HELLO)
        return fail(d, UZS_ERR_BAD_FRAME, at, err, err_size, "a second HELLO; options are sent once, first");
    return 0;
}

/* Check the completed header's length against the type; 0 ok, else -1 (failed). */
static int check_length(uzs_frame_decoder *d, char *err, size_t err_size) {
    const uint8_t t = d->hdr[0];
    const uint32_t n = d->need;
    const uint64_t at = d->offset - UZS_FRAME_HEADER_BYTES;
    const char *name = uzs_frame_type_name(t);
    if (t == UZS_FRAME_END || t == UZS_FRAME_PING) {
        if (n != 0)
            return fail(d, UZS_ERR_BAD_FRAME, at, err, err_size, "%s with a %u-byte payload; %s carries none", name,
                        (unsigned)n, name);
        return 0;
    }
    if (n > type_limit(t))
        return fail(d, UZS_ERR_TOO_LARGE, at, err, err_size, "%s payload of %u bytes is over the limit of %u bytes",
                    name, (unsigned)n, (unsigned)type_limit(t));
    if (t == UZS_FRAME_AUDIO && d->frame_bytes && n % d->frame_bytes != 0)
        return fail(d, UZS_ERR_BAD_FRAME, at, err, err_size,
                    "AUDIO payload of %u bytes is not a whole number of %u-byte sample frames", (unsigned)n,
                    (unsigned)d->frame_bytes);
    return 0;
}

/* Hand out the completed frame and reset for the next header. */
static int emit(uzs_frame_decoder *d, const uint8_t *payload, uzs_frame *out) {
    static const uint8_t k_empty[1] = {0};
    out->type = (uzs_frame_type)d->hdr[0];
    out->len = d->need;
    out->payload = d->need ? payload : k_empty;
    out->index = d->n_frames;
    if (out->type == UZS_FRAME_HELLO) d->phase = PHASE_STREAM;
    if (out->type == UZS_FRAME_END) d->phase = PHASE_ENDED;
    if (out->type == UZS_FRAME_AUDIO) d->audio_bytes += d->need;
    d->n_frames++;
    d->hdr_have = 0;
    d->need = 0;
    d->have = 0;
    return 1;
}

int uzs_frame_decoder_next(uzs_frame_decoder *d, const uint8_t **data, size_t *len, uzs_frame *out,
                           char *err, size_t err_size) {
    if (d->phase == PHASE_FAILED) {
        uzw_errf(err, err_size, "%s", d->message);
        return -1;
    }
    for (;;) {
        /* the header, one byte at a time (it may be split anywhere) */
        while (d->hdr_have < UZS_FRAME_HEADER_BYTES) {
            if (*len == 0) return 0;
            const uint8_t b = **data;
            if (d->hdr_have == 0 && check_type(d, b, err, err_size) != 0) return -1;
            d->hdr[d->hdr_have++] = b;
            (*data)++;
            (*len)--;
            d->offset++;
            if (d->hdr_have == UZS_FRAME_HEADER_BYTES) {
                d->need = (uint32_t)d->hdr[1] | (uint32_t)d->hdr[2] << 8 | (uint32_t)d->hdr[3] << 16 |
                          (uint32_t)d->hdr[4] << 24;
                d->have = 0;
                if (check_length(d, err, err_size) != 0) return -1;
            }
        }
        /* the payload: pointed to in place when it is all in this chunk, else assembled */
        const uint32_t need = d->need;
        if (d->have == 0 && *len >= need) {
            const uint8_t *p = *data;
            *data += need;
            *len -= need;
            d->offset += need;
            return emit(d, p, out);
        }
        if (*len == 0) return 0;
        if (d->cap < need) {
            uint32_t cap = d->cap ? d->cap : 4096;
            while (cap < need) cap *= 2; /* need <= 1 MiB: no overflow */
            uint8_t *nb = realloc(d->buf, cap);
            if (!nb)
                return fail(d, UZS_ERR_INTERNAL, d->offset, err, err_size, "out of memory buffering %u bytes",
                            (unsigned)need);
            d->buf = nb;
            d->cap = cap;
        }
        size_t take = need - d->have;
        if (take > *len) take = *len;
        memcpy(d->buf + d->have, *data, take);
        d->have += (uint32_t)take;
        *data += take;
        *len -= take;
        d->offset += take;
        if (d->have < need) return 0;
        return emit(d, d->buf, out);
    }
}

int uzs_frame_decoder_eof(const uzs_frame_decoder *d, char *err, size_t err_size) {
    if (d->phase == PHASE_FAILED) {
        uzw_errf(err, err_size, "%s", d->message);
        return -1;
    }
    if (d->hdr_have > 0 && d->hdr_have < UZS_FRAME_HEADER_BYTES) {
        uzw_errf(err, err_size, "connection closed inside the header of frame %llu (%u of %d bytes)",
                (unsigned long long)d->n_frames, (unsigned)d->hdr_have, UZS_FRAME_HEADER_BYTES);
        return -1;
    }
    if (d->hdr_have == UZS_FRAME_HEADER_BYTES) {
        uzw_errf(err, err_size, "connection closed inside %s frame %llu (%u of %u payload bytes)",
                uzs_frame_type_name(d->hdr[0]), (unsigned long long)d->n_frames, (unsigned)d->have,
                (unsigned)d->need);
        return -1;
    }
    if (d->phase == PHASE_WANT_HELLO) {
        uzw_errf(err, err_size, "connection closed before HELLO");
        return -1;
    }
    if (d->phase == PHASE_STREAM) {
        uzw_errf(err, err_size, "connection closed without END after %llu frames", (unsigned long long)d->n_frames);
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- encoder (client side) */

int uzs_frame_header(uint8_t out[UZS_FRAME_HEADER_BYTES], uzs_frame_type type, size_t len, char *err,
                     size_t err_size) {
    const char *name = uzs_frame_type_name((int)type);
    if (!name) {
        uzw_errf(err, err_size, "unknown frame type 0x%02x", (unsigned)type & 0xffu);
        return -1;
    }
    if ((type == UZS_FRAME_END || type == UZS_FRAME_PING) && len != 0) {
        uzw_errf(err, err_size, "%s carries no payload (got %zu bytes)", name, len);
        return -1;
    }
    if (len > type_limit((int)type) && (type == UZS_FRAME_HELLO || type == UZS_FRAME_AUDIO)) {
        uzw_errf(err, err_size, "%s payload of %zu bytes is over the limit of %u bytes", name, len,
                (unsigned)type_limit((int)type));
        return -1;
    }
    out[0] = (uint8_t)type;
    out[1] = (uint8_t)(len & 0xff);
    out[2] = (uint8_t)(len >> 8 & 0xff);
    out[3] = (uint8_t)(len >> 16 & 0xff);
    out[4] = (uint8_t)(len >> 24 & 0xff);
    return 0;
}

long uzs_frame_encode(uzs_frame_type type, const void *payload, size_t len, uint8_t *out, size_t cap,
                      char *err, size_t err_size) {
    uint8_t hdr[UZS_FRAME_HEADER_BYTES];
    if (uzs_frame_header(hdr, type, len, err, err_size) != 0) return -1;
    if (len && !payload) {
        uzw_errf(err, err_size, "%s payload of %zu bytes is NULL", uzs_frame_type_name((int)type), len);
        return -1;
    }
    if (!out || cap < UZS_FRAME_HEADER_BYTES + len) {
        uzw_errf(err, err_size, "%s frame needs %zu bytes, the buffer has %zu", uzs_frame_type_name((int)type),
                UZS_FRAME_HEADER_BYTES + len, out ? cap : (size_t)0);
        return -1;
    }
    memcpy(out, hdr, UZS_FRAME_HEADER_BYTES);
    if (len) memcpy(out + UZS_FRAME_HEADER_BYTES, payload, len);
    return (long)(UZS_FRAME_HEADER_BYTES + len);
}
