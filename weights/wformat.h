/*
 * wformat.h - the uzwhisper weight file (".uzw"): constants, the parsed view, the reader and the
 * writer. Spec: docs/weight-format.md. The reader and every converter share this header.
 *
 * Layout (all integers little-endian):
 *   [0, 128)            fixed header (uzw_wheader)
 *   [meta_off, +bytes)  metadata: typed key/value records
 *   [table_off, +bytes) tensor table: one record per tensor
 *   [data_off, +bytes)  tensor data; every tensor starts at a multiple of UZW_ALIGN from data_off,
 *                       and data_off itself is a multiple of UZW_ALIGN, so an mmap uses it in place.
 */
#ifndef UZW_WFORMAT_H
#define UZW_WFORMAT_H

#include <stddef.h>
#include <stdint.h>

#define UZW_MAGIC "UZWHISPR"        /* 8 bytes, no NUL */
#define UZW_FORMAT_VERSION 1u
#define UZW_HEADER_BYTES 128u
#define UZW_ALIGN 64u
#define UZW_MAX_DIMS 4
#define UZW_MAX_NAME 96
#define UZW_MAX_TENSORS 4096u
#define UZW_MAX_META_BYTES (64u << 20)  /* a vocabulary of ~52k tokens needs < 1 MiB */

/* ---------------------------------------------------------------- dtypes */
typedef enum {
    UZW_DT_F32 = 0,
    UZW_DT_F16 = 1,
    UZW_DT_BF16 = 2,
    UZW_DT_I8 = 3,   /* symmetric int8; its scales live in the tensor "<name>.scale" (f32, [dims[0]]) */
    UZW_DT_COUNT
} uzw_dtype;

size_t uzw_dtype_size(uzw_dtype dt);     /* bytes per element; 0 if unknown */
const char *uzw_dtype_name(uzw_dtype dt); /* "f32", ... or "?" */
int uzw_dtype_parse(const char *s, uzw_dtype *out); /* 0 ok, -1 unknown */

/* ---------------------------------------------------------------- metadata value types */
typedef enum {
    UZW_MT_U32 = 1,
    UZW_MT_I32 = 2,
    UZW_MT_F32 = 3,
    UZW_MT_STR = 4,      /* UTF-8 bytes, no NUL on disk                                   */
    UZW_MT_I32_ARR = 5,  /* u32 count, then count x i32                                   */
    UZW_MT_F32_ARR = 6,  /* u32 count, then count x f32                                   */
    UZW_MT_BYTES_ARR = 7 /* u32 count, then count x (u32 length, bytes): e.g. the vocab  */
} uzw_meta_type;

/* ---------------------------------------------------------------- fixed header (on disk) */
typedef struct {
    char magic[8];          /* "UZWHISPR" */
    uint32_t version;       /* UZW_FORMAT_VERSION */
    uint32_t header_bytes;  /* 128 */
    uint64_t file_bytes;    /* total size of the file */
    uint64_t meta_off, meta_bytes;
    uint64_t table_off, table_bytes;
    uint64_t data_off, data_bytes;
    uint32_t n_meta;        /* number of metadata records */
    uint32_t n_tensors;
    uint32_t align;         /* UZW_ALIGN */
    uint32_t meta_crc32;    /* zlib crc32 of the metadata bytes */
    uint32_t table_crc32;   /* zlib crc32 of the table bytes */
    uint32_t data_crc32;    /* zlib crc32 of the data bytes (checked on request) */
    uint8_t reserved[UZW_HEADER_BYTES - 96];
} uzw_wheader;

/* ---------------------------------------------------------------- parsed view */
typedef struct {
    char name[UZW_MAX_NAME];
    uzw_dtype dtype;
    int n_dims;
    int64_t dims[UZW_MAX_DIMS]; /* PyTorch order: dims[0] outermost */
    uint64_t offset;            /* from data_off */
    uint64_t nbytes;
    const void *data;           /* points into the mapping */
} uzw_tensor;

typedef struct {
    char key[64];
    uzw_meta_type type;
    uint32_t count;          /* elements for arrays; 1 for scalars; bytes for STR */
    const uint8_t *value;    /* points into the mapping (unaligned) */
    uint64_t value_bytes;
} uzw_meta;

typedef struct {
    const uint8_t *base;     /* the whole file */
    size_t size;
    int mapped;              /* 1: we own an mmap of base */
    uzw_wheader hdr;
    uzw_meta *meta;          /* hdr.n_meta */
    uzw_tensor *tensors;     /* hdr.n_tensors */
} uzw_wfile;

/* Parse and validate the container (header, checksums of metadata and table, every record and
 * every tensor's bounds and alignment). Does not know about Whisper: see model_bind for that.
 * Returns 0 or -1 with a message naming the problem. */
int uzw_wfile_open(const char *path, uzw_wfile *wf, char *err, size_t err_size);
int uzw_wfile_from_memory(const void *data, size_t size, uzw_wfile *wf, char *err, size_t err_size);
void uzw_wfile_close(uzw_wfile *wf);
int uzw_wfile_verify_data(const uzw_wfile *wf, char *err, size_t err_size);

const uzw_meta *uzw_wfile_meta(const uzw_wfile *wf, const char *key);
const uzw_tensor *uzw_wfile_tensor(const uzw_wfile *wf, const char *name);
/* Typed metadata getters: 0 ok, -1 missing or of another type (message in err). */
int uzw_meta_get_i32(const uzw_wfile *wf, const char *key, int32_t *out, char *err, size_t err_size);
int uzw_meta_get_str(const uzw_wfile *wf, const char *key, const char **s, uint32_t *len, char *err, size_t err_size);
/* Element i of an array record (no bounds beyond count). */
int32_t uzw_meta_i32_at(const uzw_meta *m, uint32_t i);
float uzw_meta_f32_at(const uzw_meta *m, uint32_t i);

/* ---------------------------------------------------------------- writer */
typedef struct uzw_wbuild uzw_wbuild;

uzw_wbuild *uzw_wbuild_new(void);
void uzw_wbuild_free(uzw_wbuild *b);
/* Metadata. Keys are copied; values are copied. */
int uzw_wbuild_i32(uzw_wbuild *b, const char *key, int32_t v);
int uzw_wbuild_str(uzw_wbuild *b, const char *key, const char *s);
int uzw_wbuild_i32_arr(uzw_wbuild *b, const char *key, const int32_t *v, uint32_t n);
int uzw_wbuild_f32_arr(uzw_wbuild *b, const char *key, const float *v, uint32_t n);
/* items[i] has lens[i] bytes */
int uzw_wbuild_bytes_arr(uzw_wbuild *b, const char *key, const uint8_t *const *items, const uint32_t *lens, uint32_t n);
/* A copy of a record of another file (uzw_wfile_meta), under the same key. */
int uzw_wbuild_meta_copy(uzw_wbuild *b, const uzw_meta *m);
/* A tensor from f32 source values, stored as dtype (f32/f16/bf16: round to nearest even).
 * The data is copied. */
int uzw_wbuild_tensor_f32(uzw_wbuild *b, const char *name, uzw_dtype dtype, int n_dims, const int64_t *dims,
                          const float *values);
/* A tensor given as raw bytes of the same dtype (copied). */
int uzw_wbuild_tensor_raw(uzw_wbuild *b, const char *name, uzw_dtype dtype, int n_dims, const int64_t *dims,
                          const void *bytes, uint64_t nbytes);
/* Write atomically (temporary file + rename). 0 or -1 with a message. */
int uzw_wbuild_write(uzw_wbuild *b, const char *path, char *err, size_t err_size);

/* ---------------------------------------------------------------- half-precision helpers */
float uzw_f16_to_f32(uint16_t h);
uint16_t uzw_f32_to_f16(float f);
float uzw_bf16_to_f32(uint16_t h);
/* A mapped f32/f16/bf16 tensor's n elements as f32: the data itself when it is f32, else widened
 * into buf (n floats) and buf returned. */
const float *uzw_tensor_as_f32(const uzw_tensor *t, float *buf);
uint16_t uzw_f32_to_bf16(float f);

#endif
