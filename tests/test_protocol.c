/*
 * test_protocol.c - the uzw-stream/1 codec (tools/serve/protocol.h, docs/protocol.md): frames
 * encoded and decoded whole, one byte at a time and at random split points with the same result;
 * every decoder error with its code and message, limits exactly at and one past the boundary,
 * end-of-stream checks; every HELLO field of a wrong type or out of range; PCM conversion values
 * (s16 ends of the range, stereo downmix against the engine's downmix, f32 clamping, NaN/inf);
 * each server message parsed back by Jansson field by field and accepted by the line checker,
 * and the checker refusing lines that break the spec.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio/downmix.h"
#include "protocol.h"
#include "testutil.h"

#define HELLO_MIN "{\"protocol\":\"uzw-stream/1\",\"sample_rate\":16000,\"format\":\"s16le\"}"

/* ---------------------------------------------------------------- helpers */

/* A growable byte buffer of encoded frames. */
typedef struct {
    uint8_t *p;
    size_t n, cap;
} bytes;

static void put_frame(bytes *b, uzs_frame_type t, const void *payload, size_t len) {
    if (b->n + len + UZS_FRAME_HEADER_BYTES > b->cap) {
        b->cap = (b->n + len + UZS_FRAME_HEADER_BYTES) * 2;
        b->p = realloc(b->p, b->cap);
        cr_assert(b->p);
    }
    char err[256] = "";
    long w = uzs_frame_encode(t, payload, len, b->p + b->n, b->cap - b->n, err, sizeof err);
    cr_assert_eq(w, (long)(len + UZS_FRAME_HEADER_BYTES), "%s", err);
    b->n += (size_t)w;
}

/* Raw header bytes (any type and length, also invalid ones). */
static void put_header(bytes *b, uint8_t type, uint32_t len) {
    if (b->n + 5 > b->cap) {
        b->cap = b->n + 64;
        b->p = realloc(b->p, b->cap);
    }
    uint8_t h[5] = {type, (uint8_t)len, (uint8_t)(len >> 8), (uint8_t)(len >> 16), (uint8_t)(len >> 24)};
    memcpy(b->p + b->n, h, 5);
    b->n += 5;
}

static void put_raw(bytes *b, const void *p, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 16;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

/* What a decoder made of a byte stream: the frames (payloads copied) and how it stopped. */
typedef struct {
    int n;
    int type[64];
    uint32_t len[64];
    uint8_t *payload[64];
    uint64_t index[64];
    int rc;                 /* last return: 0 input used up, -1 error */
    uzs_error_code code;
    char message[256];
    uint64_t offset;
} decoded;

static void decoded_free(decoded *r) {
    for (int i = 0; i < r->n; i++) free(r->payload[i]);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint32_t rng(void) { /* xorshift64*: fixed seed, same splits every run */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

/* Decode buf in chunks: chunk = 0 whole, 1 a byte at a time, -1 random sizes (1..max_rand).
 * frame_bytes is set after HELLO, as a server does. */
static void decode(const uint8_t *buf, size_t n, int chunk, size_t max_rand, uint32_t frame_bytes, decoded *r) {
    memset(r, 0, sizeof *r);
    uzs_frame_decoder d;
    uzs_frame_decoder_init(&d);
    size_t pos = 0;
    r->rc = 0;
    while (pos < n && r->rc >= 0) {
        size_t k = chunk == 0 ? n : chunk == 1 ? 1 : 1 + rng() % max_rand;
        if (k > n - pos) k = n - pos;
        const uint8_t *p = buf + pos;
        size_t left = k;
        for (;;) {
            uzs_frame f;
            int rc = uzs_frame_decoder_next(&d, &p, &left, &f, r->message, sizeof r->message);
            if (rc == 1) {
                cr_assert_lt(r->n, 64);
                r->type[r->n] = f.type;
                r->len[r->n] = f.len;
                r->index[r->n] = f.index;
                r->payload[r->n] = malloc(f.len + 1);
                memcpy(r->payload[r->n], f.payload, f.len);
                r->n++;
                if (f.type == UZS_FRAME_HELLO) uzs_frame_decoder_set_frame_bytes(&d, frame_bytes);
                continue;
            }
            r->rc = rc;
            if (rc == 0) cr_assert_eq(left, 0, "need-more must consume all input");
            break;
        }
        pos += k;
    }
    r->code = uzs_frame_decoder_error(&d);
    r->offset = d.offset;
    cr_assert_leq(d.cap, UZS_MAX_AUDIO_FRAME_BYTES, "decoder memory over the largest frame: %u", d.cap);
    uzs_frame_decoder_free(&d);
}

static void expect_same(const decoded *a, const decoded *b, const char *what) {
    cr_assert_eq(a->n, b->n, "%s: %d vs %d frames", what, a->n, b->n);
    for (int i = 0; i < a->n; i++) {
        cr_assert_eq(a->type[i], b->type[i], "%s: frame %d type", what, i);
        cr_assert_eq(a->len[i], b->len[i], "%s: frame %d length", what, i);
        cr_assert_eq(a->index[i], b->index[i]);
        cr_assert(memcmp(a->payload[i], b->payload[i], a->len[i]) == 0, "%s: frame %d payload", what, i);
    }
    cr_assert_eq(a->rc, b->rc, "%s: end status", what);
    cr_assert_eq(a->code, b->code, "%s: error code", what);
    cr_assert_str_eq(a->message, b->message, "%s: message", what);
}

/* Decode buf whole and expect an error with this code and these words in the message. */
static void expect_decode_error(const bytes *b, uint32_t frame_bytes, uzs_error_code code, const char *needle,
                                int frames_before) {
    decoded r;
    decode(b->p, b->n, 0, 0, frame_bytes, &r);
    cr_assert_eq(r.rc, -1, "accepted a stream that should fail with \"%s\"", needle);
    cr_expect_eq(r.code, code, "code %s, wanted %s (%s)", uzs_error_code_name(r.code), uzs_error_code_name(code),
                 r.message);
    cr_expect(strstr(r.message, needle) != NULL, "message \"%s\" should contain \"%s\"", r.message, needle);
    cr_expect_eq(r.n, frames_before, "frames before the error: %d", r.n);
    decoded one;
    decode(b->p, b->n, 1, 0, frame_bytes, &one); /* a byte at a time: the same error */
    expect_same(&r, &one, "error one byte at a time");
    decoded_free(&one);
    decoded_free(&r);
}

/* ---------------------------------------------------------------- frames: round trips */

static void session(bytes *b, int with_end) {
    put_frame(b, UZS_FRAME_HELLO, HELLO_MIN, strlen(HELLO_MIN));
    uint8_t audio[3200];
    for (size_t i = 0; i < sizeof audio; i++) audio[i] = (uint8_t)(i * 7 + 3);
    put_frame(b, UZS_FRAME_AUDIO, audio, sizeof audio);
    put_frame(b, UZS_FRAME_AUDIO, audio, 0); /* empty AUDIO is allowed */
    put_frame(b, UZS_FRAME_PING, NULL, 0);
    put_frame(b, UZS_FRAME_AUDIO, audio + 2, 2);
    put_frame(b, UZS_FRAME_AUDIO, audio, 1000);
    if (with_end) put_frame(b, UZS_FRAME_END, NULL, 0);
}

Test(frames, round_trip_whole_bytewise_random) {
    bytes b = {0};
    session(&b, 1);
    decoded whole;
    decode(b.p, b.n, 0, 0, 2, &whole);
    cr_assert_eq(whole.rc, 0, "%s", whole.message);
    cr_assert_eq(whole.n, 7);
    const int types[] = {1, 2, 2, 4, 2, 2, 3};
    const uint32_t lens[] = {(uint32_t)strlen(HELLO_MIN), 3200, 0, 0, 2, 1000, 0};
    for (int i = 0; i < 7; i++) {
        cr_expect_eq(whole.type[i], types[i], "frame %d", i);
        cr_expect_eq(whole.len[i], lens[i], "frame %d", i);
        cr_expect_eq(whole.index[i], (uint64_t)i);
    }
    cr_expect(memcmp(whole.payload[0], HELLO_MIN, strlen(HELLO_MIN)) == 0);
    cr_expect_eq(whole.payload[1][5], (uint8_t)(5 * 7 + 3));
    cr_expect_eq(whole.offset, b.n);

    decoded one;
    decode(b.p, b.n, 1, 0, 2, &one);
    expect_same(&whole, &one, "one byte at a time");
    decoded_free(&one);
    for (int trial = 0; trial < 300; trial++) {
        decoded r;
        decode(b.p, b.n, -1, trial < 150 ? 8 : 700, 2, &r);
        expect_same(&whole, &r, "random splits");
        decoded_free(&r);
    }
    decoded_free(&whole);
    free(b.p);
}

Test(frames, payload_points_into_input_or_buffer) {
    bytes b = {0};
    session(&b, 1);
    uzs_frame_decoder d;
    uzs_frame_decoder_init(&d);
    const uint8_t *p = b.p;
    size_t left = b.n;
    uzs_frame f;
    char err[256];
    cr_assert_eq(uzs_frame_decoder_next(&d, &p, &left, &f, err, sizeof err), 1);
    cr_expect_eq(f.payload, b.p + 5, "a whole frame in one chunk is not copied");
    cr_expect_null(d.buf, "nothing buffered");
    cr_expect_eq(p, b.p + 5 + f.len, "input advanced past the frame");
    uzs_frame_decoder_free(&d);

    /* the same frame in two chunks comes from the decoder's buffer, intact */
    uzs_frame_decoder_init(&d);
    p = b.p;
    left = 20;
    cr_assert_eq(uzs_frame_decoder_next(&d, &p, &left, &f, err, sizeof err), 0);
    left = b.n - 20;
    cr_assert_eq(uzs_frame_decoder_next(&d, &p, &left, &f, err, sizeof err), 1);
    cr_expect_eq(f.payload, d.buf);
    cr_expect(memcmp(f.payload, HELLO_MIN, strlen(HELLO_MIN)) == 0);
    uzs_frame_decoder_free(&d);
    free(b.p);
}

Test(frames, largest_frames_split_keep_memory_bounded) {
    bytes b = {0};
    uint8_t *big = malloc(UZS_MAX_AUDIO_FRAME_BYTES);
    for (size_t i = 0; i < UZS_MAX_AUDIO_FRAME_BYTES; i++) big[i] = (uint8_t)(i ^ (i >> 8));
    char hello[UZS_MAX_HELLO_BYTES];
    memset(hello, ' ', sizeof hello); /* a HELLO of exactly the limit: JSON padded with spaces */
    memcpy(hello, HELLO_MIN, strlen(HELLO_MIN));
    put_frame(&b, UZS_FRAME_HELLO, hello, sizeof hello);
    put_frame(&b, UZS_FRAME_AUDIO, big, UZS_MAX_AUDIO_FRAME_BYTES);
    put_frame(&b, UZS_FRAME_AUDIO, big, UZS_MAX_AUDIO_FRAME_BYTES);
    put_frame(&b, UZS_FRAME_END, NULL, 0);
    decoded whole, r;
    decode(b.p, b.n, 0, 0, 4, &whole);
    cr_assert_eq(whole.rc, 0, "%s", whole.message);
    cr_assert_eq(whole.n, 4);
    cr_expect_eq(whole.len[1], UZS_MAX_AUDIO_FRAME_BYTES);
    decode(b.p, b.n, -1, 100000, 4, &r); /* decode() asserts the buffer never outgrows the limit */
    expect_same(&whole, &r, "1 MiB frames in random chunks");
    uzs_hello h;
    char err[256];
    cr_expect_eq(uzs_hello_parse(r.payload[0], r.len[0], &h, err, sizeof err), 0, "%s", err);
    decoded_free(&whole);
    decoded_free(&r);
    free(big);
    free(b.p);
}

Test(frames, header_bytes_are_little_endian) {
    uint8_t h[5];
    char err[128];
    cr_assert_eq(uzs_frame_header(h, UZS_FRAME_AUDIO, 0x0A0B0C, err, sizeof err), 0, "%s", err);
    const uint8_t want[5] = {0x02, 0x0C, 0x0B, 0x0A, 0x00};
    cr_expect(memcmp(h, want, 5) == 0, "%02x %02x %02x %02x %02x", h[0], h[1], h[2], h[3], h[4]);
    cr_assert_eq(uzs_frame_header(h, UZS_FRAME_HELLO, 2, err, sizeof err), 0);
    cr_expect(h[0] == 1 && h[1] == 2 && h[2] == 0 && h[3] == 0 && h[4] == 0);
}

Test(frames, encoder_refuses_bad_frames) {
    uint8_t h[5], out[64];
    char err[128] = "";
    cr_expect_eq(uzs_frame_header(h, UZS_FRAME_END, 1, err, sizeof err), -1);
    cr_expect(strstr(err, "END carries no payload"), "%s", err);
    cr_expect_eq(uzs_frame_header(h, UZS_FRAME_PING, 3, err, sizeof err), -1);
    cr_expect_eq(uzs_frame_header(h, (uzs_frame_type)9, 0, err, sizeof err), -1);
    cr_expect(strstr(err, "unknown frame type 0x09"), "%s", err);
    cr_expect_eq(uzs_frame_header(h, UZS_FRAME_AUDIO, UZS_MAX_AUDIO_FRAME_BYTES + 1, err, sizeof err), -1);
    cr_expect(strstr(err, "over the limit of 1048576"), "%s", err);
    cr_expect_eq(uzs_frame_header(h, UZS_FRAME_AUDIO, UZS_MAX_AUDIO_FRAME_BYTES, err, sizeof err), 0);
    cr_expect_eq(uzs_frame_header(h, UZS_FRAME_HELLO, UZS_MAX_HELLO_BYTES + 1, err, sizeof err), -1);
    cr_expect_eq(uzs_frame_header(h, UZS_FRAME_HELLO, UZS_MAX_HELLO_BYTES, err, sizeof err), 0);
    cr_expect_eq(uzs_frame_encode(UZS_FRAME_AUDIO, "abcd", 4, out, 8, err, sizeof err), -1);
    cr_expect(strstr(err, "needs 9 bytes, the buffer has 8"), "%s", err);
    cr_expect_eq(uzs_frame_encode(UZS_FRAME_AUDIO, "abcd", 4, out, 9, err, sizeof err), 9);
    cr_expect_eq(uzs_frame_encode(UZS_FRAME_AUDIO, NULL, 4, out, 9, err, sizeof err), -1);
    cr_expect_eq(uzs_frame_encode(UZS_FRAME_END, NULL, 0, out, 5, err, sizeof err), 5);
}

Test(frames, names) {
    cr_expect_str_eq(uzs_frame_type_name(UZS_FRAME_HELLO), "HELLO");
    cr_expect_str_eq(uzs_frame_type_name(UZS_FRAME_PING), "PING");
    cr_expect_null(uzs_frame_type_name(0));
    cr_expect_null(uzs_frame_type_name(5));
    for (int c = 1; c < UZS_ERR_COUNT; c++) {
        const char *name = uzs_error_code_name((uzs_error_code)c);
        cr_assert_not_null(name);
        cr_expect_eq(uzs_error_code_from_name(name), (uzs_error_code)c, "%s", name);
    }
    cr_expect_str_eq(uzs_error_code_name(UZS_ERR_TOO_LARGE), "too_large");
    cr_expect_null(uzs_error_code_name(UZS_ERR_COUNT));
    cr_expect_eq(uzs_error_code_from_name("nonsense"), UZS_ERR_NONE);
    cr_expect_eq(uzs_error_code_from_name("none"), UZS_ERR_NONE);
}

/* ---------------------------------------------------------------- frames: errors */

Test(frame_errors, unknown_types) {
    const uint8_t types[] = {0x00, 0x05, 0x7f, 0xff};
    for (size_t i = 0; i < sizeof types; i++) {
        bytes b = {0};
        put_header(&b, types[i], 0);
        char needle[64];
        snprintf(needle, sizeof needle, "frame 0 at byte 0: unknown frame type 0x%02x", types[i]);
        expect_decode_error(&b, 0, UZS_ERR_BAD_FRAME, needle, 0);
        free(b.p);
    }
    /* after HELLO too, with the position of the bad frame */
    bytes b = {0};
    put_frame(&b, UZS_FRAME_HELLO, HELLO_MIN, strlen(HELLO_MIN));
    put_header(&b, 0x09, 0);
    char needle[64];
    snprintf(needle, sizeof needle, "frame 1 at byte %zu: unknown frame type 0x09", strlen(HELLO_MIN) + 5);
    expect_decode_error(&b, 0, UZS_ERR_BAD_FRAME, needle, 1);
    free(b.p);
}

Test(frame_errors, http_and_tls_are_named) {
    bytes b = {0};
    put_raw(&b, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27);
    expect_decode_error(&b, 0, UZS_ERR_BAD_FRAME, "HTTP", 0);
    free(b.p);
    bytes t = {0};
    put_raw(&t, "\x16\x03\x01\x02\x00\x01", 6);
    expect_decode_error(&t, 0, UZS_ERR_BAD_FRAME, "TLS handshake", 0);
    free(t.p);
    bytes j = {0}; /* a HELLO sent without its frame header */
    put_raw(&j, HELLO_MIN, strlen(HELLO_MIN));
    expect_decode_error(&j, 0, UZS_ERR_BAD_FRAME, "JSON without a frame header", 0);
    free(j.p);
}

Test(frame_errors, order) {
    const uzs_frame_type first[] = {UZS_FRAME_AUDIO, UZS_FRAME_END, UZS_FRAME_PING};
    const char *names[] = {"AUDIO before HELLO", "END before HELLO", "PING before HELLO"};
    for (int i = 0; i < 3; i++) {
        bytes b = {0};
        put_frame(&b, first[i], "ab", first[i] == UZS_FRAME_AUDIO ? 2 : 0);
        expect_decode_error(&b, 0, UZS_ERR_BAD_FRAME, names[i], 0);
        free(b.p);
    }
    bytes b = {0};
    put_frame(&b, UZS_FRAME_HELLO, HELLO_MIN, strlen(HELLO_MIN));
    put_frame(&b, UZS_FRAME_AUDIO, "abcd", 4);
    put_frame(&b, UZS_FRAME_HELLO, HELLO_MIN, strlen(HELLO_MIN));
    expect_decode_error(&b, 2, UZS_ERR_BAD_FRAME, "frame 2 at byte", 2);
    expect_decode_error(&b, 2, UZS_ERR_BAD_FRAME, "a second HELLO", 2);
    free(b.p);

    const uzs_frame_type after[] = {UZS_FRAME_AUDIO, UZS_FRAME_PING, UZS_FRAME_END, UZS_FRAME_HELLO};
    for (int i = 0; i < 4; i++) {
        bytes e = {0};
        put_frame(&e, UZS_FRAME_HELLO, HELLO_MIN, strlen(HELLO_MIN));
        put_frame(&e, UZS_FRAME_END, NULL, 0);
        put_header(&e, (uint8_t)after[i], 0);
        expect_decode_error(&e, 2, UZS_ERR_BAD_FRAME, "data after END", 2);
        free(e.p);
    }
    bytes g = {0}; /* any byte after END, even one that is no frame type */
    put_frame(&g, UZS_FRAME_HELLO, HELLO_MIN, strlen(HELLO_MIN));
    put_frame(&g, UZS_FRAME_END, NULL, 0);
    put_raw(&g, "\n", 1);
    expect_decode_error(&g, 2, UZS_ERR_BAD_FRAME, "data after END (byte 0x0a)", 2);
    free(g.p);
}

Test(frame_errors, empty_frames_with_payload) {
    const uzs_frame_type t[] = {UZS_FRAME_END, UZS_FRAME_PING};
    const char *needle[] = {"END with a 1-byte payload", "PING with a 4-byte payload"};
    for (int i = 0; i < 2; i++) {
        bytes b = {0};
        put_frame(&b, UZS_FRAME_HELLO, HELLO_MIN, strlen(HELLO_MIN));
        put_header(&b, (uint8_t)t[i], (uint32_t)(i ? 4 : 1));
        put_raw(&b, "xxxx", i ? 4 : 1);
        expect_decode_error(&b, 2, UZS_ERR_BAD_FRAME, needle[i], 1);
        free(b.p);
    }
}

/* The length is refused as soon as the header is complete, before any payload arrives. */
static void expect_length_refused(uint8_t type, uint32_t len, int after_hello, uint32_t frame_bytes,
                                  uzs_error_code code, const char *needle) {
    bytes b = {0};
    if (after_hello) put_frame(&b, UZS_FRAME_HELLO, HELLO_MIN, strlen(HELLO_MIN));
    put_header(&b, type, len);
    expect_decode_error(&b, frame_bytes, code, needle, after_hello);
    free(b.p);
}

Test(frame_errors, limits_at_and_past_the_boundary) {
    expect_length_refused(UZS_FRAME_HELLO, UZS_MAX_HELLO_BYTES + 1, 0, 2, UZS_ERR_TOO_LARGE,
                          "HELLO payload of 65537 bytes is over the limit of 65536 bytes");
    expect_length_refused(UZS_FRAME_AUDIO, UZS_MAX_AUDIO_FRAME_BYTES + 2, 1, 2, UZS_ERR_TOO_LARGE,
                          "AUDIO payload of 1048578 bytes is over the limit of 1048576 bytes");
    expect_length_refused(UZS_FRAME_AUDIO, 0xffffffffu, 1, 0, UZS_ERR_TOO_LARGE, "4294967295 bytes");
    expect_length_refused(UZS_FRAME_HELLO, 0x80000000u, 0, 0, UZS_ERR_TOO_LARGE, "over the limit");

    /* exactly at the limits: only the header, so the decoder is waiting for the payload */
    const uint32_t at[] = {UZS_MAX_HELLO_BYTES, UZS_MAX_AUDIO_FRAME_BYTES};
    for (int i = 0; i < 2; i++) {
        bytes b = {0};
        if (i) put_frame(&b, UZS_FRAME_HELLO, HELLO_MIN, strlen(HELLO_MIN));
        put_header(&b, (uint8_t)(i ? UZS_FRAME_AUDIO : UZS_FRAME_HELLO), at[i]);
        decoded r;
        decode(b.p, b.n, 0, 0, 2, &r);
        cr_expect_eq(r.rc, 0, "a frame of exactly the limit is accepted: %s", r.message);
        decoded_free(&r);
        free(b.p);
    }
}

Test(frame_errors, audio_length_must_be_whole_sample_frames) {
    /* stereo s16: 4-byte frames */
    expect_length_refused(UZS_FRAME_AUDIO, 6, 1, 4, UZS_ERR_BAD_FRAME,
                          "AUDIO payload of 6 bytes is not a whole number of 4-byte sample frames");
    bytes b = {0};
    put_frame(&b, UZS_FRAME_HELLO, HELLO_MIN, strlen(HELLO_MIN));
    put_frame(&b, UZS_FRAME_AUDIO, "12345678", 8);
    put_frame(&b, UZS_FRAME_AUDIO, "1234567", 7);
    decoded r;
    decode(b.p, b.n, 0, 0, 0, &r); /* frame size not set: no check */
    cr_expect_eq(r.rc, 0, "%s", r.message);
    cr_expect_eq(r.n, 3);
    decoded_free(&r);
    expect_decode_error(&b, 4, UZS_ERR_BAD_FRAME, "frame 2 at byte", 2);
    free(b.p);
}

Test(frame_errors, failure_is_sticky_and_frees_memory) {
    bytes b = {0};
    put_frame(&b, UZS_FRAME_HELLO, HELLO_MIN, strlen(HELLO_MIN));
    put_header(&b, 0x42, 0);
    uzs_frame_decoder d;
    uzs_frame_decoder_init(&d);
    const uint8_t *p = b.p;
    size_t left = 30; /* HELLO split: the buffer gets allocated */
    uzs_frame f;
    char err[256] = "", again[256] = "";
    cr_assert_eq(uzs_frame_decoder_next(&d, &p, &left, &f, err, sizeof err), 0);
    cr_assert_not_null(d.buf);
    left = b.n - 30;
    cr_assert_eq(uzs_frame_decoder_next(&d, &p, &left, &f, err, sizeof err), 1);
    cr_assert_eq(uzs_frame_decoder_next(&d, &p, &left, &f, err, sizeof err), -1);
    cr_expect_null(d.buf, "a failed decoder holds no buffer");
    size_t before = left;
    cr_assert_eq(uzs_frame_decoder_next(&d, &p, &left, &f, again, sizeof again), -1);
    cr_expect_str_eq(err, again);
    cr_expect_eq(left, before, "nothing consumed once failed");
    cr_expect_eq(uzs_frame_decoder_eof(&d, again, sizeof again), -1);
    cr_expect_str_eq(err, again);
    cr_expect_eq(uzs_frame_decoder_next(&d, &p, &left, &f, NULL, 0), -1, "a NULL err is allowed");
    uzs_frame_decoder_free(&d);
    uzs_frame_decoder_free(&d); /* twice is harmless */
    free(b.p);
}

/* eof after feeding the first `cut` bytes of b. */
static void expect_eof(const bytes *b, size_t cut, int rc, const char *needle) {
    uzs_frame_decoder d;
    uzs_frame_decoder_init(&d);
    const uint8_t *p = b->p;
    size_t left = cut;
    uzs_frame f;
    char err[256] = "";
    while (uzs_frame_decoder_next(&d, &p, &left, &f, err, sizeof err) == 1) {
    }
    char msg[256] = "";
    cr_expect_eq(uzs_frame_decoder_eof(&d, msg, sizeof msg), rc, "cut %zu: %s", cut, msg);
    if (needle) cr_expect(strstr(msg, needle) != NULL, "cut %zu: \"%s\" should contain \"%s\"", cut, msg, needle);
    uzs_frame_decoder_free(&d);
}

Test(frame_errors, end_of_stream) {
    bytes b = {0};
    put_frame(&b, UZS_FRAME_HELLO, HELLO_MIN, strlen(HELLO_MIN));
    const size_t h = b.n;
    uint8_t audio[100] = {0};
    put_frame(&b, UZS_FRAME_AUDIO, audio, sizeof audio);
    put_frame(&b, UZS_FRAME_END, NULL, 0);
    expect_eof(&b, b.n, 0, NULL);
    expect_eof(&b, 0, -1, "closed before HELLO");
    expect_eof(&b, 3, -1, "inside the header of frame 0 (3 of 5 bytes)");
    expect_eof(&b, 10, -1, "inside HELLO frame 0 (5 of");
    expect_eof(&b, h, -1, "without END after 1 frames");
    expect_eof(&b, h + 2, -1, "inside the header of frame 1 (2 of 5 bytes)");
    expect_eof(&b, h + 5 + 10, -1, "inside AUDIO frame 1 (10 of 100 payload bytes)");
    expect_eof(&b, b.n - 5, -1, "without END after 2 frames");
    expect_eof(&b, b.n - 1, -1, "inside the header of frame 2 (4 of 5 bytes)");
    free(b.p);
}

/* The fuzz seeds are written by tests/fuzz/gen_corpus_protocol.py, a second implementation of the
 * framing (Python struct): the valid sessions decode cleanly, the broken ones fail with the right
 * code. Each seed is one control byte, then the stream. */
static void expect_seed(const char *name, int frames, int rc, uzs_error_code code, int eof_rc) {
    char rel[128];
    snprintf(rel, sizeof rel, "tests/fuzz/corpus_protocol/%s", name);
    size_t n = 0;
    uint8_t *buf = tu_read_file(tu_src(rel), &n);
    cr_assert_not_null(buf, "missing seed %s: run python3 tests/fuzz/gen_corpus_protocol.py", rel);
    cr_assert_geq(n, 1u);
    decoded r;
    decode(buf + 1, n - 1, 0, 0, 0, &r);
    cr_expect_eq(r.n, frames, "%s: %d frames", name, r.n);
    cr_expect_eq(r.rc, rc, "%s: %s", name, r.message);
    cr_expect_eq(r.code, code, "%s: code %s", name, uzs_error_code_name(r.code));
    if (r.n > 0 && r.type[0] == UZS_FRAME_HELLO && rc == 0) {
        uzs_hello h;
        char err[512];
        cr_expect_eq(uzs_hello_parse(r.payload[0], r.len[0], &h, err, sizeof err), 0, "%s: %s", name, err);
    }
    uzs_frame_decoder d;
    uzs_frame_decoder_init(&d);
    const uint8_t *p = buf + 1;
    size_t left = n - 1;
    uzs_frame f;
    while (uzs_frame_decoder_next(&d, &p, &left, &f, NULL, 0) == 1) {
    }
    cr_expect_eq(uzs_frame_decoder_eof(&d, NULL, 0), eof_rc, "%s: end of stream", name);
    uzs_frame_decoder_free(&d);
    decoded_free(&r);
    free(buf);
}

Test(frames, seeds_from_the_python_writer) {
    expect_seed("s16_mono", 5, 0, UZS_ERR_NONE, 0);
    expect_seed("f32_stereo_all_fields", 4, 0, UZS_ERR_NONE, 0);
    expect_seed("s16_stereo_8k", 3, 0, UZS_ERR_NONE, 0);
    expect_seed("no_end", 2, 0, UZS_ERR_NONE, -1);
    expect_seed("cut_in_payload", 1, 0, UZS_ERR_NONE, -1);
    expect_seed("audio_first", 0, -1, UZS_ERR_BAD_FRAME, -1);
    expect_seed("two_hellos", 1, -1, UZS_ERR_BAD_FRAME, -1);
    expect_seed("after_end", 2, -1, UZS_ERR_BAD_FRAME, -1);
    expect_seed("hello_too_large", 0, -1, UZS_ERR_TOO_LARGE, -1);
    expect_seed("audio_huge_length", 1, -1, UZS_ERR_TOO_LARGE, -1);
    expect_seed("http_request", 0, -1, UZS_ERR_BAD_FRAME, -1);
}

/* ---------------------------------------------------------------- HELLO */

static int parse(const char *json, uzs_hello *h, char *err, size_t err_size) {
    return uzs_hello_parse(json, strlen(json), h, err, err_size);
}

Test(hello, minimal_gets_defaults) {
    uzs_hello h;
    char err[512] = "";
    cr_assert_eq(parse(HELLO_MIN, &h, err, sizeof err), 0, "%s", err);
    cr_expect_eq(h.sample_rate, 16000);
    cr_expect_eq(h.format, UZS_PCM_S16LE);
    cr_expect_eq(h.channels, 1);
    cr_expect_str_eq(h.language, "auto");
    cr_expect_str_eq(h.languages, "");
    cr_expect_str_eq(h.adapter, "");
    cr_expect_eq(h.interim, 1);
    cr_expect_eq(h.word_timestamps, 1);
    cr_expect_eq(h.task, UZS_TASK_TRANSCRIBE);
    cr_expect_eq(h.uz_script, UZS_SCRIPT_LATIN);
    cr_expect_str_eq(h.api_key, "");
    cr_expect_str_eq(h.id, "");
    cr_expect_eq(h.frame_bytes, 2u);
}

Test(hello, every_field) {
    const char *json = "{\"protocol\": \"uzw-stream/1\", \"sample_rate\": 44100, \"format\": \"f32le\", \"channels\": 2,"
                       " \"language\": \"ru\", \"languages\": \"uz,ru,en\", \"adapter\": \"uz-call_center.v2\","
                       " \"interim\": false, \"word_timestamps\": false, \"task\": \"translate\","
                       " \"uz_script\": \"cyrillic\", \"api_key\": \"k-123.abc_XYZ\", \"id\": \"qo'ng'iroq №7\"}";
    uzs_hello h;
    char err[512] = "";
    cr_assert_eq(parse(json, &h, err, sizeof err), 0, "%s", err);
    cr_expect_eq(h.sample_rate, 44100);
    cr_expect_eq(h.format, UZS_PCM_F32LE);
    cr_expect_eq(h.channels, 2);
    cr_expect_str_eq(h.language, "ru");
    cr_expect_str_eq(h.languages, "uz,ru,en");
    cr_expect_str_eq(h.adapter, "uz-call_center.v2");
    cr_expect_eq(h.interim, 0);
    cr_expect_eq(h.word_timestamps, 0);
    cr_expect_eq(h.task, UZS_TASK_TRANSLATE);
    cr_expect_eq(h.uz_script, UZS_SCRIPT_CYRILLIC);
    cr_expect_str_eq(h.api_key, "k-123.abc_XYZ");
    cr_expect_str_eq(h.id, "qo'ng'iroq №7");
    cr_expect_eq(h.frame_bytes, 8u);
    uzs_hello_forget_key(&h);
    for (size_t i = 0; i < sizeof h.api_key; i++) cr_assert_eq(h.api_key[i], 0);

    /* nulls where allowed, as_decoded, s16 stereo */
    const char *nulls = "{\"protocol\":\"uzw-stream/1\",\"sample_rate\":8000,\"format\":\"s16le\",\"channels\":2,"
                        "\"languages\":null,\"adapter\":null,\"api_key\":null,\"id\":null,\"uz_script\":\"as_decoded\"}";
    cr_assert_eq(parse(nulls, &h, err, sizeof err), 0, "%s", err);
    cr_expect_eq(h.frame_bytes, 4u);
    cr_expect_eq(h.uz_script, UZS_SCRIPT_AS_DECODED);
    cr_expect_str_eq(h.languages, "");
}

/* HELLO_MIN with `extra` spliced in before the closing brace ("" for none). */
static void with_field(char *out, size_t cap, const char *extra) {
    snprintf(out, cap, "{\"protocol\":\"uzw-stream/1\",\"sample_rate\":16000,\"format\":\"s16le\"%s%s}",
             extra[0] ? "," : "", extra);
}

static void expect_bad(const char *json, const char *needle) {
    uzs_hello h;
    memset(&h, 0x5a, sizeof h);
    char err[512] = "";
    cr_assert_eq(uzs_hello_parse(json, strlen(json), &h, err, sizeof err), -1, "accepted: %s", json);
    cr_expect(strncmp(err, "HELLO: ", 7) == 0, "message \"%s\" starts with HELLO:", err);
    cr_expect(strstr(err, needle) != NULL, "for %s: message \"%s\" should contain \"%s\"", json, err, needle);
    cr_expect_eq(h.sample_rate, 16000, "a failed parse leaves the defaults");
    cr_expect_str_eq(h.api_key, "");
}

static void expect_bad_field(const char *extra, const char *needle) {
    char json[8192];
    with_field(json, sizeof json, extra);
    expect_bad(json, needle);
}

static void expect_good_field(const char *extra, uzs_hello *h) {
    char json[8192], err[512] = "";
    with_field(json, sizeof json, extra);
    cr_assert_eq(uzs_hello_parse(json, strlen(json), h, err, sizeof err), 0, "refused %s: %s", json, err);
}

Test(hello, not_an_object) {
    expect_bad("", "payload is empty");
    expect_bad("[1,2]", "must be a JSON object, got an array");
    expect_bad("\"x\"", "not valid JSON");
    expect_bad("{\"protocol\":\"uzw-stream/1\"", "not valid JSON");
    expect_bad(HELLO_MIN "{}", "not valid JSON");
    expect_bad("{\"protocol\":\"uzw-stream/1\",\"sample_rate\":16000,\"format\":\"s16le\",\"id\":\"a\\u0000b\"}",
               "not valid JSON");
    expect_bad("{\"protocol\":\"uzw-stream/1\",\"sample_rate\":16000,\"format\":\"s16le\",\"id\":\"\xff\xfe\"}",
               "not valid JSON");
}

Test(hello, protocol_and_keys) {
    expect_bad("{\"sample_rate\":16000,\"format\":\"s16le\"}", "\"protocol\" is missing");
    expect_bad("{\"protocol\":\"uzw-stream/2\",\"sample_rate\":16000}", "protocol \"uzw-stream/2\" is not supported");
    expect_bad("{\"protocol\":1}", "\"protocol\" must be the string \"uzw-stream/1\", got an integer");
    expect_bad_field("\"sample_rat\":16000", "unknown key \"sample_rat\"");
    expect_bad_field("\"Interim\":true", "unknown key \"Interim\"");
    expect_bad("{\"protocol\":\"uzw-stream/1\",\"sample_rate\":16000,\"format\":\"s16le\",\"sample_rate\":8000}",
               "duplicate");
}

Test(hello, sample_rate_and_format) {
    expect_bad("{\"protocol\":\"uzw-stream/1\",\"format\":\"s16le\"}", "\"sample_rate\" is missing");
    expect_bad("{\"protocol\":\"uzw-stream/1\",\"sample_rate\":16000}", "\"format\" is missing");
    const char *rates[][2] = {{"7999", "must be from 8000 to 48000 Hz, got 7999"},
                              {"48001", "got 48001"},
                              {"-16000", "got -16000"},
                              {"16000.0", "must be an integer (Hz), got a number with a fraction"},
                              {"\"16000\"", "got a string"},
                              {"null", "got null"},
                              {"99999999999999999999", "not valid JSON"}};
    for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++) {
        char json[256];
        snprintf(json, sizeof json, "{\"protocol\":\"uzw-stream/1\",\"sample_rate\":%s,\"format\":\"s16le\"}", rates[i][0]);
        expect_bad(json, rates[i][1]);
    }
    uzs_hello h;
    char err[256];
    cr_expect_eq(parse("{\"protocol\":\"uzw-stream/1\",\"sample_rate\":8000,\"format\":\"s16le\"}", &h, err, sizeof err), 0);
    cr_expect_eq(parse("{\"protocol\":\"uzw-stream/1\",\"sample_rate\":48000,\"format\":\"f32le\"}", &h, err, sizeof err), 0);
    cr_expect_eq(h.sample_rate, 48000);
    expect_bad("{\"protocol\":\"uzw-stream/1\",\"sample_rate\":16000,\"format\":\"s24le\"}",
               "\"format\" must be \"s16le\" or \"f32le\", got the string \"s24le\"");
    expect_bad("{\"protocol\":\"uzw-stream/1\",\"sample_rate\":16000,\"format\":\"S16LE\"}", "\"S16LE\"");
    expect_bad("{\"protocol\":\"uzw-stream/1\",\"sample_rate\":16000,\"format\":2}", "got an integer");
}

Test(hello, channels_language_languages) {
    expect_bad_field("\"channels\":0", "\"channels\" must be 1 or 2, got 0");
    expect_bad_field("\"channels\":3", "got 3");
    expect_bad_field("\"channels\":\"1\"", "got a string");
    expect_bad_field("\"channels\":1.0", "got a number with a fraction");
    expect_bad_field("\"language\":\"UZ\"", "\"language\" must be \"auto\" or a language code");
    expect_bad_field("\"language\":\"u\"", "got the string \"u\"");
    expect_bad_field("\"language\":\"uzbe\"", "\"uzbe\"");
    expect_bad_field("\"language\":\"\"", "the string \"\"");
    expect_bad_field("\"language\":null", "got null");
    expect_bad_field("\"language\":\"mixed\"", "\"mixed\"");
    expect_bad_field("\"languages\":\"\"", "\"languages\" is empty");
    expect_bad_field("\"languages\":\"uz,\"", "has \"\", which is not a language code");
    expect_bad_field("\"languages\":\"uz,,ru\"", "which is not a language code");
    expect_bad_field("\"languages\":\"uz, ru\"", "has \" ru\"");
    expect_bad_field("\"languages\":\"uz,ru,uz\"", "names \"uz\" twice");
    expect_bad_field("\"languages\":\"auto\"", "\"auto\", which is not");
    expect_bad_field("\"languages\":[\"uz\"]", "\"languages\" must be a string such as \"uz,ru\" or null, got an array");
    expect_bad_field("\"language\":\"ru\",\"languages\":\"uz,en\"", "\"language\" \"ru\" is not one of \"languages\" \"uz,en\"");
    expect_bad_field("\"language\":\"u\",\"languages\":\"uz\"", "\"language\" must be");
    /* 16 codes are allowed, 17 are not (the text limit is 63 bytes: 16 * 3 + 15 = 63) */
    expect_bad_field("\"languages\":\"aa,ab,ac,ad,ae,af,ag,ah,ai,aj,ak,al,am,an,ao,ap,aq\"", "more than 16 languages");
    expect_bad_field("\"languages\":\"aaa,aab,aac,aad,aae,aaf,aag,aah,aai,aaj,aak,aal,aam,aan,aao,aap,x\"", "at most 63");
    uzs_hello h;
    expect_good_field("\"languages\":\"aaa,aab,aac,aad,aae,aaf,aag,aah,aai,aaj,aak,aal,aam,aan,aao,aap\"", &h);
    cr_expect_eq(strlen(h.languages), 63u);
    expect_good_field("\"language\":\"ru\",\"languages\":\"uz,ru\"", &h);
    expect_good_field("\"language\":\"uz\",\"languages\":\"uz\"", &h);
    expect_good_field("\"language\":\"haw\"", &h);
    cr_expect_str_eq(h.language, "haw");
    expect_bad_field("\"language\":\"uz\",\"languages\":\"uzb,ru\"", "is not one of"); /* prefix is not a match */
}

Test(hello, adapter_booleans_task_script) {
    expect_bad_field("\"adapter\":\"../etc/passwd\"", "\"adapter\" must be null or a name");
    expect_bad_field("\"adapter\":\".hidden\"", "starting with a letter or digit");
    expect_bad_field("\"adapter\":\"a/b\"", "\"a/b\"");
    expect_bad_field("\"adapter\":\"\"", "the string \"\"");
    expect_bad_field("\"adapter\":5", "got an integer");
    char extra[256];
    char name[80];
    memset(name, 'a', 65);
    name[65] = 0;
    snprintf(extra, sizeof extra, "\"adapter\":\"%s\"", name);
    expect_bad_field(extra, "\"adapter\" must be");
    name[64] = 0; /* 64 characters: the longest name */
    snprintf(extra, sizeof extra, "\"adapter\":\"%s\"", name);
    uzs_hello h;
    expect_good_field(extra, &h);
    cr_expect_eq(strlen(h.adapter), 64u);

    expect_bad_field("\"interim\":\"yes\"", "\"interim\" must be true or false, got a string");
    expect_bad_field("\"interim\":1", "got an integer");
    expect_bad_field("\"word_timestamps\":null", "\"word_timestamps\" must be true or false, got null");
    expect_bad_field("\"task\":\"translat\"", "\"task\" must be \"transcribe\" or \"translate\", got the string \"translat\"");
    expect_bad_field("\"task\":0", "got an integer");
    expect_bad_field("\"uz_script\":\"latn\"", "\"uz_script\" must be \"latin\", \"cyrillic\" or \"as_decoded\"");
    expect_bad_field("\"uz_script\":{}", "got an object");
}

Test(hello, api_key_and_id) {
    expect_bad_field("\"api_key\":\"\"", "\"api_key\" must be null or 1 to 4096 printable ASCII");
    expect_bad_field("\"api_key\":\"has space\"", "a string of 9 bytes");
    expect_bad_field("\"api_key\":\"tab\\tkey\"", "printable ASCII");
    expect_bad_field("\"api_key\":\"ключ\"", "printable ASCII");
    expect_bad_field("\"api_key\":12", "\"api_key\" must be null or a string, got an integer");
    char *extra = malloc(5000);
    char *key = malloc(4200);
    memset(key, 'k', 4097);
    key[4097] = 0;
    snprintf(extra, 5000, "\"api_key\":\"%s\"", key);
    expect_bad_field(extra, "a string of 4097 bytes");
    key[4096] = 0;
    snprintf(extra, 5000, "\"api_key\":\"%s\"", key);
    uzs_hello h;
    expect_good_field(extra, &h);
    cr_expect_eq(strlen(h.api_key), 4096u);
    /* the key is never echoed in a message */
    char json[512], err[512] = "";
    snprintf(json, sizeof json, "{\"protocol\":\"uzw-stream/1\",\"sample_rate\":16000,\"format\":\"s16le\",\"api_key\":\"s3cr3t key\"}");
    cr_assert_eq(uzs_hello_parse(json, strlen(json), &h, err, sizeof err), -1);
    cr_expect_null(strstr(err, "s3cr3t"), "%s", err);

    expect_bad_field("\"id\":\"\"", "\"id\" must be null or 1 to 128 bytes");
    expect_bad_field("\"id\":\"a\\nb\"", "without control characters");
    expect_bad_field("\"id\":\"a\\u007fb\"", "without control characters");
    expect_bad_field("\"id\":7", "\"id\" must be null or a string, got an integer");
    memset(key, 'i', 129);
    key[129] = 0;
    snprintf(extra, 5000, "\"id\":\"%s\"", key);
    expect_bad_field(extra, "a string of 129 bytes");
    key[128] = 0;
    snprintf(extra, 5000, "\"id\":\"%s\"", key);
    expect_good_field(extra, &h);
    cr_expect_eq(strlen(h.id), 128u);
    free(extra);
    free(key);
}

Test(hello, size_limit) {
    char *json = malloc(UZS_MAX_HELLO_BYTES + 2);
    memset(json, ' ', UZS_MAX_HELLO_BYTES + 1);
    memcpy(json, HELLO_MIN, strlen(HELLO_MIN));
    uzs_hello h;
    char err[256] = "";
    cr_expect_eq(uzs_hello_parse(json, UZS_MAX_HELLO_BYTES, &h, err, sizeof err), 0, "%s", err);
    cr_expect_eq(uzs_hello_parse(json, UZS_MAX_HELLO_BYTES + 1, &h, err, sizeof err), -1);
    cr_expect(strstr(err, "65537 bytes is over the limit of 65536"), "%s", err);
    free(json);
}

Test(hello, encode_round_trip) {
    uzs_hello h, back;
    uzs_hello_defaults(&h);
    h.sample_rate = 22050;
    h.format = UZS_PCM_F32LE;
    h.channels = 2;
    strcpy(h.language, "uz");
    strcpy(h.languages, "uz,ru");
    strcpy(h.adapter, "call-center");
    h.interim = 0;
    h.word_timestamps = 1;
    h.task = UZS_TASK_TRANSLATE;
    h.uz_script = UZS_SCRIPT_AS_DECODED;
    strcpy(h.api_key, "eyJhbGciOiJIUzI1NiJ9.e30.sig");
    strcpy(h.id, "stream \"7\" ☎");
    size_t len = 0;
    char err[512] = "";
    char *json = uzs_hello_encode(&h, &len, err, sizeof err);
    cr_assert_not_null(json, "%s", err);
    cr_expect_eq(len, strlen(json));
    cr_assert_eq(uzs_hello_parse(json, len, &back, err, sizeof err), 0, "%s: %s", json, err);
    cr_expect_eq(back.sample_rate, 22050);
    cr_expect_eq(back.format, UZS_PCM_F32LE);
    cr_expect_eq(back.channels, 2);
    cr_expect_str_eq(back.language, "uz");
    cr_expect_str_eq(back.languages, "uz,ru");
    cr_expect_str_eq(back.adapter, "call-center");
    cr_expect_eq(back.interim, 0);
    cr_expect_eq(back.word_timestamps, 1);
    cr_expect_eq(back.task, UZS_TASK_TRANSLATE);
    cr_expect_eq(back.uz_script, UZS_SCRIPT_AS_DECODED);
    cr_expect_str_eq(back.api_key, h.api_key);
    cr_expect_str_eq(back.id, h.id);
    cr_expect_eq(back.frame_bytes, 8u);
    free(json);

    /* empty strings go out as null; the defaults round-trip */
    uzs_hello_defaults(&h);
    json = uzs_hello_encode(&h, NULL, err, sizeof err);
    cr_assert_not_null(json, "%s", err);
    cr_expect(strstr(json, "\"api_key\":null") && strstr(json, "\"adapter\":null"), "%s", json);
    cr_expect(strstr(json, "\"protocol\":\"uzw-stream/1\""), "%s", json);
    free(json);

    /* what a server would refuse is not encoded */
    h.sample_rate = 96000;
    cr_expect_null(uzs_hello_encode(&h, &len, err, sizeof err));
    cr_expect(strstr(err, "sample_rate"), "%s", err);
    cr_expect_eq(len, 0u);
    uzs_hello_defaults(&h);
    strcpy(h.language, "Uzbek");
    cr_expect_null(uzs_hello_encode(&h, NULL, err, sizeof err));
    uzs_hello_defaults(&h);
    strcpy(h.id, "\xc3(");
    cr_expect_null(uzs_hello_encode(&h, NULL, err, sizeof err));
    cr_expect(strstr(err, "UTF-8"), "%s", err);
    uzs_hello_defaults(&h);
    h.format = (uzs_pcm_format)7;
    cr_expect_null(uzs_hello_encode(&h, NULL, err, sizeof err));
}

/* ---------------------------------------------------------------- PCM */

static void le16(uint8_t *p, int v) {
    p[0] = (uint8_t)(v & 0xff);
    p[1] = (uint8_t)((v >> 8) & 0xff);
}

static void le32f(uint8_t *p, float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(u >> (8 * i));
}

Test(pcm, s16_values) {
    const int in[] = {-32768, 32767, 0, 1, -1, 16384, -16384};
    uint8_t bytes_in[1 + 2 * 7];
    for (int i = 0; i < 7; i++) le16(bytes_in + 1 + 2 * i, in[i]); /* at an odd address: no alignment needed */
    float out[7];
    char err[256];
    cr_assert_eq(uzs_pcm_to_mono(UZS_PCM_S16LE, 1, bytes_in + 1, 14, out, err, sizeof err), 7, "%s", err);
    cr_expect(out[0] == -1.0f, "%.9g", out[0]);
    cr_expect(out[1] == 32767.0f / 32768.0f, "%.9g", out[1]);
    cr_expect(out[2] == 0.0f);
    cr_expect(out[3] == 1.0f / 32768.0f);
    cr_expect(out[4] == -1.0f / 32768.0f);
    cr_expect(out[5] == 0.5f && out[6] == -0.5f);
    /* explicit byte order: 0x00 0x80 is -32768 on any host */
    const uint8_t raw[2] = {0x00, 0x80};
    cr_assert_eq(uzs_pcm_to_mono(UZS_PCM_S16LE, 1, raw, 2, out, err, sizeof err), 1);
    cr_expect(out[0] == -1.0f);
    cr_expect_eq(uzs_pcm_frame_bytes(UZS_PCM_S16LE, 1), 2u);
    cr_expect_eq(uzs_pcm_frame_bytes(UZS_PCM_F32LE, 2), 8u);
    cr_expect_eq(uzs_pcm_frame_bytes(UZS_PCM_S16LE, 3), 0u);
    cr_expect_eq(uzs_pcm_frame_bytes((uzs_pcm_format)5, 1), 0u);
}

Test(pcm, stereo_downmix_matches_engine) {
    enum { N = 257 };
    uint8_t s16[N * 4];
    uint8_t f32[N * 8];
    float inter16[N * 2], inter32[N * 2], want16[N], want32[N], got[N];
    for (int i = 0; i < N; i++)
        for (int c = 0; c < 2; c++) {
            int v = (int)(rng() % 65536) - 32768;
            if (i == 0) v = c ? 32767 : -32768;
            if (i == 1) v = 32767;
            if (i == 2) v = c ? -16384 : 16384;
            le16(s16 + 4 * i + 2 * c, v);
            inter16[2 * i + c] = (float)v / 32768.0f;
            float f = ((float)(rng() % 2000001) - 1000000.0f) / 1000000.0f;
            le32f(f32 + 8 * i + 4 * c, f);
            inter32[2 * i + c] = f;
        }
    uzw_downmix(inter16, N, 2, want16);
    uzw_downmix(inter32, N, 2, want32);
    char err[256];
    cr_assert_eq(uzs_pcm_to_mono(UZS_PCM_S16LE, 2, s16, sizeof s16, got, err, sizeof err), N, "%s", err);
    cr_expect(memcmp(got, want16, sizeof got) == 0, "s16 stereo: bit-identical to the engine's downmix");
    cr_expect(got[0] == -0.5f / 32768.0f, "(-32768 + 32767) / 2 / 32768: %.9g", got[0]);
    cr_expect(got[1] == 32767.0f / 32768.0f);
    cr_expect(got[2] == 0.0f);
    cr_assert_eq(uzs_pcm_to_mono(UZS_PCM_F32LE, 2, f32, sizeof f32, got, err, sizeof err), N, "%s", err);
    cr_expect(memcmp(got, want32, sizeof got) == 0, "f32 stereo: bit-identical to the engine's downmix");
}

Test(pcm, f32_values_and_clamping) {
    const float in[] = {0.25f, -0.75f, 1.0f, -1.0f, 1.5f, -3.0f, 1e30f, -1e-40f};
    uint8_t b[4 * 8];
    for (int i = 0; i < 8; i++) le32f(b + 4 * i, in[i]);
    float out[8];
    char err[256];
    cr_assert_eq(uzs_pcm_to_mono(UZS_PCM_F32LE, 1, b, sizeof b, out, err, sizeof err), 8, "%s", err);
    const float want[] = {0.25f, -0.75f, 1.0f, -1.0f, 1.0f, -1.0f, 1.0f, -1e-40f};
    for (int i = 0; i < 8; i++) cr_expect(out[i] == want[i], "sample %d: %.9g, wanted %.9g", i, out[i], want[i]);
    /* clamped per channel before the mean: (1.5 -> 1) and 0 give 0.5 */
    uint8_t st[8];
    le32f(st, 1.5f);
    le32f(st + 4, 0.0f);
    cr_assert_eq(uzs_pcm_to_mono(UZS_PCM_F32LE, 2, st, 8, out, err, sizeof err), 1);
    cr_expect(out[0] == 0.5f, "%.9g", out[0]);
}

Test(pcm, non_finite_and_bad_lengths) {
    const float bad[] = {NAN, INFINITY, -INFINITY};
    const char *word[] = {"is NaN", "is infinite", "is infinite"};
    for (int k = 0; k < 3; k++) {
        uint8_t b[8 * 5];
        for (int i = 0; i < 10; i++) le32f(b + 4 * i, 0.1f);
        le32f(b + 4 * 7, bad[k]); /* frame 3, channel 1 */
        float out[5];
        char err[256] = "";
        cr_expect_eq(uzs_pcm_to_mono(UZS_PCM_F32LE, 2, b, sizeof b, out, err, sizeof err), -1);
        cr_expect(strstr(err, "sample frame 3, channel 1") && strstr(err, word[k]), "%s", err);
    }
    /* a NaN bit pattern other than the default one */
    uint8_t qnan[4] = {0x01, 0x00, 0xc0, 0xff};
    float out[4];
    char err[256] = "";
    cr_expect_eq(uzs_pcm_to_mono(UZS_PCM_F32LE, 1, qnan, 4, out, err, sizeof err), -1);
    uint8_t z[16] = {0};
    cr_expect_eq(uzs_pcm_to_mono(UZS_PCM_S16LE, 2, z, 6, out, err, sizeof err), -1);
    cr_expect(strstr(err, "6 bytes is not a whole number of 4-byte sample frames"), "%s", err);
    cr_expect_eq(uzs_pcm_to_mono(UZS_PCM_F32LE, 1, z, 3, out, err, sizeof err), -1);
    cr_expect_eq(uzs_pcm_to_mono(UZS_PCM_F32LE, 3, z, 12, out, err, sizeof err), -1);
    cr_expect(strstr(err, "channel count 3"), "%s", err);
    cr_expect_eq(uzs_pcm_to_mono(UZS_PCM_S16LE, 1, z, 0, NULL, err, sizeof err), 0, "an empty AUDIO frame is fine");
    cr_expect_eq(uzs_pcm_to_mono(UZS_PCM_S16LE, 1, NULL, 4, out, err, sizeof err), -1);
}

/* ---------------------------------------------------------------- server messages */

/* Check that line is one '\n'-terminated JSON object the checker accepts as `type`; return it parsed. */
static json_t *load_line(char *line, const size_t *len_out, uzs_msg_type type) {
    cr_assert_not_null(line);
    const size_t len = *len_out; /* read here: after the encoder ran */
    cr_assert_eq(len, strlen(line));
    cr_assert(len >= 2 && line[len - 1] == '\n', "ends with a newline: %s", line);
    cr_assert_null(memchr(line, '\n', len - 1), "one line: %s", line);
    char err[300] = "";
    cr_assert_eq(uzs_msg_check(line, len, err, sizeof err), type, "%s: %s", line, err);
    json_error_t je;
    json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
    cr_assert_not_null(o, "%s: %s", line, je.text);
    cr_assert_str_eq(json_string_value(json_object_get(o, "type")), uzs_msg_type_name(type));
    free(line);
    return o;
}

static double num(const json_t *o, const char *key) { return json_number_value(json_object_get(o, key)); }
static const char *str(const json_t *o, const char *key) { return json_string_value(json_object_get(o, key)); }

Test(messages, ready) {
    uzs_hello h;
    char err[256];
    cr_assert_eq(parse("{\"protocol\":\"uzw-stream/1\",\"sample_rate\":8000,\"format\":\"f32le\",\"channels\":2,"
                       "\"api_key\":\"topsecret\",\"id\":\"call-1\",\"adapter\":\"med\"}", &h, err, sizeof err), 0, "%s", err);
    strcpy(h.languages, "uz,ru"); /* the server's default filled in */
    uzs_ready r = {.session = "s-0001", .hello = &h, .model = "base", .max_audio_seconds = 3600,
                   .idle_timeout_seconds = 30, .max_session_seconds = 0};
    size_t len;
    char *line = uzs_msg_ready(&r, &len);
    cr_expect_null(strstr(line, "topsecret"), "the key is not echoed");
    json_t *o = load_line(line, &len, UZS_MSG_READY);
    cr_expect_str_eq(str(o, "protocol"), UZS_PROTOCOL_NAME);
    cr_expect_str_eq(str(o, "session"), "s-0001");
    cr_expect_str_eq(str(o, "id"), "call-1");
    cr_expect_str_eq(str(o, "model"), "base");
    json_t *opt = json_object_get(o, "options"), *lim = json_object_get(o, "limits");
    cr_expect_eq(num(opt, "sample_rate"), 8000);
    cr_expect_str_eq(str(opt, "format"), "f32le");
    cr_expect_eq(num(opt, "channels"), 2);
    cr_expect_str_eq(str(opt, "language"), "auto");
    cr_expect_str_eq(str(opt, "languages"), "uz,ru");
    cr_expect_str_eq(str(opt, "adapter"), "med");
    cr_expect(json_is_true(json_object_get(opt, "interim")));
    cr_expect(json_is_true(json_object_get(opt, "word_timestamps")));
    cr_expect_str_eq(str(opt, "task"), "transcribe");
    cr_expect_str_eq(str(opt, "uz_script"), "latin");
    cr_expect_null(json_object_get(opt, "api_key"));
    cr_expect_eq(num(lim, "max_hello_bytes"), 65536);
    cr_expect_eq(num(lim, "max_audio_frame_bytes"), 1048576);
    cr_expect_eq(num(lim, "max_audio_seconds"), 3600);
    cr_expect_eq(num(lim, "idle_timeout_seconds"), 30);
    cr_expect(json_is_null(json_object_get(lim, "max_session_seconds")), "0 means no limit: null");
    json_decref(o);
    char *first = uzs_msg_ready(&r, NULL);
    cr_expect(strncmp(first, "{\"type\":\"ready\",", 16) == 0, "type comes first: %s", first);
    free(first);
}

Test(messages, interim_text_and_repair) {
    uzs_interim m = {.stable = "salom, \"do'stlar\"\n", .unstable = " qalay\xff", .start = 1.23449, .end = 2.0006,
                     .language = NULL};
    size_t len;
    json_t *o = load_line(uzs_msg_interim(&m, &len), &len, UZS_MSG_INTERIM);
    cr_expect_str_eq(str(o, "stable"), "salom, \"do'stlar\"\n");
    cr_expect_str_eq(str(o, "unstable"), " qalay\xef\xbf\xbd", "a bad byte becomes U+FFFD");
    cr_expect_str_eq(str(o, "text"), "salom, \"do'stlar\"\n qalay\xef\xbf\xbd");
    cr_expect_eq(num(o, "start"), 1.234, "%.9g", num(o, "start"));
    cr_expect_eq(num(o, "end"), 2.001);
    cr_expect(json_is_null(json_object_get(o, "language")));
    json_decref(o);
    /* a character cut by a token boundary in stable: text stays stable + unstable */
    uzs_interim cut = {.stable = "o\xca", .unstable = "\xbb" "zbek", .start = 0, .end = 1, .language = "uz"};
    o = load_line(uzs_msg_interim(&cut, &len), &len, UZS_MSG_INTERIM);
    cr_expect_str_eq(str(o, "text"), "o\xef\xbf\xbd\xef\xbf\xbdzbek");
    cr_expect_str_eq(str(o, "language"), "uz");
    json_decref(o);
}

Test(messages, final_with_words_and_switches) {
    uzs_word w[3] = {{" Men", 0.5, 0.8, 0.91f, "uz"}, {" магазин", 0.8, 1.4, 0.87654321f, "ru"}, {"ga", 1.4, 1.6, NAN, "uz"}};
    uzs_switch s[2] = {{0.8, "uz", "ru"}, {1.4, "ru", "uz"}};
    uzs_final f = {.seq = 3, .text = " Men магазинga", .start = 0.5, .end = 1.6, .language = "uz",
                   .language_prob = 0.7f, .words = w, .n_words = 3, .switches = s, .n_switches = 2};
    size_t len;
    json_t *o = load_line(uzs_msg_final(&f, &len), &len, UZS_MSG_FINAL);
    cr_expect_eq(num(o, "seq"), 3);
    cr_expect_str_eq(str(o, "text"), " Men магазинga");
    cr_expect_eq(num(o, "start"), 0.5);
    cr_expect_eq(num(o, "end"), 1.6);
    cr_expect_str_eq(str(o, "language"), "uz");
    cr_expect_eq(num(o, "language_prob"), 0.7);
    json_t *words = json_object_get(o, "words"), *sw = json_object_get(o, "switches");
    cr_assert_eq(json_array_size(words), 3u);
    cr_expect_str_eq(str(json_array_get(words, 1), "word"), " магазин");
    cr_expect_eq(num(json_array_get(words, 1), "prob"), 0.876543);
    cr_expect_str_eq(str(json_array_get(words, 1), "language"), "ru");
    cr_expect(json_is_null(json_object_get(json_array_get(words, 2), "prob")), "NaN -> null");
    cr_assert_eq(json_array_size(sw), 2u);
    cr_expect_eq(num(json_array_get(sw, 0), "time"), 0.8);
    cr_expect_str_eq(str(json_array_get(sw, 0), "from"), "uz");
    cr_expect_str_eq(str(json_array_get(sw, 1), "to"), "uz");
    json_decref(o);
    /* no words: empty arrays, not absent */
    uzs_final bare = {.seq = 0, .text = NULL, .start = 0, .end = 0, .language = "ru", .language_prob = 1};
    o = load_line(uzs_msg_final(&bare, &len), &len, UZS_MSG_FINAL);
    cr_expect_str_eq(str(o, "text"), "");
    cr_expect_eq(json_array_size(json_object_get(o, "words")), 0u);
    cr_expect(json_is_array(json_object_get(o, "switches")));
    json_decref(o);
}

Test(messages, error_pong_end) {
    size_t len;
    json_t *o = load_line(uzs_msg_error(UZS_ERR_TOO_LARGE, "frame 1 at byte 70: AUDIO payload ...", 1, 2.5, 4.25, &len), &len, UZS_MSG_ERROR);
    cr_expect_str_eq(str(o, "code"), "too_large");
    cr_expect_str_eq(str(o, "message"), "frame 1 at byte 70: AUDIO payload ...");
    cr_expect(json_is_true(json_object_get(o, "fatal")));
    cr_expect_eq(num(o, "start"), 2.5);
    cr_expect_eq(num(o, "end"), 4.25);
    json_decref(o);
    o = load_line(uzs_msg_error(UZS_ERR_UNAUTHORIZED, "bad key", 1, -1, 0, &len), &len, UZS_MSG_ERROR);
    cr_expect_null(json_object_get(o, "start"), "no span before audio");
    cr_expect_null(json_object_get(o, "end"));
    json_decref(o);
    o = load_line(uzs_msg_error(UZS_ERR_INTERNAL, NULL, 0, 1.0, NAN, &len), &len, UZS_MSG_ERROR);
    cr_expect(json_is_false(json_object_get(o, "fatal")));
    cr_expect_str_eq(str(o, "message"), "");
    json_decref(o);
    o = load_line(uzs_msg_error(UZS_ERR_NONE, "x", 1, NAN, NAN, &len), &len, UZS_MSG_ERROR);
    cr_expect_str_eq(str(o, "code"), "internal", "no code: internal");
    json_decref(o);

    o = load_line(uzs_msg_pong(12.3456, &len), &len, UZS_MSG_PONG);
    cr_expect_eq(num(o, "received"), 12.346);
    json_decref(o);

    uzs_end e = {.audio_seconds = 10.0, .transcribed_seconds = 9.5, .error_seconds = 0.5, .n_finals = 4,
                 .wall_seconds = 10.2, .compute_seconds = 2.5, .latency_p50 = 0.9, .latency_p95 = NAN};
    o = load_line(uzs_msg_end(&e, &len), &len, UZS_MSG_END);
    cr_expect_eq(num(o, "audio_seconds"), 10.0);
    cr_expect_eq(num(o, "transcribed_seconds"), 9.5);
    cr_expect_eq(num(o, "error_seconds"), 0.5);
    cr_expect_eq(num(o, "finals"), 4);
    json_t *t = json_object_get(o, "timings");
    cr_expect_eq(num(t, "wall_seconds"), 10.2);
    cr_expect_eq(num(t, "compute_seconds"), 2.5);
    cr_expect_eq(num(t, "rtf"), 0.25);
    cr_expect_eq(num(t, "latency_p50"), 0.9);
    cr_expect(json_is_null(json_object_get(t, "latency_p95")));
    json_decref(o);
    uzs_end empty = {0};
    o = load_line(uzs_msg_end(&empty, &len), &len, UZS_MSG_END);
    cr_expect(json_is_null(json_object_get(json_object_get(o, "timings"), "rtf")), "no audio: rtf null");
    json_decref(o);
}

/* ---------------------------------------------------------------- the line checker */

static void expect_refused(const char *line, const char *needle) {
    char err[300] = "";
    cr_expect_eq(uzs_msg_check(line, strlen(line), err, sizeof err), UZS_MSG_UNKNOWN, "accepted: %s", line);
    cr_expect(strstr(err, needle) != NULL, "for %s: \"%s\" should contain \"%s\"", line, err, needle);
}

Test(check, refuses_what_breaks_the_spec) {
    expect_refused("", "not one JSON value");
    expect_refused("{\"type\":\"pong\",\"received\":1}{}", "not one JSON value");
    expect_refused("[1]", "not a JSON object");
    expect_refused("{\"type\":\"pong\",\n\"received\":1}\n", "raw newline");
    expect_refused("{\"received\":1}", "\"type\" is missing");
    expect_refused("{\"type\":\"hello\"}", "unknown message type \"hello\"");
    expect_refused("{\"type\":\"pong\"}", "\"received\" is missing");
    expect_refused("{\"type\":\"pong\",\"received\":-1}", "must be >= 0");
    expect_refused("{\"type\":\"pong\",\"received\":1,\"received\":2}", "duplicate");
    expect_refused("{\"type\":\"interim\",\"text\":\"ab\",\"stable\":\"a\",\"unstable\":\"c\",\"start\":0,\"end\":1,\"language\":null}",
                   "not \"stable\" followed by \"unstable\"");
    expect_refused("{\"type\":\"interim\",\"text\":\"\",\"stable\":\"\",\"unstable\":\"\",\"start\":2,\"end\":1,\"language\":null}",
                   "need 0 <= start <= end");
    const char *final_head = "{\"type\":\"final\",\"seq\":0,\"text\":\"x\",\"start\":1,\"end\":2,\"language\":\"uz\",\"language_prob\":0.5,";
    char line[1024];
    snprintf(line, sizeof line, "%s\"words\":[{\"word\":\"a\",\"start\":1.5,\"end\":1.6,\"prob\":1,\"language\":\"uz\"},"
             "{\"word\":\"b\",\"start\":1.2,\"end\":1.3,\"prob\":1,\"language\":\"uz\"}],\"switches\":[]}", final_head);
    expect_refused(line, "final.words[1]: [1.2, 1.3] out of order");
    snprintf(line, sizeof line, "%s\"words\":[{\"word\":\"a\",\"start\":1.5,\"end\":2.5,\"prob\":1,\"language\":\"uz\"}],"
             "\"switches\":[]}", final_head);
    expect_refused(line, "outside the segment");
    snprintf(line, sizeof line, "%s\"words\":[{\"word\":\"a\",\"start\":1.5,\"end\":1.6,\"prob\":1.5,\"language\":\"uz\"}],"
             "\"switches\":[]}", final_head);
    expect_refused(line, "probability 1.5 outside [0, 1]");
    snprintf(line, sizeof line, "%s\"words\":[],\"switches\":[{\"time\":1.5,\"from\":\"uz\",\"to\":\"uz\"}]}", final_head);
    expect_refused(line, "\"from\" and \"to\" are both \"uz\"");
    snprintf(line, sizeof line, "%s\"words\":[],\"switches\":[{\"time\":0.5,\"from\":\"uz\",\"to\":\"ru\"}]}", final_head);
    expect_refused(line, "out of order or outside the segment");
    snprintf(line, sizeof line, "%s\"words\":{},\"switches\":[]}", final_head);
    expect_refused(line, "must be arrays");
    expect_refused("{\"type\":\"error\",\"code\":\"oops\",\"message\":\"m\",\"fatal\":true}", "unknown code \"oops\"");
    expect_refused("{\"type\":\"error\",\"code\":\"none\",\"message\":\"m\",\"fatal\":true}", "unknown code \"none\"");
    expect_refused("{\"type\":\"error\",\"code\":\"timeout\",\"message\":\"m\",\"fatal\":1}", "\"fatal\" must be true or false");
    expect_refused("{\"type\":\"error\",\"code\":\"timeout\",\"message\":\"m\",\"fatal\":true,\"start\":1}",
                   "\"start\" and \"end\" come together");
    expect_refused("{\"type\":\"end\",\"audio_seconds\":10,\"transcribed_seconds\":9,\"error_seconds\":0,\"finals\":1,"
                   "\"timings\":{\"wall_seconds\":1,\"compute_seconds\":1,\"rtf\":null,\"latency_p50\":null,\"latency_p95\":null}}",
                   "audio_seconds 10 != transcribed_seconds 9 + error_seconds 0");
    expect_refused("{\"type\":\"ready\",\"protocol\":\"uzw-stream/2\",\"session\":\"s\",\"id\":null,\"model\":null,"
                   "\"options\":{},\"limits\":{}}", "protocol \"uzw-stream/2\" is not uzw-stream/1");
    expect_refused("{\"type\":\"ready\",\"protocol\":\"uzw-stream/1\",\"session\":\"\",\"id\":null,\"model\":null,"
                   "\"options\":{},\"limits\":{}}", "\"session\" is empty");
}

Test(check, accepts_other_servers_numbers_and_unknown_keys) {
    /* integers where reals are usual, an extra key (clients must ignore unknown keys), no newline */
    const char *line = "{\"type\":\"final\",\"seq\":0,\"text\":\"\",\"start\":0,\"end\":3,\"language\":\"ru\","
                       "\"language_prob\":null,\"words\":[],\"switches\":[],\"speaker\":\"A\"}";
    char err[300] = "";
    cr_expect_eq(uzs_msg_check(line, strlen(line), err, sizeof err), UZS_MSG_FINAL, "%s", err);
    const char *end = "{\"type\":\"end\",\"audio_seconds\":1.001,\"transcribed_seconds\":0.5,\"error_seconds\":0.5,"
                      "\"finals\":0,\"timings\":{\"wall_seconds\":1,\"compute_seconds\":0,\"rtf\":0,\"latency_p50\":null,"
                      "\"latency_p95\":null}}\n";
    cr_expect_eq(uzs_msg_check(end, strlen(end), err, sizeof err), UZS_MSG_END, "within rounding: %s", err);
    cr_expect_str_eq(uzs_msg_type_name(UZS_MSG_PONG), "pong");
    cr_expect_null(uzs_msg_type_name(UZS_MSG_UNKNOWN));
}
