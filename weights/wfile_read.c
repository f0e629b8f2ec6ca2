/*
 * wfile_read.c - open, validate and query a .uzw weight file. Every byte of the header, the
 * metadata and the tensor table is checked before anything points into the file, so a corrupt or
 * hostile file gives a message and -1, never a crash. Spec: docs/weight-format.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/util.h"
#include "wfile_layout.h"
#include "wformat.h"

typedef unsigned long long ull; /* for printf */

/* ---------------------------------------------------------------- header codec, crc */

void uzw_header_decode(const uint8_t in[UZW_HEADER_BYTES], uzw_wheader *h) {
    memset(h, 0, sizeof *h);
    memcpy(h->magic, in + UZW_H_MAGIC, 8);
    h->version = uzw_rd_u32(in + UZW_H_VERSION);
    h->header_bytes = uzw_rd_u32(in + UZW_H_HEADER_BYTES);
    h->file_bytes = uzw_rd_u64(in + UZW_H_FILE_BYTES);
    h->meta_off = uzw_rd_u64(in + UZW_H_META_OFF);
    h->meta_bytes = uzw_rd_u64(in + UZW_H_META_BYTES);
    h->table_off = uzw_rd_u64(in + UZW_H_TABLE_OFF);
    h->table_bytes = uzw_rd_u64(in + UZW_H_TABLE_BYTES);
    h->data_off = uzw_rd_u64(in + UZW_H_DATA_OFF);
    h->data_bytes = uzw_rd_u64(in + UZW_H_DATA_BYTES);
    h->n_meta = uzw_rd_u32(in + UZW_H_N_META);
    h->n_tensors = uzw_rd_u32(in + UZW_H_N_TENSORS);
    h->align = uzw_rd_u32(in + UZW_H_ALIGN);
    h->meta_crc32 = uzw_rd_u32(in + UZW_H_META_CRC);
    h->table_crc32 = uzw_rd_u32(in + UZW_H_TABLE_CRC);
    h->data_crc32 = uzw_rd_u32(in + UZW_H_DATA_CRC);
}

void uzw_header_encode(const uzw_wheader *h, uint8_t out[UZW_HEADER_BYTES]) {
    memset(out, 0, UZW_HEADER_BYTES);
    memcpy(out + UZW_H_MAGIC, h->magic, 8);
    uzw_wr_u32(out + UZW_H_VERSION, h->version);
    uzw_wr_u32(out + UZW_H_HEADER_BYTES, h->header_bytes);
    uzw_wr_u64(out + UZW_H_FILE_BYTES, h->file_bytes);
    uzw_wr_u64(out + UZW_H_META_OFF, h->meta_off);
    uzw_wr_u64(out + UZW_H_META_BYTES, h->meta_bytes);
    uzw_wr_u64(out + UZW_H_TABLE_OFF, h->table_off);
    uzw_wr_u64(out + UZW_H_TABLE_BYTES, h->table_bytes);
    uzw_wr_u64(out + UZW_H_DATA_OFF, h->data_off);
    uzw_wr_u64(out + UZW_H_DATA_BYTES, h->data_bytes);
    uzw_wr_u32(out + UZW_H_N_META, h->n_meta);
    uzw_wr_u32(out + UZW_H_N_TENSORS, h->n_tensors);
    uzw_wr_u32(out + UZW_H_ALIGN, h->align);
    uzw_wr_u32(out + UZW_H_META_CRC, h->meta_crc32);
    uzw_wr_u32(out + UZW_H_TABLE_CRC, h->table_crc32);
    uzw_wr_u32(out + UZW_H_DATA_CRC, h->data_crc32);
}

uint32_t uzw_crc32(uint32_t crc, const uint8_t *p, uint64_t n) {
    while (n > 0) {
        uInt chunk = n > (1u << 30) ? (1u << 30) : (uInt)n;
        crc = (uint32_t)crc32(crc, p, chunk);
        p += chunk;
        n -= chunk;
    }
    return crc;
}

/* ---------------------------------------------------------------- header and regions */

static int check_region(const char *what, uint64_t off, uint64_t bytes, uint64_t size, char *err, size_t n) {
    if (off < UZW_HEADER_BYTES)
        return uzw_errf(err, n, "bad header: the %s starts at byte %llu, inside the %u-byte header", what, (ull)off,
                    UZW_HEADER_BYTES);
    if (off > size || bytes > size - off)
        return uzw_errf(err, n, "bad header: the %s [%llu, +%llu) runs past the end of the file (%llu bytes)", what,
                    (ull)off, (ull)bytes, (ull)size);
    return 0;
}

static int overlap(uint64_t a, uint64_t an, uint64_t b, uint64_t bn) {
    return an > 0 && bn > 0 && a < b + bn && b < a + an; /* sums cannot overflow: both inside the file */
}

static int check_header(const uint8_t *base, size_t size, uzw_wheader *h, char *err, size_t n) {
    if (size == 0) return uzw_errf(err, n, "not a uzwhisper weight file: the file is empty (0 bytes)");
    size_t m = size < 8 ? size : 8;
    if (memcmp(base, UZW_MAGIC, m) != 0)
        return uzw_errf(err, n, "not a uzwhisper weight file (bad magic: expected \"%s\")", UZW_MAGIC);
    if (size < UZW_HEADER_BYTES)
        return uzw_errf(err, n, "truncated: file has %zu bytes, shorter than the %u-byte header", size,
                    UZW_HEADER_BYTES);
    uzw_header_decode(base, h);
    if (h->version != UZW_FORMAT_VERSION)
        return uzw_errf(err, n,
                    "unsupported weight file version %u: this build reads version %u; re-run `uzwhisper convert` "
                    "to rebuild the file from the original weights",
                    h->version, UZW_FORMAT_VERSION);
    if (h->header_bytes != UZW_HEADER_BYTES)
        return uzw_errf(err, n, "bad header: header_bytes is %u, expected %u", h->header_bytes, UZW_HEADER_BYTES);
    if (h->align != UZW_ALIGN) return uzw_errf(err, n, "bad header: align is %u, expected %u", h->align, UZW_ALIGN);
    if (h->file_bytes > size)
        return uzw_errf(err, n, "truncated: header says %llu bytes, file has %zu", (ull)h->file_bytes, size);
    if (h->file_bytes < size)
        return uzw_errf(err, n, "trailing bytes: header says %llu bytes, file has %zu", (ull)h->file_bytes, size);
    if (h->n_tensors > UZW_MAX_TENSORS)
        return uzw_errf(err, n, "too many tensors: %u (limit %u)", h->n_tensors, UZW_MAX_TENSORS);
    if (h->meta_bytes > UZW_MAX_META_BYTES)
        return uzw_errf(err, n, "metadata too large: %llu bytes (limit %u)", (ull)h->meta_bytes, UZW_MAX_META_BYTES);
    if (check_region("metadata", h->meta_off, h->meta_bytes, size, err, n) ||
        check_region("tensor table", h->table_off, h->table_bytes, size, err, n) ||
        check_region("tensor data", h->data_off, h->data_bytes, size, err, n))
        return -1;
    if (h->data_off % UZW_ALIGN != 0)
        return uzw_errf(err, n, "bad header: data_off %llu is not a multiple of %u", (ull)h->data_off, UZW_ALIGN);
    if (overlap(h->meta_off, h->meta_bytes, h->table_off, h->table_bytes) ||
        overlap(h->meta_off, h->meta_bytes, h->data_off, h->data_bytes) ||
        overlap(h->table_off, h->table_bytes, h->data_off, h->data_bytes))
        return uzw_errf(err, n, "bad header: the metadata, tensor table and tensor data regions overlap");
    /* every record needs at least its fixed part plus one name byte */
    if (h->n_meta > h->meta_bytes / (UZW_META_FIXED + 1))
        return uzw_errf(err, n, "bad header: %u metadata records cannot fit in %llu bytes", h->n_meta,
                    (ull)h->meta_bytes);
    if (h->n_tensors > h->table_bytes / (UZW_TREC_FIXED + 1))
        return uzw_errf(err, n, "bad header: %u tensor records cannot fit in %llu bytes", h->n_tensors,
                    (ull)h->table_bytes);
    uint32_t crc = uzw_crc32((uint32_t)crc32(0, Z_NULL, 0), base + h->meta_off, h->meta_bytes);
    if (crc != h->meta_crc32)
        return uzw_errf(err, n, "metadata checksum mismatch (crc32 stored 0x%08x, computed 0x%08x): the file is corrupt",
                    h->meta_crc32, crc);
    crc = uzw_crc32((uint32_t)crc32(0, Z_NULL, 0), base + h->table_off, h->table_bytes);
    if (crc != h->table_crc32)
        return uzw_errf(err, n,
                    "tensor table checksum mismatch (crc32 stored 0x%08x, computed 0x%08x): the file is corrupt",
                    h->table_crc32, crc);
    return 0;
}

/* ---------------------------------------------------------------- metadata records */

static const char *meta_type_name(uint32_t t) {
    static const char *names[] = {"?", "u32", "i32", "f32", "str", "i32_arr", "f32_arr", "bytes_arr"};
    return t < sizeof names / sizeof names[0] ? names[t] : "?";
}

/* Check that value (value_bytes) holds exactly count items of (u32 len, bytes). */
static int check_bytes_arr(const uint8_t *v, uint64_t vb, uint32_t count) {
    if (count > vb / 4) return -1;
    uint64_t pos = 0;
    for (uint32_t i = 0; i < count; i++) {
        if (vb - pos < 4) return -1;
        uint32_t len = uzw_rd_u32(v + pos);
        pos += 4;
        if (len > vb - pos) return -1;
        pos += len;
    }
    return pos == vb ? 0 : -1;
}

static int check_meta_value(const uzw_meta *m, char *err, size_t n) {
    uint64_t vb = m->value_bytes;
    switch (m->type) {
    case UZW_MT_U32:
    case UZW_MT_I32:
    case UZW_MT_F32:
        if (m->count != 1 || vb != 4)
            return uzw_errf(err, n, "metadata key '%s': a %s scalar needs count 1 and 4 bytes, has count %u, %llu bytes",
                        m->key, meta_type_name(m->type), m->count, (ull)vb);
        return 0;
    case UZW_MT_STR:
        if (vb != m->count)
            return uzw_errf(err, n, "metadata key '%s': string count %u differs from its %llu value bytes", m->key,
                        m->count, (ull)vb);
        if (memchr(m->value, 0, vb))
            return uzw_errf(err, n, "metadata key '%s': string contains a NUL byte", m->key);
        return 0;
    case UZW_MT_I32_ARR:
    case UZW_MT_F32_ARR:
        if (vb != 4ull * m->count)
            return uzw_errf(err, n, "metadata key '%s': %s of %u elements needs %llu bytes, has %llu", m->key,
                        meta_type_name(m->type), m->count, 4ull * m->count, (ull)vb);
        return 0;
    case UZW_MT_BYTES_ARR:
        if (check_bytes_arr(m->value, vb, m->count))
            return uzw_errf(err, n, "metadata key '%s': bytes_arr of %u items does not fill its %llu bytes exactly",
                        m->key, m->count, (ull)vb);
        return 0;
    }
    return uzw_errf(err, n, "metadata key '%s': unknown value type %u", m->key, (unsigned)m->type);
}

static int cmp_meta_key(const void *a, const void *b) {
    return strcmp((*(const uzw_meta *const *)a)->key, (*(const uzw_meta *const *)b)->key);
}

static int parse_meta(const uint8_t *p, const uzw_wheader *h, uzw_meta *out, char *err, size_t n) {
    uint64_t size = h->meta_bytes, pos = 0;
    for (uint32_t i = 0; i < h->n_meta; i++) {
        uzw_meta *m = &out[i];
        if (size - pos < 4) return uzw_errf(err, n, "metadata record %u: runs past the end of the metadata", i);
        uint32_t klen = uzw_rd_u32(p + pos);
        pos += 4;
        if (klen < 1 || klen > UZW_MAX_KEY)
            return uzw_errf(err, n, "metadata record %u: key length %u is out of range (1..%u)", i, klen, UZW_MAX_KEY);
        if (size - pos < (uint64_t)klen + 16)
            return uzw_errf(err, n, "metadata record %u: runs past the end of the metadata", i);
        for (uint32_t c = 0; c < klen; c++)
            if (!uzw_name_char_ok(p[pos + c]))
                return uzw_errf(err, n, "metadata record %u: key has byte 0x%02x (keys are printable ASCII, no spaces)",
                            i, p[pos + c]);
        memcpy(m->key, p + pos, klen);
        m->key[klen] = 0;
        pos += klen;
        uint32_t type = uzw_rd_u32(p + pos);
        m->count = uzw_rd_u32(p + pos + 4);
        m->value_bytes = uzw_rd_u64(p + pos + 8);
        pos += 16;
        if (type < UZW_MT_U32 || type > UZW_MT_BYTES_ARR)
            return uzw_errf(err, n, "metadata key '%s': unknown value type %u", m->key, type);
        m->type = (uzw_meta_type)type;
        if (m->value_bytes > size - pos)
            return uzw_errf(err, n, "metadata key '%s': value of %llu bytes runs past the end of the metadata", m->key,
                        (ull)m->value_bytes);
        m->value = p + pos;
        pos += m->value_bytes;
        if (check_meta_value(m, err, n)) return -1;
    }
    if (pos != size)
        return uzw_errf(err, n, "metadata: %llu unexpected bytes after the last of %u records", (ull)(size - pos),
                    h->n_meta);
    if (h->n_meta < 2) return 0;
    const uzw_meta **sorted = malloc(h->n_meta * sizeof *sorted);
    if (!sorted) return uzw_errf(err, n, "out of memory checking %u metadata keys", h->n_meta);
    for (uint32_t i = 0; i < h->n_meta; i++) sorted[i] = &out[i];
    qsort(sorted, h->n_meta, sizeof *sorted, cmp_meta_key);
    int rc = 0;
    for (uint32_t i = 1; i < h->n_meta && rc == 0; i++)
        if (strcmp(sorted[i - 1]->key, sorted[i]->key) == 0)
            rc = uzw_errf(err, n, "metadata key '%s' appears more than once", sorted[i]->key);
    free(sorted);
    return rc;
}

/* ---------------------------------------------------------------- tensor table */

static int parse_tensor(const uint8_t *p, uint64_t size, uint64_t *pos_io, uint32_t i, const uint8_t *data,
                        uint64_t data_bytes, uzw_tensor *t, char *err, size_t n) {
    uint64_t pos = *pos_io;
    if (size - pos < 4) return uzw_errf(err, n, "tensor record %u: runs past the end of the table", i);
    uint32_t nlen = uzw_rd_u32(p + pos);
    pos += 4;
    if (nlen < 1 || nlen >= UZW_MAX_NAME)
        return uzw_errf(err, n, "tensor record %u: name length %u is out of range (1..%u)", i, nlen, UZW_MAX_NAME - 1);
    if (size - pos < (uint64_t)nlen + (UZW_TREC_FIXED - 4))
        return uzw_errf(err, n, "tensor record %u: runs past the end of the table", i);
    for (uint32_t c = 0; c < nlen; c++)
        if (!uzw_name_char_ok(p[pos + c]))
            return uzw_errf(err, n, "tensor record %u: name has byte 0x%02x (names are printable ASCII, no spaces)", i,
                        p[pos + c]);
    memcpy(t->name, p + pos, nlen);
    t->name[nlen] = 0;
    pos += nlen;
    uint32_t dtype = uzw_rd_u32(p + pos), n_dims = uzw_rd_u32(p + pos + 4);
    pos += 8;
    uint64_t dims[UZW_MAX_DIMS];
    for (int d = 0; d < UZW_MAX_DIMS; d++, pos += 8) dims[d] = uzw_rd_u64(p + pos);
    t->offset = uzw_rd_u64(p + pos);
    t->nbytes = uzw_rd_u64(p + pos + 8);
    pos += 16;
    *pos_io = pos;

    if (dtype >= UZW_DT_COUNT) return uzw_errf(err, n, "tensor '%s': unknown dtype %u", t->name, dtype);
    t->dtype = (uzw_dtype)dtype;
    if (n_dims < 1 || n_dims > UZW_MAX_DIMS)
        return uzw_errf(err, n, "tensor '%s': %u dims (must be 1..%d)", t->name, n_dims, UZW_MAX_DIMS);
    t->n_dims = (int)n_dims;
    uint64_t numel = 1;
    for (uint32_t d = 0; d < UZW_MAX_DIMS; d++) {
        if (d >= n_dims) {
            if (dims[d] != 0) return uzw_errf(err, n, "tensor '%s': unused dim %u is %llu, must be 0", t->name, d, (ull)dims[d]);
            t->dims[d] = 0;
            continue;
        }
        if (dims[d] == 0) return uzw_errf(err, n, "tensor '%s': dim %u is 0", t->name, d);
        if (dims[d] > data_bytes || numel > data_bytes / dims[d])
            return uzw_errf(err, n, "tensor '%s': absurd dims (dim %u = %llu): more elements than the %llu data bytes",
                        t->name, d, (ull)dims[d], (ull)data_bytes);
        numel *= dims[d];
        t->dims[d] = (int64_t)dims[d]; /* <= data_bytes < 2^63 */
    }
    uint64_t esize = uzw_dtype_size(t->dtype);
    if (numel > UINT64_MAX / esize || t->nbytes != numel * esize)
        return uzw_errf(err, n, "tensor '%s': nbytes %llu does not match %llu elements of %s", t->name, (ull)t->nbytes,
                    (ull)numel, uzw_dtype_name(t->dtype));
    if (t->offset % UZW_ALIGN != 0)
        return uzw_errf(err, n, "tensor '%s': offset %llu is not a multiple of %u", t->name, (ull)t->offset, UZW_ALIGN);
    if (t->offset > data_bytes || t->nbytes > data_bytes - t->offset)
        return uzw_errf(err, n, "tensor '%s': data [%llu, +%llu) is out of bounds of the %llu-byte data region", t->name,
                    (ull)t->offset, (ull)t->nbytes, (ull)data_bytes);
    t->data = data + t->offset;
    return 0;
}

static int cmp_offset(const void *a, const void *b) {
    const uzw_tensor *x = *(const uzw_tensor *const *)a, *y = *(const uzw_tensor *const *)b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static int cmp_name(const void *a, const void *b) {
    return strcmp((*(const uzw_tensor *const *)a)->name, (*(const uzw_tensor *const *)b)->name);
}

/* An i8 tensor needs "<name>.scale": f32 [dims[0]]. sorted: the tensors by name. */
static int check_i8_scale(const uzw_tensor *t, const uzw_tensor **sorted, uint32_t count, char *err, size_t n) {
    uzw_tensor key;
    const uzw_tensor *kp = &key, *sc = NULL;
    size_t len = strlen(t->name);
    if (len + 6 < UZW_MAX_NAME) {
        memcpy(key.name, t->name, len);
        memcpy(key.name + len, ".scale", 7);
        const uzw_tensor **hit = bsearch(&kp, sorted, count, sizeof *sorted, cmp_name);
        sc = hit ? *hit : NULL;
    }
    if (!sc || sc->dtype != UZW_DT_F32 || sc->n_dims != 1 || sc->dims[0] != t->dims[0])
        return uzw_errf(err, n, "tensor '%s' is i8 but has no scale tensor '%s.scale' of f32 [%lld]", t->name, t->name,
                    (long long)t->dims[0]);
    return 0;
}

static int parse_table(const uint8_t *base, const uzw_wheader *h, uzw_tensor *out, char *err, size_t n) {
    const uint8_t *p = base + h->table_off;
    uint64_t pos = 0;
    for (uint32_t i = 0; i < h->n_tensors; i++)
        if (parse_tensor(p, h->table_bytes, &pos, i, base + h->data_off, h->data_bytes, &out[i], err, n)) return -1;
    if (pos != h->table_bytes)
        return uzw_errf(err, n, "tensor table: %llu unexpected bytes after the last of %u records",
                    (ull)(h->table_bytes - pos), h->n_tensors);
    if (h->n_tensors < 2) return 0;
    const uzw_tensor **s = malloc(h->n_tensors * sizeof *s);
    if (!s) return uzw_errf(err, n, "out of memory checking %u tensors", h->n_tensors);
    for (uint32_t i = 0; i < h->n_tensors; i++) s[i] = &out[i];
    int rc = 0;
    qsort(s, h->n_tensors, sizeof *s, cmp_offset);
    for (uint32_t i = 1; i < h->n_tensors && rc == 0; i++)
        if (s[i]->offset < s[i - 1]->offset + s[i - 1]->nbytes)
            rc = uzw_errf(err, n, "tensors '%s' and '%s' overlap in the data region", s[i - 1]->name, s[i]->name);
    qsort(s, h->n_tensors, sizeof *s, cmp_name);
    for (uint32_t i = 1; i < h->n_tensors && rc == 0; i++)
        if (strcmp(s[i - 1]->name, s[i]->name) == 0)
            rc = uzw_errf(err, n, "duplicate tensor name '%s'", s[i]->name);
    for (uint32_t i = 0; i < h->n_tensors && rc == 0; i++)
        if (out[i].dtype == UZW_DT_I8) rc = check_i8_scale(&out[i], s, h->n_tensors, err, n);
    free(s);
    return rc;
}

/* ---------------------------------------------------------------- open / close */

static int parse(const uint8_t *base, size_t size, uzw_wfile *wf, char *err, size_t n) {
    memset(wf, 0, sizeof *wf);
    if (check_header(base, size, &wf->hdr, err, n)) return -1;
    wf->base = base;
    wf->size = size;
    wf->meta = calloc(wf->hdr.n_meta ? wf->hdr.n_meta : 1, sizeof *wf->meta);
    wf->tensors = calloc(wf->hdr.n_tensors ? wf->hdr.n_tensors : 1, sizeof *wf->tensors);
    if (!wf->meta || !wf->tensors) {
        uzw_errf(err, n, "out of memory for %u metadata records and %u tensors", wf->hdr.n_meta, wf->hdr.n_tensors);
        goto bad;
    }
    if (parse_meta(base + wf->hdr.meta_off, &wf->hdr, wf->meta, err, n)) goto bad;
    if (parse_table(base, &wf->hdr, wf->tensors, err, n)) goto bad;
    return 0;
bad:
    free(wf->meta);
    free(wf->tensors);
    memset(wf, 0, sizeof *wf);
    return -1;
}

int uzw_wfile_from_memory(const void *data, size_t size, uzw_wfile *wf, char *err, size_t err_size) {
    if (!wf) return uzw_errf(err, err_size, "uzw_wfile_from_memory: no output given");
    if (!data && size) {
        memset(wf, 0, sizeof *wf);
        return uzw_errf(err, err_size, "uzw_wfile_from_memory: NULL data of %zu bytes", size);
    }
    return parse(data, size, wf, err, err_size);
}

int uzw_wfile_open(const char *path, uzw_wfile *wf, char *err, size_t err_size) {
    if (!wf) return uzw_errf(err, err_size, "uzw_wfile_open: no output given");
    memset(wf, 0, sizeof *wf);
    if (!path) return uzw_errf(err, err_size, "uzw_wfile_open: no path given");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return uzw_errf(err, err_size, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return uzw_errf(err, err_size, "%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return uzw_errf(err, err_size, "%s: not a regular file", path);
    }
    if ((uint64_t)st.st_size > SIZE_MAX) {
        close(fd);
        return uzw_errf(err, err_size, "%s: too large to map (%llu bytes)", path, (ull)st.st_size);
    }
    size_t size = (size_t)st.st_size;
    void *map = NULL;
    if (size > 0) {
        map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) {
            int e = errno;
            close(fd);
            return uzw_errf(err, err_size, "%s: cannot mmap %zu bytes: %s", path, size, strerror(e));
        }
    }
    if (close(fd) != 0) {
        int e = errno;
        if (map) munmap(map, size);
        return uzw_errf(err, err_size, "%s: close failed: %s", path, strerror(e));
    }
    char msg[512];
    if (parse(map, size, wf, msg, sizeof msg)) {
        if (map) munmap(map, size);
        return uzw_errf(err, err_size, "%s: %s", path, msg);
    }
    wf->mapped = map != NULL;
    return 0;
}

void uzw_wfile_close(uzw_wfile *wf) {
    if (!wf) return;
    if (wf->mapped && wf->base) munmap((void *)wf->base, wf->size);
    free(wf->meta);
    free(wf->tensors);
    memset(wf, 0, sizeof *wf);
}

int uzw_wfile_verify_data(const uzw_wfile *wf, char *err, size_t err_size) {
    if (!wf || !wf->base) return uzw_errf(err, err_size, "verify: no open weight file");
    uint32_t crc = uzw_crc32((uint32_t)crc32(0, Z_NULL, 0), wf->base + wf->hdr.data_off, wf->hdr.data_bytes);
    if (crc != wf->hdr.data_crc32)
        return uzw_errf(err, err_size,
                    "tensor data checksum mismatch (crc32 stored 0x%08x, computed 0x%08x): the weights are corrupt",
                    wf->hdr.data_crc32, crc);
    return 0;
}

/* ---------------------------------------------------------------- queries */

const uzw_meta *uzw_wfile_meta(const uzw_wfile *wf, const char *key) {
    if (!wf || !key || !wf->meta) return NULL;
    for (uint32_t i = 0; i < wf->hdr.n_meta; i++)
        if (strcmp(wf->meta[i].key, key) == 0) return &wf->meta[i];
    return NULL;
}

const uzw_tensor *uzw_wfile_tensor(const uzw_wfile *wf, const char *name) {
    if (!wf || !name || !wf->tensors) return NULL;
    for (uint32_t i = 0; i < wf->hdr.n_tensors; i++)
        if (strcmp(wf->tensors[i].name, name) == 0) return &wf->tensors[i];
    return NULL;
}

int uzw_meta_get_i32(const uzw_wfile *wf, const char *key, int32_t *out, char *err, size_t err_size) {
    const uzw_meta *m = uzw_wfile_meta(wf, key);
    if (!m) return uzw_errf(err, err_size, "metadata key '%s' is missing", key ? key : "(null)");
    if (m->type == UZW_MT_I32 || m->type == UZW_MT_U32) {
        uint32_t u = uzw_rd_u32(m->value);
        if (m->type == UZW_MT_U32 && u > INT32_MAX)
            return uzw_errf(err, err_size, "metadata key '%s': u32 value %u does not fit in i32", key, u);
        int32_t v;
        memcpy(&v, &u, 4);
        if (out) *out = v;
        return 0;
    }
    return uzw_errf(err, err_size, "metadata key '%s' has type %s, expected i32", key, meta_type_name(m->type));
}

int uzw_meta_get_str(const uzw_wfile *wf, const char *key, const char **s, uint32_t *len, char *err,
                     size_t err_size) {
    const uzw_meta *m = uzw_wfile_meta(wf, key);
    if (!m) return uzw_errf(err, err_size, "metadata key '%s' is missing", key ? key : "(null)");
    if (m->type != UZW_MT_STR)
        return uzw_errf(err, err_size, "metadata key '%s' has type %s, expected str", key, meta_type_name(m->type));
    if (s) *s = (const char *)m->value; /* not NUL-terminated: use *len */
    if (len) *len = m->count;
    return 0;
}

int32_t uzw_meta_i32_at(const uzw_meta *m, uint32_t i) {
    if (!m || !m->value || i >= m->count) return 0;
    if (m->type != UZW_MT_I32_ARR && m->type != UZW_MT_I32 && m->type != UZW_MT_U32) return 0;
    uint32_t u = uzw_rd_u32(m->value + 4ull * i); /* unaligned, little-endian on disk */
    int32_t v;
    memcpy(&v, &u, 4);
    return v;
}

float uzw_meta_f32_at(const uzw_meta *m, uint32_t i) {
    if (!m || !m->value || i >= m->count) return 0.0f;
    if (m->type != UZW_MT_F32_ARR && m->type != UZW_MT_F32) return 0.0f;
    uint32_t u = uzw_rd_u32(m->value + 4ull * i);
    float v;
    memcpy(&v, &u, 4);
    return v;
}
