/*
 * fuzz_protocol.c - libFuzzer target for the uzw-stream/1 codec (tools/serve/protocol.h). The first
 * input byte steers the run, the rest is the client's byte stream:
 *   - the stream goes into the frame decoder whole, split in two at a position taken from the first
 *     byte, and in small chunks; all three must yield the same frames (type, length, payload) and
 *     end the same way (same status, code and message);
 *   - fed whole, each frame must be exactly what uzs_frame_encode() makes of it, and an error must
 *     carry a code of the decoder's (bad_frame, too_large) and a "frame N at byte M: " message;
 *   - every HELLO goes through uzs_hello_parse(); an accepted one must have its fields in range,
 *     re-encode with uzs_hello_encode() and parse back the same, and give a ready line that
 *     uzs_msg_check() accepts;
 *   - every AUDIO payload goes through uzs_pcm_to_mono() in the HELLO's format (or one picked by the
 *     first byte when no HELLO was accepted): the result is finite and in [-1, 1], one sample per
 *     frame, or -1 with a message; the payload's bytes also become the text of interim and final
 *     lines (broken UTF-8 included) that the checker must accept;
 *   - the raw input also goes through uzs_msg_check() as a server line.
 * Seeds: tests/fuzz/corpus_protocol/ (tests/fuzz/gen_corpus_protocol.py). Run: tools/fuzz.sh.
 */
#define _POSIX_C_SOURCE 200809L /* strndup */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"

/* What one decoding of the stream produced. */
typedef struct {
    uint64_t digest; /* FNV-1a over (type, length, payload) of every frame, in order */
    uint64_t n_frames;
    int rc;          /* the last return: 0 input used up, -1 error */
    uzs_error_code code;
    char message[256];
    int eof_rc;
} run_result;

static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* The fallback PCM format when no HELLO was accepted. */
static void fallback_format(uint8_t ctl, uzs_pcm_format *f, int *ch) {
    *f = (ctl & 1) ? UZS_PCM_F32LE : UZS_PCM_S16LE;
    *ch = 1 + ((ctl >> 1) & 1);
}

static void check_hello(const uzs_hello *h) {
    if (h->sample_rate < UZS_MIN_SAMPLE_RATE || h->sample_rate > UZS_MAX_SAMPLE_RATE) abort();
    if (h->channels < 1 || h->channels > UZS_MAX_CHANNELS) abort();
    if (!uzs_pcm_format_name(h->format) || !uzs_task_name(h->task) || !uzs_uz_script_name(h->uz_script)) abort();
    if (h->frame_bytes != uzs_pcm_frame_bytes(h->format, h->channels)) abort();
    if (!memchr(h->language, 0, sizeof h->language) || !memchr(h->api_key, 0, sizeof h->api_key)) abort();
    /* round trip: encode, parse back, same options */
    char err[512];
    size_t n = 0;
    char *json = uzs_hello_encode(h, &n, err, sizeof err);
    if (!json) abort(); /* an accepted HELLO always re-encodes */
    uzs_hello b;
    if (uzs_hello_parse(json, n, &b, err, sizeof err) != 0) abort();
    if (b.sample_rate != h->sample_rate || b.format != h->format || b.channels != h->channels ||
        strcmp(b.language, h->language) || strcmp(b.languages, h->languages) || strcmp(b.adapter, h->adapter) ||
        b.interim != h->interim || b.word_timestamps != h->word_timestamps || b.task != h->task ||
        b.uz_script != h->uz_script || strcmp(b.api_key, h->api_key) || strcmp(b.id, h->id))
        abort();
    free(json);
    /* the ready line built from it passes the checker and never carries the key */
    uzs_ready r = {.session = "fuzz", .hello = h, .model = NULL, .max_audio_seconds = 60};
    size_t len;
    char *line = uzs_msg_ready(&r, &len);
    if (!line) return; /* out of memory only */
    if (uzs_msg_check(line, len, err, sizeof err) != UZS_MSG_READY) abort();
    if (strstr(line, "\"api_key\"")) abort(); /* the key is never echoed */
    free(line);
}

/* Payload bytes as text lines: interim (split by ctl) and final (one word per 16 bytes). */
static void check_text_lines(const uint8_t *p, size_t n, uint8_t ctl) {
    if (n > 4096) n = 4096;
    char *text = malloc(n + 1);
    if (!text) return;
    memcpy(text, p, n);
    text[n] = 0;
    size_t len = strlen(text); /* up to the first NUL */
    size_t cut = len ? ctl % (len + 1) : 0;
    char *stable = strndup(text, cut);
    char err[300];
    if (stable) {
        uzs_interim im = {.stable = stable, .unstable = text + cut, .start = 0.25, .end = 0.25 + (double)len,
                          .language = (ctl & 4) ? NULL : "uz"};
        char *line = uzs_msg_interim(&im, &len);
        if (line && uzs_msg_check(line, len, err, sizeof err) != UZS_MSG_INTERIM) abort();
        free(line);
        free(stable);
    }
    enum { MAXW = 64 };
    uzs_word words[MAXW];
    char *pieces[MAXW];
    int nw = 0;
    for (size_t off = 0; off < n && nw < MAXW; off += 16, nw++) {
        size_t k = n - off < 16 ? n - off : 16;
        pieces[nw] = strndup(text + off, k); /* may stop early at a NUL: fine */
        words[nw] = (uzs_word){pieces[nw] ? pieces[nw] : "", 0.1 * nw, 0.1 * nw + 0.05, (float)(p[off] / 255.0),
                               (p[off] & 1) ? "ru" : "uz"};
    }
    uzs_switch sw = {0.0, "uz", "ru"};
    uzs_final f = {.seq = ctl, .text = text, .start = 0.0, .end = 0.1 * nw + 0.05, .language = "uz",
                   .language_prob = (float)(ctl / 255.0), .words = words, .n_words = nw, .switches = &sw,
                   .n_switches = ctl & 1};
    char *line = uzs_msg_final(&f, &len);
    if (line && uzs_msg_check(line, len, err, sizeof err) != UZS_MSG_FINAL) abort();
    free(line);
    for (int i = 0; i < nw; i++) free(pieces[i]);
    free(text);
}

static void check_audio(const uint8_t *p, uint32_t n, uzs_pcm_format fmt, int ch) {
    const uint32_t fb = uzs_pcm_frame_bytes(fmt, ch);
    float *mono = malloc((size_t)(n / fb) * sizeof(float) + sizeof(float));
    if (!mono) return;
    char err[256] = "";
    long got = uzs_pcm_to_mono(fmt, ch, p, n, mono, err, sizeof err);
    if (got < 0) {
        if (!err[0] || strncmp(err, "AUDIO: ", 7) != 0) abort();
        /* refused only for a partial frame or a non-finite f32 sample */
        if (n % fb == 0 && fmt == UZS_PCM_S16LE) abort();
    } else {
        if ((uint32_t)got != n / fb || n % fb != 0) abort();
        for (long i = 0; i < got; i++)
            if (!(mono[i] >= -1.0f && mono[i] <= 1.0f)) abort();
    }
    free(mono);
}

/* Decode data in chunks: chunk 0 = whole, else split at `split` then chunks of `chunk` bytes.
 * deep: run the per-frame checks (once per input). */
static void run(const uint8_t *data, size_t size, size_t split, size_t chunk, uint8_t ctl, int deep,
                run_result *r) {
    memset(r, 0, sizeof *r);
    r->digest = 0xcbf29ce484222325ull;
    uzs_frame_decoder d;
    uzs_frame_decoder_init(&d);
    uzs_pcm_format fmt;
    int ch;
    fallback_format(ctl, &fmt, &ch);
    size_t pos = 0;
    while (pos < size && r->rc == 0) {
        size_t k = chunk == 0 ? size : (pos < split ? split - pos : chunk);
        if (k > size - pos) k = size - pos;
        const uint8_t *p = data + pos;
        size_t left = k;
        for (;;) {
            const uint8_t *frame_start = p;
            uzs_frame f;
            int rc = uzs_frame_decoder_next(&d, &p, &left, &f, r->message, sizeof r->message);
            if (rc != 1) {
                if (rc == 0 && left != 0) abort(); /* need-more consumes everything */
                r->rc = rc;
                break;
            }
            if (!f.payload || f.index != r->n_frames) abort();
            uint8_t meta[5] = {(uint8_t)f.type, (uint8_t)f.len, (uint8_t)(f.len >> 8), (uint8_t)(f.len >> 16),
                               (uint8_t)(f.len >> 24)};
            r->digest = fnv(fnv(r->digest, meta, 5), f.payload, f.len);
            r->n_frames++;
            if (chunk == 0) { /* fed whole: the frame is exactly its encoding, in place */
                uint8_t hdr[UZS_FRAME_HEADER_BYTES];
                if (uzs_frame_header(hdr, f.type, f.len, NULL, 0) != 0) abort();
                if ((size_t)(p - frame_start) != UZS_FRAME_HEADER_BYTES + f.len) abort();
                if (memcmp(frame_start, hdr, UZS_FRAME_HEADER_BYTES) != 0) abort();
                if (f.len && f.payload != frame_start + UZS_FRAME_HEADER_BYTES) abort();
            }
            if (f.type == UZS_FRAME_HELLO) {
                if (f.index != 0) abort(); /* HELLO only first */
                uzs_hello h;
                char err[512] = "";
                if (uzs_hello_parse(f.payload, f.len, &h, err, sizeof err) == 0) {
                    fmt = h.format;
                    ch = h.channels;
                    if (deep) check_hello(&h);
                } else if (strncmp(err, "HELLO: ", 7) != 0) {
                    abort();
                }
                uzs_frame_decoder_set_frame_bytes(&d, uzs_pcm_frame_bytes(fmt, ch));
            } else if (f.index == 0) {
                abort(); /* the first frame is always HELLO */
            }
            if (f.type == UZS_FRAME_AUDIO) {
                if (f.len > UZS_MAX_AUDIO_FRAME_BYTES || f.len % uzs_pcm_frame_bytes(fmt, ch)) abort();
                if (deep) {
                    check_audio(f.payload, f.len, fmt, ch);
                    check_text_lines(f.payload, f.len, ctl);
                }
            }
            if ((f.type == UZS_FRAME_END || f.type == UZS_FRAME_PING) && f.len != 0) abort();
        }
        pos += k;
    }
    if (d.cap > UZS_MAX_AUDIO_FRAME_BYTES) abort(); /* memory bounded by the largest frame */
    r->code = uzs_frame_decoder_error(&d);
    if (r->rc == -1) {
        if (r->code != UZS_ERR_BAD_FRAME && r->code != UZS_ERR_TOO_LARGE && r->code != UZS_ERR_INTERNAL) abort();
        if (strncmp(r->message, "frame ", 6) != 0) abort();
    } else if (r->code != UZS_ERR_NONE) {
        abort();
    }
    char err[256];
    r->eof_rc = uzs_frame_decoder_eof(&d, err, sizeof err);
    if (r->eof_rc != 0 && !err[0]) abort();
    uzs_frame_decoder_free(&d);
}

static void same(const run_result *a, const run_result *b) {
    if (a->digest != b->digest || a->n_frames != b->n_frames || a->rc != b->rc || a->code != b->code ||
        strcmp(a->message, b->message) != 0 || a->eof_rc != b->eof_rc)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    const uint8_t ctl = data[0];
    const uint8_t *s = data + 1;
    const size_t n = size - 1;
    const size_t split = (size_t)ctl * (n + 1) / 256;
    run_result whole, halves, small;
    run(s, n, 0, 0, ctl, 1, &whole);
    run(s, n, split, n + 1, ctl, 0, &halves);  /* two pieces: [0, split) and the rest */
    run(s, n, 0, 1 + ctl % 13, ctl, 0, &small); /* chunks of 1..13 bytes */
    same(&whole, &halves);
    same(&whole, &small);

    char err[300];
    uzs_msg_type t = uzs_msg_check((const char *)s, n, err, sizeof err);
    if (t == UZS_MSG_UNKNOWN && !err[0]) abort();
    return 0;
}
