/*
 * wfile_write.c - the .uzw builder: collect metadata records and tensors in memory, lay them out
 * (header, metadata, table, 64-byte aligned data), compute the checksums and write the file
 * atomically ("<path>.tmp.<pid>", fsync, rename). Spec: docs/weight-format.md.
 * The add calls take no error buffer: the first failure is remembered in the builder, the call
 * returns -1, and uzw_wbuild_write reports it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/util.h"
#include "wfile_layout.h"
#include "wformat.h"

typedef unsigned long long ull;

typedef struct {
    char key[UZW_MAX_KEY + 1];
    uzw_meta_type type;
    uint32_t count;
    uint8_t *value;           /* owned, value_bytes */
    uint64_t value_bytes;
} wmeta;

typedef struct {
    char name[UZW_MAX_NAME];
    uzw_dtype dtype;
    uint32_t n_dims;
    uint64_t dims[UZW_MAX_DIMS];
    uint8_t *data;            /* owned, nbytes */
    uint64_t nbytes;
    uint64_t offset;          /* from data_off, set at layout */
} wtensor;

struct uzw_wbuild {
    wmeta *meta;
    uint32_t n_meta, cap_meta;
    uint64_t meta_bytes;      /* on-disk size of all records so far */
    wtensor *t;
    uint32_t n_t, cap_t;
    int failed;
    char err[512];            /* the first error */
};

static int bfail(uzw_wbuild *b, const char *fmt, ...) {
    if (b && !b->failed) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(b->err, sizeof b->err, fmt, ap);
        va_end(ap);
        b->failed = 1;
    }
    return -1;
}

uzw_wbuild *uzw_wbuild_new(void) { return calloc(1, sizeof(uzw_wbuild)); }

void uzw_wbuild_free(uzw_wbuild *b) {
    if (!b) return;
    for (uint32_t i = 0; i < b->n_meta; i++) free(b->meta[i].value);
    for (uint32_t i = 0; i < b->n_t; i++) free(b->t[i].data);
    free(b->meta);
    free(b->t);
    free(b);
}

/* 0 if s is 1..max_len printable ASCII bytes without spaces. */
static int name_ok(const char *s, size_t max_len) {
    if (!s) return -1;
    size_t n = strnlen(s, max_len + 1);
    if (n < 1 || n > max_len) return -1;
    for (size_t i = 0; i < n; i++)
        if (!uzw_name_char_ok((uint8_t)s[i])) return -1;
    return 0;
}

/* ---------------------------------------------------------------- metadata */

/* Append a record taking ownership of value (malloc'ed, freed on failure). */
static int add_meta(uzw_wbuild *b, const char *key, uzw_meta_type type, uint32_t count, uint8_t *value,
                    uint64_t value_bytes) {
    if (!b) { free(value); return -1; }
    if (b->failed) { free(value); return -1; }
    if (name_ok(key, UZW_MAX_KEY)) {
        free(value);
        return bfail(b, "metadata key '%.80s' is invalid: 1..%u printable ASCII bytes, no spaces", key ? key : "(null)",
                     UZW_MAX_KEY);
    }
    for (uint32_t i = 0; i < b->n_meta; i++)
        if (strcmp(b->meta[i].key, key) == 0) {
            free(value);
            return bfail(b, "metadata key '%s' added twice", key);
        }
    uint64_t rec = UZW_META_FIXED + strlen(key) + value_bytes;
    if (value_bytes > UZW_MAX_META_BYTES || b->meta_bytes + rec > UZW_MAX_META_BYTES) {
        free(value);
        return bfail(b, "metadata key '%s': metadata would exceed %u bytes", key, UZW_MAX_META_BYTES);
    }
    if (b->n_meta == b->cap_meta) {
        uint32_t cap = b->cap_meta ? 2 * b->cap_meta : 16;
        wmeta *m = realloc(b->meta, cap * sizeof *m);
        if (!m) { free(value); return bfail(b, "out of memory adding metadata key '%s'", key); }
        b->meta = m;
        b->cap_meta = cap;
    }
    wmeta *m = &b->meta[b->n_meta++];
    memset(m, 0, sizeof *m);
    snprintf(m->key, sizeof m->key, "%s", key);
    m->type = type;
    m->count = count;
    m->value = value;
    m->value_bytes = value_bytes;
    b->meta_bytes += rec;
    return 0;
}

static uint8_t *dup_bytes(const void *p, uint64_t n) {
    uint8_t *q = malloc(n ? n : 1);
    if (q && n) memcpy(q, p, n);
    return q;
}

int uzw_wbuild_meta_copy(uzw_wbuild *b, const uzw_meta *m) {
    uint8_t *v = dup_bytes(m->value, m->value_bytes);
    if (!v) return bfail(b, "out of memory copying metadata key '%s'", m->key);
    return add_meta(b, m->key, m->type, m->count, v, m->value_bytes);
}

static int add_scalar(uzw_wbuild *b, const char *key, uzw_meta_type type, uint32_t bits) {
    uint8_t *v = malloc(4);
    if (!v) return bfail(b, "out of memory adding metadata key '%s'", key ? key : "(null)");
    uzw_wr_u32(v, bits);
    return add_meta(b, key, type, 1, v, 4);
}

int uzw_wbuild_u32(uzw_wbuild *b, const char *key, uint32_t v) { return add_scalar(b, key, UZW_MT_U32, v); }

int uzw_wbuild_i32(uzw_wbuild *b, const char *key, int32_t v) {
    uint32_t u;
    memcpy(&u, &v, 4);
    return add_scalar(b, key, UZW_MT_I32, u);
}

int uzw_wbuild_f32(uzw_wbuild *b, const char *key, float v) {
    uint32_t u;
    memcpy(&u, &v, 4);
    return add_scalar(b, key, UZW_MT_F32, u);
}

int uzw_wbuild_str(uzw_wbuild *b, const char *key, const char *s) {
    if (!s) return bfail(b, "metadata key '%s': NULL string", key ? key : "(null)");
    size_t n = strlen(s);
    if (n > UZW_MAX_META_BYTES) return bfail(b, "metadata key '%s': string of %zu bytes is too long", key, n);
    uint8_t *v = dup_bytes(s, n);
    if (!v) return bfail(b, "out of memory adding metadata key '%s'", key ? key : "(null)");
    return add_meta(b, key, UZW_MT_STR, (uint32_t)n, v, n);
}

static int add_arr32(uzw_wbuild *b, const char *key, uzw_meta_type type, const void *vals, uint32_t n) {
    if (!vals && n) return bfail(b, "metadata key '%s': NULL array of %u elements", key ? key : "(null)", n);
    if ((uint64_t)n * 4 > UZW_MAX_META_BYTES) return bfail(b, "metadata key '%s': array of %u is too long", key, n);
    uint8_t *v = malloc(n ? 4ull * n : 1);
    if (!v) return bfail(b, "out of memory adding metadata key '%s'", key ? key : "(null)");
    const uint8_t *src = vals;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, src + 4ull * i, 4);
        uzw_wr_u32(v + 4ull * i, u);
    }
    return add_meta(b, key, type, n, v, 4ull * n);
}

int uzw_wbuild_i32_arr(uzw_wbuild *b, const char *key, const int32_t *v, uint32_t n) {
    return add_arr32(b, key, UZW_MT_I32_ARR, v, n);
}

int uzw_wbuild_f32_arr(uzw_wbuild *b, const char *key, const float *v, uint32_t n) {
    return add_arr32(b, key, UZW_MT_F32_ARR, v, n);
}

int uzw_wbuild_bytes_arr(uzw_wbuild *b, const char *key, const uint8_t *const *items, const uint32_t *lens,
                         uint32_t n) {
    if (n && (!items || !lens)) return bfail(b, "metadata key '%s': NULL items", key ? key : "(null)");
    uint64_t total = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (!items[i] && lens[i]) return bfail(b, "metadata key '%s': item %u is NULL", key ? key : "(null)", i);
        total += 4ull + lens[i];
        if (total > UZW_MAX_META_BYTES)
            return bfail(b, "metadata key '%s': bytes_arr exceeds %u bytes", key ? key : "(null)", UZW_MAX_META_BYTES);
    }
    uint8_t *v = malloc(total ? total : 1), *p = v;
    if (!v) return bfail(b, "out of memory adding metadata key '%s'", key ? key : "(null)");
    for (uint32_t i = 0; i < n; i++) {
        uzw_wr_u32(p, lens[i]);
        if (lens[i]) memcpy(p + 4, items[i], lens[i]);
        p += 4ull + lens[i];
    }
    return add_meta(b, key, UZW_MT_BYTES_ARR, n, v, total);
}

/* ---------------------------------------------------------------- tensors */

/* Validate name/dtype/dims and reserve a slot; returns the slot or NULL (error recorded). */
static wtensor *new_tensor(uzw_wbuild *b, const char *name, uzw_dtype dtype, int n_dims, const int64_t *dims) {
    if (!b || b->failed) return NULL;
    if (name_ok(name, UZW_MAX_NAME - 1)) {
        bfail(b, "tensor name '%.100s' is invalid: 1..%u printable ASCII bytes, no spaces", name ? name : "(null)",
              UZW_MAX_NAME - 1);
        return NULL;
    }
    if ((unsigned)dtype >= UZW_DT_COUNT) { bfail(b, "tensor '%s': unknown dtype %d", name, (int)dtype); return NULL; }
    if (n_dims < 1 || n_dims > UZW_MAX_DIMS || !dims) {
        bfail(b, "tensor '%s': %d dims (must be 1..%d)", name, n_dims, UZW_MAX_DIMS);
        return NULL;
    }
    uint64_t numel = 1;
    for (int d = 0; d < n_dims; d++) {
        if (dims[d] <= 0 || (uint64_t)dims[d] > (UINT64_MAX >> 4) / numel) {
            bfail(b, "tensor '%s': dim %d = %lld is not a positive size", name, d, (long long)dims[d]);
            return NULL;
        }
        numel *= (uint64_t)dims[d];
    }
    if (b->n_t >= UZW_MAX_TENSORS) { bfail(b, "tensor '%s': more than %u tensors", name, UZW_MAX_TENSORS); return NULL; }
    for (uint32_t i = 0; i < b->n_t; i++)
        if (strcmp(b->t[i].name, name) == 0) { bfail(b, "tensor '%s' added twice", name); return NULL; }
    if (b->n_t == b->cap_t) {
        uint32_t cap = b->cap_t ? 2 * b->cap_t : 64;
        wtensor *t = realloc(b->t, cap * sizeof *t);
        if (!t) { bfail(b, "out of memory adding tensor '%s'", name); return NULL; }
        b->t = t;
        b->cap_t = cap;
    }
    wtensor *t = &b->t[b->n_t];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->dtype = dtype;
    t->n_dims = (uint32_t)n_dims;
    for (int d = 0; d < n_dims; d++) t->dims[d] = (uint64_t)dims[d];
    t->nbytes = numel * uzw_dtype_size(dtype);
    return t;
}

int uzw_wbuild_tensor_f32(uzw_wbuild *b, const char *name, uzw_dtype dtype, int n_dims, const int64_t *dims,
                          const float *values) {
    if (dtype == UZW_DT_I8)
        return bfail(b, "tensor '%s': i8 needs quantised bytes and a '.scale' tensor: use uzw_wbuild_tensor_raw",
                     name ? name : "(null)");
    wtensor *t = new_tensor(b, name, dtype, n_dims, dims);
    if (!t) return -1;
    if (!values) return bfail(b, "tensor '%s': NULL values", name);
    if (t->nbytes > SIZE_MAX) return bfail(b, "tensor '%s': too large for memory", name);
    t->data = malloc(t->nbytes);
    if (!t->data) return bfail(b, "out of memory for tensor '%s' (%llu bytes)", name, (ull)t->nbytes);
    uint64_t n = t->nbytes / uzw_dtype_size(dtype);
    if (dtype == UZW_DT_F32) {
        memcpy(t->data, values, t->nbytes);
    } else {
        uint16_t *h = (uint16_t *)t->data;
        for (uint64_t i = 0; i < n; i++)
            h[i] = dtype == UZW_DT_F16 ? uzw_f32_to_f16(values[i]) : uzw_f32_to_bf16(values[i]);
    }
    b->n_t++;
    return 0;
}

int uzw_wbuild_tensor_raw(uzw_wbuild *b, const char *name, uzw_dtype dtype, int n_dims, const int64_t *dims,
                          const void *bytes, uint64_t nbytes) {
    wtensor *t = new_tensor(b, name, dtype, n_dims, dims);
    if (!t) return -1;
    if (nbytes != t->nbytes)
        return bfail(b, "tensor '%s': %llu bytes given, its shape and dtype %s need %llu", name, (ull)nbytes,
                     uzw_dtype_name(dtype), (ull)t->nbytes);
    if (!bytes) return bfail(b, "tensor '%s': NULL bytes", name);
    if (nbytes > SIZE_MAX) return bfail(b, "tensor '%s': too large for memory", name);
    t->data = dup_bytes(bytes, nbytes);
    if (!t->data) return bfail(b, "out of memory for tensor '%s' (%llu bytes)", name, (ull)nbytes);
    b->n_t++;
    return 0;
}

/* ---------------------------------------------------------------- layout and write */

static uint64_t align_up(uint64_t x) { return (x + UZW_ALIGN - 1) / UZW_ALIGN * UZW_ALIGN; }

/* Every i8 tensor needs "<name>.scale": f32 [dims[0]]. */
static int check_i8_scales(uzw_wbuild *b) {
    for (uint32_t i = 0; i < b->n_t; i++) {
        if (b->t[i].dtype != UZW_DT_I8) continue;
        char want[UZW_MAX_NAME + 8];
        snprintf(want, sizeof want, "%s.scale", b->t[i].name);
        const wtensor *s = NULL;
        for (uint32_t j = 0; j < b->n_t; j++)
            if (strcmp(b->t[j].name, want) == 0) s = &b->t[j];
        if (!s || s->dtype != UZW_DT_F32 || s->n_dims != 1 || s->dims[0] != b->t[i].dims[0])
            return bfail(b, "tensor '%s' is i8 but has no scale tensor '%s' of f32 [%llu]", b->t[i].name, want,
                         (ull)b->t[i].dims[0]);
    }
    return 0;
}

static int write_all(int fd, const uint8_t *p, uint64_t n) {
    while (n > 0) {
        size_t chunk = n > (1u << 30) ? (1u << 30) : (size_t)n;
        ssize_t w = write(fd, p, chunk);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        n -= (uint64_t)w;
    }
    return 0;
}

/* Header, metadata and table, padded to data_off. */
static uint8_t *encode_front(uzw_wbuild *b, uzw_wheader *h) {
    uint8_t *buf = calloc(1, h->data_off);
    if (!buf) return NULL;
    uint8_t *p = buf + h->meta_off;
    for (uint32_t i = 0; i < b->n_meta; i++) {
        const wmeta *m = &b->meta[i];
        uint32_t klen = (uint32_t)strlen(m->key);
        uzw_wr_u32(p, klen), memcpy(p + 4, m->key, klen), p += 4 + klen;
        uzw_wr_u32(p, (uint32_t)m->type), uzw_wr_u32(p + 4, m->count), uzw_wr_u64(p + 8, m->value_bytes), p += 16;
        if (m->value_bytes) memcpy(p, m->value, m->value_bytes);
        p += m->value_bytes;
    }
    for (uint32_t i = 0; i < b->n_t; i++) {
        const wtensor *t = &b->t[i];
        uint32_t nlen = (uint32_t)strlen(t->name);
        uzw_wr_u32(p, nlen), memcpy(p + 4, t->name, nlen), p += 4 + nlen;
        uzw_wr_u32(p, (uint32_t)t->dtype), uzw_wr_u32(p + 4, t->n_dims), p += 8;
        for (int d = 0; d < UZW_MAX_DIMS; d++, p += 8) uzw_wr_u64(p, t->dims[d]);
        uzw_wr_u64(p, t->offset), uzw_wr_u64(p + 8, t->nbytes), p += 16;
    }
    h->meta_crc32 = uzw_crc32((uint32_t)crc32(0, Z_NULL, 0), buf + h->meta_off, h->meta_bytes);
    h->table_crc32 = uzw_crc32((uint32_t)crc32(0, Z_NULL, 0), buf + h->table_off, h->table_bytes);
    uzw_header_encode(h, buf);
    return buf;
}

static void layout(uzw_wbuild *b, uzw_wheader *h) {
    static const uint8_t zeros[UZW_ALIGN];
    memset(h, 0, sizeof *h);
    memcpy(h->magic, UZW_MAGIC, 8);
    h->version = UZW_FORMAT_VERSION;
    h->header_bytes = UZW_HEADER_BYTES;
    h->align = UZW_ALIGN;
    h->n_meta = b->n_meta;
    h->n_tensors = b->n_t;
    h->meta_off = UZW_HEADER_BYTES;
    h->meta_bytes = b->meta_bytes;
    h->table_off = h->meta_off + h->meta_bytes;
    for (uint32_t i = 0; i < b->n_t; i++) h->table_bytes += UZW_TREC_FIXED + strlen(b->t[i].name);
    h->data_off = align_up(h->table_off + h->table_bytes);
    uint32_t crc = (uint32_t)crc32(0, Z_NULL, 0);
    uint64_t cur = 0;
    for (uint32_t i = 0; i < b->n_t; i++) {
        wtensor *t = &b->t[i];
        t->offset = cur;
        crc = uzw_crc32(crc, t->data, t->nbytes);
        uint64_t end = align_up(cur + t->nbytes);
        crc = uzw_crc32(crc, zeros, end - cur - t->nbytes);
        cur = end;
    }
    h->data_bytes = cur;
    h->data_crc32 = crc;
    h->file_bytes = h->data_off + h->data_bytes;
}

/* fsync the folder holding path so the rename is durable; 0 or an errno value. */
static int sync_dir(const char *path) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash) snprintf(dir, sizeof dir, ".");
    else if (slash == dir) dir[1] = 0;
    else *slash = 0;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return 0; /* cannot open the folder for syncing: the rename is done, nothing more to do */
    int rc = fsync(fd);
    int e = errno;
    close(fd); /* read-only descriptor: nothing to lose */
    return (rc != 0 && e != EINVAL) ? e : 0;
}

int uzw_wbuild_write(uzw_wbuild *b, const char *path, char *err, size_t err_size) {
#define WFAIL(...) uzw_errf(err, err_size, __VA_ARGS__)
    if (!b || !path) return WFAIL("uzw_wbuild_write: no builder or path given");
    if (b->failed) return WFAIL("%s: not written: %s", path, b->err);
    if (check_i8_scales(b)) return WFAIL("%s: not written: %s", path, b->err);
    uzw_wheader h;
    layout(b, &h);
    uint8_t *front = encode_front(b, &h);
    if (!front) return WFAIL("%s: out of memory for the %llu-byte header and table", path, (ull)h.data_off);
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        int e = errno;
        free(front);
        return WFAIL("%s: cannot create: %s", tmp, strerror(e));
    }
    static const uint8_t zeros[UZW_ALIGN];
    int rc = write_all(fd, front, h.data_off);
    free(front);
    for (uint32_t i = 0; i < b->n_t && rc == 0; i++) {
        const wtensor *t = &b->t[i];
        rc = write_all(fd, t->data, t->nbytes);
        if (rc == 0) rc = write_all(fd, zeros, align_up(t->nbytes) - t->nbytes);
    }
    if (rc != 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return WFAIL("%s: write failed: %s", tmp, strerror(e));
    }
    if (fsync(fd) != 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return WFAIL("%s: fsync failed: %s", tmp, strerror(e));
    }
    if (close(fd) != 0) {
        int e = errno;
        unlink(tmp);
        return WFAIL("%s: close failed: %s", tmp, strerror(e));
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return WFAIL("cannot rename %s to %s: %s", tmp, path, strerror(e));
    }
    int e = sync_dir(path);
    if (e != 0) return WFAIL("%s: written, but syncing its folder failed: %s", path, strerror(e));
    return 0;
#undef WFAIL
}
