/*
 * wfile_layout.h - internal: the byte layout of a .uzw file, shared by the reader
 * (wfile_read.c), the writer (wfile_write.c) and the tests. Spec: docs/weight-format.md.
 * All integers are little-endian and are read/written byte by byte (no alignment assumed).
 */
#ifndef UZW_WFILE_LAYOUT_H
#define UZW_WFILE_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "wformat.h"

/* Fixed header: field offsets in the first UZW_HEADER_BYTES bytes. [96, 128) is reserved (zero). */
enum {
    UZW_H_MAGIC = 0,         /* char[8] "UZWHISPR" */
    UZW_H_VERSION = 8,       /* u32 */
    UZW_H_HEADER_BYTES = 12, /* u32 = 128 */
    UZW_H_FILE_BYTES = 16,   /* u64 */
    UZW_H_META_OFF = 24,     /* u64 */
    UZW_H_META_BYTES = 32,   /* u64 */
    UZW_H_TABLE_OFF = 40,    /* u64 */
    UZW_H_TABLE_BYTES = 48,  /* u64 */
    UZW_H_DATA_OFF = 56,     /* u64 */
    UZW_H_DATA_BYTES = 64,   /* u64 */
    UZW_H_N_META = 72,       /* u32 */
    UZW_H_N_TENSORS = 76,    /* u32 */
    UZW_H_ALIGN = 80,        /* u32 = 64 */
    UZW_H_META_CRC = 84,     /* u32 */
    UZW_H_TABLE_CRC = 88,    /* u32 */
    UZW_H_DATA_CRC = 92,     /* u32 */
    UZW_H_RESERVED = 96      /* 32 bytes, written as zero, ignored by readers of version 1 */
};

/* Metadata record: u32 key_len, key[key_len], u32 type, u32 count, u64 value_bytes, value[value_bytes] */
#define UZW_META_FIXED 20u     /* bytes besides the key and the value */
#define UZW_MAX_KEY 63u        /* key_len is 1..63 (uzw_meta.key holds it with a NUL) */
/* Table record: u32 name_len, name[name_len], u32 dtype, u32 n_dims, u64 dims[4] (unused = 0),
 * u64 offset (from data_off), u64 nbytes */
#define UZW_TREC_FIXED 60u     /* bytes besides the name */

static inline uint32_t uzw_rd_u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t uzw_rd_u64(const uint8_t *p) { return (uint64_t)uzw_rd_u32(p) | (uint64_t)uzw_rd_u32(p + 4) << 32; }
static inline void uzw_wr_u32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}
static inline void uzw_wr_u64(uint8_t *p, uint64_t v) { uzw_wr_u32(p, (uint32_t)v), uzw_wr_u32(p + 4, (uint32_t)(v >> 32)); }

/* Keys and tensor names: printable ASCII without spaces (0x21..0x7e). */
static inline int uzw_name_char_ok(uint8_t c) { return c >= 0x21 && c <= 0x7e; }

/* Header codec (wfile_read.c). */
void uzw_header_decode(const uint8_t in[UZW_HEADER_BYTES], uzw_wheader *h);
void uzw_header_encode(const uzw_wheader *h, uint8_t out[UZW_HEADER_BYTES]);
/* zlib crc32 over any length (zlib takes 32-bit lengths; this chunks). */
uint32_t uzw_crc32(uint32_t crc, const uint8_t *p, uint64_t n);

/* Writer extras (wfile_write.c): the scalar metadata types wformat.h has no builder call for. */
int uzw_wbuild_u32(uzw_wbuild *b, const char *key, uint32_t v);
int uzw_wbuild_f32(uzw_wbuild *b, const char *key, float v);

#endif
