/*
 * audio_mem.c - decode an uploaded audio file held in memory. libsndfile's virtual I/O reads a
 * const byte buffer as if it were a file (get_filelen, seek, read, tell; writing is refused), then
 * uzw_audio_decode_sndfile (audio_file.c) applies exactly the checks and decoding of the path
 * reader, so a file and the same bytes uploaded give bit-identical samples and the same refusals.
 *
 * The name comes from the client (a multipart filename): before it enters a message it is cut to
 * NAME_MAX_BYTES and made valid UTF-8 without control characters (each bad byte becomes '?'), so
 * the message can go into JSON (Jansson refuses invalid UTF-8) and into logs as it is.
 *
 * MP3 that does not start with an ID3 tag or a frame header: libsndfile opens such a file by path
 * only thanks to its ".mp3" extension (format_from_extension in sndfile.c); a virtual file has no
 * name, so it is refused. When the upload's name ends in ".mp3" we do the same in our way: open the
 * bytes from the first MPEG frame header (the test libsndfile applies: identify_mpeg) within the
 * first MP3_SCAN_BYTES; mpg123 then resynchronises as it does for the file.
 *
 * Ogg Vorbis whose headers are damaged: libsndfile 1.2.0 (and its master branch as of 2025) leaks
 * the 5784-byte codec setup that vorbis_info_init allocates whenever such a stream fails to open,
 * because vorbis_read_header returns before ogg_vorbis_open installs the codec's close function.
 * One hostile upload of ~60 bytes would leak that much each time, so an upload whose first Ogg page
 * holds a Vorbis identification header is checked here first (ogg_vorbis_problem) against every
 * way vorbis_read_header can fail, strictly, and refused without reaching libsndfile if it would.
 *
 * libsndfile reports why an open failed only through sf_strerror(NULL), one value for the whole
 * process: two uploads refused at the same instant on two threads may exchange their reasons.
 */
#include "audio/audio.h"
#include "audio/audio_sndfile.h"

#include <sndfile.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum {
    NAME_MAX_BYTES = 160,      /* longest name quoted in a message, in bytes */
    MP3_SCAN_BYTES = 64 << 10, /* how far to look for the first MPEG frame header */
    REASON_BYTES = 256         /* libsndfile's open error, kept across a second try */
};

#define SET_ERR(...) do { if (err && err_size) snprintf(err, err_size, __VA_ARGS__); } while (0)

/* ---------------------------------------------------------------- the virtual file */

typedef struct {
    const unsigned char *data; /* [size] the upload, read only */
    sf_count_t size;           /* bytes */
    sf_count_t pos;            /* byte offset of the next read; may pass size, as in a file */
} mem_file;

static sf_count_t mem_get_filelen(void *user) { return ((const mem_file *)user)->size; }

static sf_count_t mem_seek(sf_count_t offset, int whence, void *user) {
    mem_file *m = user;
    sf_count_t base;
    switch (whence) {
    case SEEK_SET: base = 0; break;
    case SEEK_CUR: base = m->pos; break;
    case SEEK_END: base = m->size; break;
    default: return -1;
    }
    if (offset > 0 && base > INT64_MAX - offset) return -1; /* base >= 0: only this can overflow */
    if (base + offset < 0) return -1;
    m->pos = base + offset;
    return m->pos;
}

static sf_count_t mem_read(void *ptr, sf_count_t count, void *user) {
    mem_file *m = user;
    if (count <= 0 || m->pos >= m->size) return 0;
    const sf_count_t n = count < m->size - m->pos ? count : m->size - m->pos;
    memcpy(ptr, m->data + m->pos, (size_t)n);
    m->pos += n;
    return n;
}

static sf_count_t mem_write(const void *ptr, sf_count_t count, void *user) {
    (void)ptr;
    (void)count;
    (void)user;
    return 0; /* read only */
}

static sf_count_t mem_tell(void *user) { return ((const mem_file *)user)->pos; }

/* Open data[size] with libsndfile; NULL when it refuses (reason in sf_strerror(NULL)). */
static SNDFILE *open_bytes(const unsigned char *data, size_t size, mem_file *m, SF_INFO *info) {
    SF_VIRTUAL_IO io = {.get_filelen = mem_get_filelen, .seek = mem_seek, .read = mem_read, .write = mem_write,
                        .tell = mem_tell};
    m->data = data;
    m->size = (sf_count_t)size;
    m->pos = 0;
    memset(info, 0, sizeof *info);
    return sf_open_virtual(&io, SFM_READ, info, m);
}

/* ---------------------------------------------------------------- names and MP3 junk */

/* Length of the valid UTF-8 sequence at s[0..n) (1..4), or 0 when it is invalid or a control. */
static size_t utf8_len(const unsigned char *s, size_t n) {
    const unsigned c = s[0];
    if (c < 0x20 || c == 0x7F) return 0;
    if (c < 0x80) return 1;
    size_t len;
    unsigned lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c == 0xE0) len = 3, lo = 0xA0;
    else if (c == 0xED) len = 3, hi = 0x9F; /* no UTF-16 surrogates */
    else if (c >= 0xE1 && c <= 0xEF) len = 3;
    else if (c == 0xF0) len = 4, lo = 0x90;
    else if (c == 0xF4) len = 4, hi = 0x8F; /* nothing past U+10FFFF */
    else if (c >= 0xF1 && c <= 0xF3) len = 4;
    else return 0;
    if (n < len || s[1] < lo || s[1] > hi) return 0;
    for (size_t i = 2; i < len; i++)
        if ((s[i] & 0xC0) != 0x80) return 0;
    if (len == 2 && c == 0xC2 && s[1] < 0xA0) return 0; /* C1 controls U+0080..U+009F */
    return len;
}

/* The upload as messages name it: 'name' cleaned (see the file comment), or "the upload". */
static void shown_name(const char *name, char *out, size_t cap) {
    if (!name || !*name) {
        snprintf(out, cap, "the upload");
        return;
    }
    const unsigned char *s = (const unsigned char *)name;
    const size_t n = strlen(name);
    size_t o = 0;
    out[o++] = '\'';
    for (size_t i = 0; i < n;) {
        size_t len = utf8_len(s + i, n - i);
        const size_t put = len ? len : 1;
        if (o + put > NAME_MAX_BYTES + 1) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        if (len) memcpy(out + o, s + i, len);
        else out[o] = '?';
        o += put;
        i += len ? len : 1;
    }
    out[o++] = '\'';
    out[o] = 0;
}

static int ends_with_mp3(const char *name) {
    const size_t n = name ? strlen(name) : 0;
    return n >= 4 && strcasecmp(name + n - 4, ".mp3") == 0;
}

/* Offset of the first MPEG audio frame header in data[0..size) within MP3_SCAN_BYTES, the test of
 * libsndfile's identify_mpeg: frame sync, a valid version, layer, bitrate and sample rate; -1 if none. */
static long long first_mpeg_frame(const unsigned char *b, size_t size) {
    const size_t end = size < MP3_SCAN_BYTES ? size : MP3_SCAN_BYTES;
    for (size_t i = 0; i + 4 <= end; i++) {
        if (b[i] == 0xFF && (b[i + 1] & 0xE0) == 0xE0 && (b[i + 1] & 0x18) != 0x08 && (b[i + 1] & 0x06) != 0 &&
            (b[i + 2] & 0xF0) != 0xF0 && (b[i + 2] & 0x0C) != 0x0C)
            return (long long)i;
    }
    return -1;
}

/* ---------------------------------------------------------------- Ogg Vorbis headers */

typedef struct {
    uint8_t flags;          /* 1: continues a packet, 2: first page of its stream, 4: last page */
    uint32_t serial;        /* logical stream */
    uint32_t pageno;        /* page sequence number in its stream */
    int n_seg;              /* lacing values */
    const uint8_t *lacing;  /* [n_seg] segment sizes; < 255 ends a packet */
    const uint8_t *body;    /* [body_len] the segments, one after another */
    size_t body_len, bytes; /* body bytes; whole page bytes */
} ogg_page;

static uint32_t rd_le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The Ogg page CRC (polynomial 0x04C11DB7, not reflected, initial value 0) of b[0..n) with the CRC
 * field, bytes 22..25, counted as zeros. */
static uint32_t ogg_crc(const uint8_t *b, size_t n) {
    uint32_t crc = 0;
    for (size_t i = 0; i < n; i++) {
        crc ^= (uint32_t)(i >= 22 && i < 26 ? 0 : b[i]) << 24;
        for (int k = 0; k < 8; k++) crc = crc & 0x80000000u ? crc << 1 ^ 0x04C11DB7u : crc << 1;
    }
    return crc;
}

/* The complete version-0 page at b[off..size) with a correct CRC into *p; 0 if there is none. */
static int ogg_page_at(const uint8_t *b, size_t size, size_t off, ogg_page *p) {
    if (off > size || size - off < 27) return 0;
    const uint8_t *h = b + off;
    if (memcmp(h, "OggS", 4) != 0 || h[4] != 0) return 0;
    const int n_seg = h[26];
    if (size - off < 27 + (size_t)n_seg) return 0;
    size_t body = 0;
    for (int k = 0; k < n_seg; k++) body += h[27 + k];
    const size_t bytes = 27 + (size_t)n_seg + body;
    if (size - off < bytes || ogg_crc(h, bytes) != rd_le32(h + 22)) return 0;
    *p = (ogg_page){.flags = h[5], .serial = rd_le32(h + 14), .pageno = rd_le32(h + 18), .n_seg = n_seg,
                    .lacing = h + 27, .body = h + 27 + n_seg, .body_len = body, .bytes = bytes};
    return 1;
}

/* What libvorbis's identification header check (_vorbis_unpack_info) refuses in id[0..len). */
static const char *vorbis_ident_problem(const uint8_t *id, size_t len) {
    if (len < 30) return "identification header shorter than 30 bytes";
    if (rd_le32(id + 7) != 0) return "Vorbis version is not 0";
    if (id[11] == 0) return "0 channels";
    if (rd_le32(id + 12) == 0) return "sample rate 0";
    const unsigned bs0 = 1u << (id[28] & 15), bs1 = 1u << (id[28] >> 4);
    if (bs0 < 64 || bs1 < bs0 || bs1 > 8192) return "invalid block sizes";
    if (!(id[29] & 1)) return "framing bit not set";
    return NULL;
}

/* NULL when b[0..size) is not Ogg Vorbis (libsndfile decides) or when its three Vorbis header
 * packets can be read as vorbis_read_header reads them: the first page at offset 0 starts the stream
 * and holds the identification header alone and valid; then, page after page (pages of other
 * streams skipped; no gap, bad CRC or junk between pages), the comment and setup packets complete
 * before the stream or the file ends, with consecutive page numbers and continuation flags that
 * match. Otherwise a short reason. Stricter than libogg, never looser. */
static const char *ogg_vorbis_problem(const uint8_t *b, size_t size) {
    if (size < 4 || memcmp(b, "OggS", 4) != 0) return NULL;
    ogg_page p;
    if (!ogg_page_at(b, size, 0, &p)) return "the first Ogg page is incomplete or fails its CRC";
    if (p.body_len < 7 || memcmp(p.body, "\x01vorbis", 7) != 0) return NULL; /* Opus, FLAC, ...: not this check */
    if ((p.flags & 3) != 2) return "the first Ogg page does not start the stream";
    int k = 0;
    size_t len = 0;
    while (k < p.n_seg && p.lacing[k] == 255) len += p.lacing[k++];
    if (k == p.n_seg) return "the identification header does not end on the first page";
    len += p.lacing[k++];
    const char *why = vorbis_ident_problem(p.body, len);
    if (why) return why;
    int partial = 0; /* a packet is open at the end of the last page */
    if (k < p.n_seg && (p.body[len] != 3 || memcmp(p.body + len + 1, "vorbis", 6) != 0))
        return "no Vorbis comment header"; /* its first segment is 255 bytes: see below */
    for (; k < p.n_seg; k++) {
        if (p.lacing[k] < 255) return "the first page holds more than the identification header";
        partial = 1;
    }
    int done = 1;        /* header packets complete */
    int fresh = !partial; /* the next segment starts a packet */
    const uint32_t serial = p.serial;
    uint32_t next = p.pageno + 1; /* expected page number */
    int eos = p.flags & 4;
    size_t off = p.bytes;
    while (done < 3) {
        if (eos) return "the stream ends before its comment and setup headers";
        if (off >= size) return "the file ends before the comment and setup headers";
        if (!ogg_page_at(b, size, off, &p)) return "a damaged or incomplete Ogg page before the end of the headers";
        off += p.bytes;
        if (p.serial != serial) continue;
        if (p.pageno != next++) return "an Ogg page is missing in the headers";
        if ((p.flags & 2) || !(p.flags & 1) != !partial) return "Ogg page flags do not match the packets";
        eos = p.flags & 4;
        size_t at = 0;
        for (k = 0; k < p.n_seg && done < 3; k++) {
            if (fresh) { /* a new packet: comment (3), then setup (5) header */
                if (p.lacing[k] < 7 || p.body[at] != (done == 1 ? 3 : 5) || memcmp(p.body + at + 1, "vorbis", 6) != 0)
                    return done == 1 ? "no Vorbis comment header" : "no Vorbis setup header";
            }
            at += p.lacing[k];
            fresh = p.lacing[k] < 255;
            if (fresh) done++;
        }
        partial = !fresh;
    }
    return NULL;
}

/* ---------------------------------------------------------------- the API */

int uzw_audio_load_16k_mem_max(const void *data, size_t size, const char *name, double max_seconds, float **pcm,
                               size_t *n_samples, char *err, size_t err_size) {
    if (!pcm || !n_samples) {
        SET_ERR("audio: internal error: NULL output pointer");
        return -1;
    }
    *pcm = NULL;
    *n_samples = 0;
    char shown[NAME_MAX_BYTES + 8];
    shown_name(name, shown, sizeof shown);
    if (!(max_seconds > 0.0) || max_seconds > UZW_AUDIO_MAX_SECONDS) {
        SET_ERR("audio: internal error: duration limit %g s outside (0, %.0f]", max_seconds, UZW_AUDIO_MAX_SECONDS);
        return -1;
    }
    if (size == 0) {
        if (name && *name) SET_ERR("audio: empty upload %s (0 bytes)", shown);
        else SET_ERR("audio: empty upload (0 bytes)");
        return -1;
    }
    if (!data) {
        SET_ERR("audio: internal error: no data for %s of %zu bytes", shown, size);
        return -1;
    }
    if (size > UZW_AUDIO_MAX_UPLOAD_BYTES) {
        SET_ERR("audio: %s is too large: %zu bytes (limit %zu bytes, 2 GiB)", shown, size,
                (size_t)UZW_AUDIO_MAX_UPLOAD_BYTES);
        return -1;
    }
    const unsigned char *bytes = data;
    const char *ogg = ogg_vorbis_problem(bytes, size);
    if (ogg) {
        SET_ERR("audio: cannot decode %s (%zu bytes): not a recognised audio file (malformed Ogg Vorbis: %s)", shown,
                size, ogg);
        return -1;
    }
    mem_file m;
    SF_INFO info;
    SNDFILE *f = open_bytes(bytes, size, &m, &info);
    if (!f) {
        char reason[REASON_BYTES];
        snprintf(reason, sizeof reason, "%s", sf_strerror(NULL));
        const long long skip = ends_with_mp3(name) ? first_mpeg_frame(bytes, size) : -1;
        if (skip > 0) f = open_bytes(bytes + skip, size - (size_t)skip, &m, &info);
        if (!f) {
            SET_ERR("audio: cannot decode %s (%zu bytes): not a recognised audio file (%s)", shown, size, reason);
            return -1;
        }
    }
    const int rc = uzw_audio_decode_sndfile(f, &info, shown, max_seconds, pcm, n_samples, err, err_size);
    sf_close(f);
    return rc;
}

int uzw_audio_load_16k_mem(const void *data, size_t size, const char *name, float **pcm, size_t *n_samples,
                           char *err, size_t err_size) {
    return uzw_audio_load_16k_mem_max(data, size, name, UZW_AUDIO_MAX_SECONDS, pcm, n_samples, err, err_size);
}
