/*
 * safetensors.c - parse and validate a safetensors image, convert tensors to f32, mmap files.
 * Sharded checkpoints (index.json) live in safetensors_set.c.
 */
#include "safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wformat.h"

/* ---------------------------------------------------------------- dtypes */
static const struct { const char *name; int bits; } st_dtypes[] = {
    {"BOOL", 8},  {"U8", 8},       {"I8", 8},       {"F8_E5M2", 8},      {"F8_E4M3", 8},
    {"F8_E8M0", 8}, {"F8_E4M3FNUZ", 8}, {"F8_E5M2FNUZ", 8}, {"I16", 16},  {"U16", 16},
    {"F16", 16},  {"BF16", 16},    {"I32", 32},     {"U32", 32},         {"F32", 32},
    {"F64", 64},  {"I64", 64},     {"U64", 64},     {"C64", 64},         {"F4", 4},
    {"F6_E2M3", 6}, {"F6_E3M2", 6},
};

static int st_dtype_bits(const char *s) {
    for (size_t i = 0; i < sizeof st_dtypes / sizeof st_dtypes[0]; i++)
        if (strcmp(st_dtypes[i].name, s) == 0) return st_dtypes[i].bits;
    return 0;
}

static uint64_t rd_le64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

void uzw_st_header_free(uzw_st_header *h) {
    if (!h) return;
    for (int i = 0; i < h->n; i++) free(h->e[i].name);
    free(h->e);
    memset(h, 0, sizeof *h);
}

/* A non-negative JSON integer below 2^48 (the schema's size_t bound). */
static int st_uint(const json_t *v, uint64_t *out) {
    if (!json_is_integer(v)) return -1;
    json_int_t x = json_integer_value(v);
    if (x < 0 || (unsigned long long)x >= (1ull << 48)) return -1;
    *out = (uint64_t)x;
    return 0;
}

/* ---------------------------------------------------------------- one entry */
static int st_parse_entry(const char *name, const json_t *obj, uint64_t data_bytes, uzw_st_entry *e,
                          char *err, size_t err_size) {
    if (!json_is_object(obj)) {
        snprintf(err, err_size, "safetensors: entry '%s' is not a JSON object", name);
        return -1;
    }
    const json_t *dt = json_object_get(obj, "dtype");
    const json_t *shape = json_object_get(obj, "shape");
    const json_t *offs = json_object_get(obj, "data_offsets");
    if (!json_is_string(dt) || !json_is_array(shape) || !json_is_array(offs)) {
        snprintf(err, err_size, "safetensors: entry '%s' needs a string 'dtype', an array 'shape' and an "
                 "array 'data_offsets'", name);
        return -1;
    }
    const char *dts = json_string_value(dt);
    e->bits = st_dtype_bits(dts);
    if (e->bits == 0 || strlen(dts) >= sizeof e->dtype) {
        snprintf(err, err_size, "safetensors: tensor '%s' has unknown dtype '%.32s'", name, dts);
        return -1;
    }
    strcpy(e->dtype, dts);
    size_t nd = json_array_size(shape);
    if (nd > UZW_ST_MAX_DIMS) {
        snprintf(err, err_size, "safetensors: tensor '%s' has %zu dimensions (at most %d supported)", name, nd,
                 UZW_ST_MAX_DIMS);
        return -1;
    }
    e->n_dims = (int)nd;
    uint64_t numel = 1;
    for (size_t i = 0; i < nd; i++) {
        uint64_t d;
        if (st_uint(json_array_get(shape, i), &d) != 0) {
            snprintf(err, err_size, "safetensors: tensor '%s': shape[%zu] is not a non-negative integer "
                     "below 2^48", name, i);
            return -1;
        }
        e->shape[i] = (int64_t)d;
        if (__builtin_mul_overflow(numel, d, &numel)) {
            snprintf(err, err_size, "safetensors: tensor '%s': element count overflows", name);
            return -1;
        }
    }
    e->numel = numel;
    uint64_t bits;
    if (__builtin_mul_overflow(numel, (uint64_t)e->bits, &bits) || bits % 8 != 0) {
        snprintf(err, err_size, "safetensors: tensor '%s': %llu elements of %s are not a whole number of "
                 "bytes", name, (unsigned long long)numel, e->dtype);
        return -1;
    }
    if (json_array_size(offs) != 2 || st_uint(json_array_get(offs, 0), &e->begin) != 0 ||
        st_uint(json_array_get(offs, 1), &e->end) != 0) {
        snprintf(err, err_size, "safetensors: tensor '%s': data_offsets must be two non-negative integers "
                 "below 2^48", name);
        return -1;
    }
    if (e->begin > e->end) {
        snprintf(err, err_size, "safetensors: tensor '%s': data_offsets [%llu, %llu] are reversed", name,
                 (unsigned long long)e->begin, (unsigned long long)e->end);
        return -1;
    }
    if (e->end > data_bytes) {
        snprintf(err, err_size, "safetensors: tensor '%s': data_offsets [%llu, %llu] out of range: the data "
                 "buffer holds %llu bytes (file truncated?)", name, (unsigned long long)e->begin,
                 (unsigned long long)e->end, (unsigned long long)data_bytes);
        return -1;
    }
    if (e->end - e->begin != bits / 8) {
        snprintf(err, err_size, "safetensors: tensor '%s': data_offsets span %llu bytes but %llu elements of "
                 "%s need %llu", name, (unsigned long long)(e->end - e->begin), (unsigned long long)numel,
                 e->dtype, (unsigned long long)(bits / 8));
        return -1;
    }
    return 0;
}

static int st_cmp_offset(const void *a, const void *b) {
    const uzw_st_entry *x = *(const uzw_st_entry *const *)a, *y = *(const uzw_st_entry *const *)b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return 0;
}

/* Sorted by offset, each tensor must start where the previous one ended, and the last one must end
 * at the end of the buffer. */
static int st_check_coverage(const uzw_st_header *h, char *err, size_t err_size) {
    if (h->n == 0) {
        if (h->data_bytes != 0) {
            snprintf(err, err_size, "safetensors: no tensors but %llu bytes of data follow the header",
                     (unsigned long long)h->data_bytes);
            return -1;
        }
        return 0;
    }
    const uzw_st_entry **order = malloc((size_t)h->n * sizeof *order);
    if (!order) {
        snprintf(err, err_size, "safetensors: out of memory");
        return -1;
    }
    for (int i = 0; i < h->n; i++) order[i] = &h->e[i];
    qsort(order, (size_t)h->n, sizeof *order, st_cmp_offset);
    uint64_t prev_end = 0;
    const char *prev_name = NULL;
    int rc = 0;
    for (int i = 0; i < h->n && rc == 0; i++) {
        const uzw_st_entry *e = order[i];
        if (e->begin < prev_end) {
            snprintf(err, err_size, "safetensors: tensors '%s' and '%s' overlap in the data buffer (offset %llu)",
                     prev_name, e->name, (unsigned long long)e->begin);
            rc = -1;
        } else if (e->begin > prev_end) {
            snprintf(err, err_size, "safetensors: hole of %llu bytes in the data buffer before tensor '%s'",
                     (unsigned long long)(e->begin - prev_end), e->name);
            rc = -1;
        }
        prev_end = e->end;
        prev_name = e->name;
    }
    if (rc == 0 && prev_end != h->data_bytes) {
        snprintf(err, err_size, "safetensors: the tensors cover %llu of the %llu bytes of the data buffer "
                 "(unused bytes at the end)", (unsigned long long)prev_end, (unsigned long long)h->data_bytes);
        rc = -1;
    }
    free(order);
    return rc;
}

/* __metadata__ is a map of string -> string. */
static int st_check_metadata(const json_t *md, char *err, size_t err_size) {
    if (!json_is_object(md)) {
        snprintf(err, err_size, "safetensors: __metadata__ is not a JSON object");
        return -1;
    }
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)md, k, v) {
        if (!json_is_string(v)) {
            snprintf(err, err_size, "safetensors: __metadata__ value of '%s' is not a string", k);
            return -1;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- the whole image */
int uzw_st_parse(const uint8_t *buf, size_t size, uzw_st_header *h, char *err, size_t err_size) {
    memset(h, 0, sizeof *h);
    if (!buf || size < 8) {
        snprintf(err, err_size, "safetensors: file too small (%zu bytes) to hold the 8-byte header length", size);
        return -1;
    }
    uint64_t n = rd_le64(buf);
    if (n > UZW_ST_MAX_HEADER) {
        snprintf(err, err_size, "safetensors: header length %llu too large (limit %llu bytes)",
                 (unsigned long long)n, UZW_ST_MAX_HEADER);
        return -1;
    }
    if (n > size - 8) {
        snprintf(err, err_size, "safetensors: header length %llu runs past the end of the file (%zu bytes; "
                 "truncated?)", (unsigned long long)n, size);
        return -1;
    }
    h->header_len = n;
    h->data_off = 8 + n;
    h->data_bytes = size - h->data_off;

    json_error_t jerr;
    json_t *root = json_loadb((const char *)buf + 8, (size_t)n, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        snprintf(err, err_size, "safetensors: header is not valid JSON: %s (line %d, column %d)", jerr.text,
                 jerr.line, jerr.column);
        return -1;
    }
    if (!json_is_object(root)) {
        snprintf(err, err_size, "safetensors: header is not a JSON object");
        json_decref(root);
        return -1;
    }
    size_t cap = json_object_size(root);
    h->e = calloc(cap ? cap : 1, sizeof *h->e);
    if (!h->e) {
        snprintf(err, err_size, "safetensors: out of memory");
        json_decref(root);
        return -1;
    }
    const char *key;
    json_t *val;
    int rc = 0;
    json_object_foreach(root, key, val) {
        if (strcmp(key, "__metadata__") == 0) {
            if ((rc = st_check_metadata(val, err, err_size)) != 0) break;
            continue;
        }
        uzw_st_entry *e = &h->e[h->n];
        if ((rc = st_parse_entry(key, val, h->data_bytes, e, err, err_size)) != 0) break;
        if (!(e->name = strdup(key))) {
            snprintf(err, err_size, "safetensors: out of memory");
            rc = -1;
            break;
        }
        h->n++;
    }
    json_decref(root);
    if (rc == 0) rc = st_check_coverage(h, err, err_size);
    if (rc != 0) uzw_st_header_free(h);
    return rc;
}

int uzw_st_entry_f32(const uint8_t *buf, size_t size, const uzw_st_header *h, const uzw_st_entry *e,
                     float **out, char *err, size_t err_size) {
    *out = NULL;
    int kind = strcmp(e->dtype, "F32") == 0 ? 0 : strcmp(e->dtype, "F16") == 0 ? 1
             : strcmp(e->dtype, "BF16") == 0 ? 2 : -1;
    if (kind < 0) {
        snprintf(err, err_size, "safetensors: tensor '%s' has dtype %s; only F32, F16 and BF16 can be converted",
                 e->name, e->dtype);
        return -1;
    }
    if (e->end > h->data_bytes || h->data_off + h->data_bytes > size) {
        snprintf(err, err_size, "safetensors: tensor '%s' lies outside the file", e->name);
        return -1;
    }
    float *v = malloc(e->numel ? e->numel * sizeof(float) : 1);
    if (!v) {
        snprintf(err, err_size, "safetensors: out of memory for tensor '%s' (%llu elements)", e->name,
                 (unsigned long long)e->numel);
        return -1;
    }
    const uint8_t *p = buf + h->data_off + e->begin;
    for (uint64_t i = 0; i < e->numel; i++) {
        if (kind == 0) {
            uint32_t u = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 | (uint32_t)p[4 * i + 2] << 16 |
                         (uint32_t)p[4 * i + 3] << 24;
            memcpy(&v[i], &u, 4);
        } else {
            uint16_t u = (uint16_t)(p[2 * i] | p[2 * i + 1] << 8);
            v[i] = kind == 1 ? uzw_f16_to_f32(u) : uzw_bf16_to_f32(u);
        }
    }
    *out = v;
    return 0;
}

/* ---------------------------------------------------------------- one mmapped file */
int uzw_st_open(const char *path, uzw_st_file *f, char *err, size_t err_size) {
    memset(f, 0, sizeof *f);
    snprintf(f->path, sizeof f->path, "%s", path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, err_size, "safetensors: cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        snprintf(err, err_size, "safetensors: cannot stat %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode) || st.st_size < 8) {
        snprintf(err, err_size, "safetensors: %s is not a regular file of at least 8 bytes", path);
        close(fd);
        return -1;
    }
    void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    int mmap_errno = errno;
    close(fd);
    if (m == MAP_FAILED) {
        snprintf(err, err_size, "safetensors: cannot mmap %s: %s", path, strerror(mmap_errno));
        return -1;
    }
    f->base = m;
    f->size = (size_t)st.st_size;
    char msg[768];
    if (uzw_st_parse(f->base, f->size, &f->h, msg, sizeof msg) != 0) {
        snprintf(err, err_size, "%s: %s", path, msg);
        uzw_st_close(f);
        return -1;
    }
    return 0;
}

void uzw_st_close(uzw_st_file *f) {
    if (!f) return;
    uzw_st_header_free(&f->h);
    if (f->base) munmap((void *)f->base, f->size);
    f->base = NULL;
    f->size = 0;
}

const uzw_st_entry *uzw_st_find(const uzw_st_file *f, const char *name) {
    for (int i = 0; i < f->h.n; i++)
        if (strcmp(f->h.e[i].name, name) == 0) return &f->h.e[i];
    return NULL;
}

int uzw_st_read_f32(const uzw_st_file *f, const uzw_st_entry *e, float **out, char *err, size_t err_size) {
    return uzw_st_entry_f32(f->base, f->size, &f->h, e, out, err, err_size);
}
