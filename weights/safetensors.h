/*
 * safetensors.h - a reader for HuggingFace safetensors files (whisper-facts §7): a u64 little-endian
 * header length N, N bytes of JSON (name -> {dtype, shape, data_offsets}), then the data buffer,
 * covered exactly by the tensors (no holes, no overlaps). The file is mmapped read-only; tensors
 * are fetched as malloc'ed f32 arrays (F32, F16 and BF16 convert; other dtypes are named in the
 * error). Also reads sharded checkpoints through model.safetensors.index.json.
 */
#ifndef UZW_SAFETENSORS_H
#define UZW_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#define UZW_ST_MAX_HEADER 100000000ull /* the reference reader's MAX_HEADER_SIZE */
#define UZW_ST_MAX_DIMS 8
#define UZW_ST_MAX_SHARDS 256

typedef struct {
    char *name;                      /* owned, NUL-terminated */
    char dtype[16];                  /* as written in the header: "F32", "BF16", ... */
    int bits;                        /* bits per element of dtype */
    int n_dims;
    int64_t shape[UZW_ST_MAX_DIMS];  /* shape [] is a scalar (numel 1) */
    uint64_t numel;
    uint64_t begin, end;             /* byte range inside the data buffer, end exclusive */
} uzw_st_entry;

typedef struct {
    uzw_st_entry *e;                 /* owned, n entries, in header (JSON) order */
    int n;
    uint64_t header_len;             /* N */
    uint64_t data_off;               /* 8 + N: where the data buffer starts in the file */
    uint64_t data_bytes;             /* size of the data buffer */
} uzw_st_header;

/* Parse and validate a whole safetensors image held in memory (buf[0..size)): header bounds,
 * JSON, every entry, exact coverage of the data buffer. On success fills h (free with
 * uzw_st_header_free). Returns 0 or -1 with a message. Never reads outside buf. */
int uzw_st_parse(const uint8_t *buf, size_t size, uzw_st_header *h, char *err, size_t err_size);
void uzw_st_header_free(uzw_st_header *h);

/* Convert an entry's data (the entry must come from a header parsed from buf) into a malloc'ed
 * f32 array of e->numel values. F32/F16/BF16 only; otherwise -1 naming the dtype. */
int uzw_st_entry_f32(const uint8_t *buf, size_t size, const uzw_st_header *h, const uzw_st_entry *e,
                     float **out, char *err, size_t err_size);

/* ---------------------------------------------------------------- one mmapped file */
typedef struct {
    const uint8_t *base;  /* the mapping (NULL for an empty mapping) */
    size_t size;
    uzw_st_header h;
    char path[1024];
} uzw_st_file;

int uzw_st_open(const char *path, uzw_st_file *f, char *err, size_t err_size);
void uzw_st_close(uzw_st_file *f);
/* Entry by name, or NULL. */
const uzw_st_entry *uzw_st_find(const uzw_st_file *f, const char *name);
int uzw_st_read_f32(const uzw_st_file *f, const uzw_st_entry *e, float **out, char *err, size_t err_size);

/* ---------------------------------------------------------------- a checkpoint of one or more files */
typedef struct {
    uzw_st_file *files;   /* owned, n_files, sorted by file name */
    int n_files;
} uzw_st_set;

/* dir/model.safetensors, or the shards named by dir/model.safetensors.index.json (every name of its
 * weight_map must be found in the shard it names). Returns 0 or -1 with a message. */
int uzw_st_set_open_dir(const char *dir, uzw_st_set *s, char *err, size_t err_size);
void uzw_st_set_close(uzw_st_set *s);
/* Find a tensor in any file; *file receives its file. NULL if absent. */
const uzw_st_entry *uzw_st_set_find(const uzw_st_set *s, const char *name, const uzw_st_file **file);

#endif
