/*
 * import.h - the neutral in-memory form every converter (HF safetensors, CTranslate2, ggml) fills,
 * and the one routine that turns it into a .uzw file. A converter only maps names, splits fused
 * tensors and reads the vocabulary; everything Whisper-specific that can be derived (special ids,
 * language table, merges, mel filterbank, suppress lists, alignment-head default) is derived here,
 * once, by uzw_import_write().
 */
#ifndef UZW_IMPORT_H
#define UZW_IMPORT_H

#include <stdint.h>
#include "schema.h"

typedef struct {
    char name[UZW_MAX_NAME]; /* canonical name (schema.h) */
    int n_dims;
    int64_t dims[UZW_MAX_DIMS];
    float *data;             /* owned, f32, row-major */
} uzw_import_tensor;

typedef struct {
    uzw_dims dims;
    int have_dims;

    /* Full vocabulary as raw token bytes in id order: BPE tokens AND any specials the source lists
     * (e.g. "<|endoftext|>"), n_tokens entries. Special ids are derived from it: EOT is the first
     * token whose text is "<|endoftext|>" (or, if absent, the id after the last BPE token). */
    uint8_t **tok;           /* owned */
    uint32_t *tok_len;
    int n_tokens;

    int32_t *merges;         /* owned, 2*n_merges ids; NULL: derive from the ranks (tiktoken rule) */
    int n_merges;

    int32_t *suppress;       /* owned or NULL: NULL means compute OAI's default set */
    int n_suppress;
    int32_t *suppress_begin; /* owned or NULL: NULL means [220, EOT] */
    int n_suppress_begin;
    int32_t *align_heads;    /* owned pairs or NULL: NULL means all heads of the last half of the layers */
    int n_align_heads;

    uzw_import_tensor *t;    /* owned */
    int n_t, cap_t;

    char source_format[32];
    char source_sha256[65];
    char source_files[512];
    char source_adapters[1024]; /* LoRA adapters merged in by the converter ("" none) */
} uzw_import;

void uzw_import_init(uzw_import *im);
void uzw_import_free(uzw_import *im);
/* Add a tensor under its canonical name; takes ownership of data (malloc'ed f32). */
int uzw_import_add(uzw_import *im, const char *name, int n_dims, const int64_t *dims, float *data,
                   char *err, size_t err_size);
uzw_import_tensor *uzw_import_find(uzw_import *im, const char *name);
/* Append one vocabulary token (bytes copied). */
int uzw_import_add_token(uzw_import *im, const uint8_t *bytes, uint32_t len);

/* Derive what is missing, check every canonical tensor is present with its shape, and write the
 * .uzw file with tensors stored as dtype (1-D tensors and positional tables stay f32).
 * Returns 0 or -1 with a message. */
int uzw_import_write(uzw_import *im, const char *out_path, uzw_dtype dtype, char *err, size_t err_size);

/* Merge the PEFT LoRA adapter in folder dir into the import's tensors (after a converter filled
 * them), recorded in source.adapters. Implemented in engine/adapter/adapter_import.c. Returns a
 * uzw_status (0 ok) with a message. */
int uzw_import_merge_adapter(uzw_import *im, const char *dir, char *err, size_t err_size);

/* Hex SHA-256 of the concatenation of the given files (OpenSSL libcrypto). 0 or -1. */
int uzw_sha256_files(const char *const *paths, int n, char out_hex[65], char *err, size_t err_size);

/* Converters. src is a directory (hf, ct2) or a file (ggml). */
int uzw_import_hf(const char *dir, uzw_import *im, char *err, size_t err_size);
int uzw_import_ct2(const char *dir, uzw_import *im, char *err, size_t err_size);
int uzw_import_ggml(const char *path, uzw_import *im, char *err, size_t err_size);

/* An HF Whisper parameter name -> its canonical name (out), classified. "model." is optional
 * (WhisperModel drops it). Also used to map PEFT adapter names onto the base model. */
enum { HF_UNKNOWN = 0, HF_CANONICAL = 1, HF_KEY_BIAS = 2, HF_PROJ_OUT = 3 };
int uzw_hf_map_name(const char *hf, char out[UZW_MAX_NAME]);

/* GPT-2 byte<->unicode mapping used by HF vocab.json / merges.txt / tokenizer.json and CT2
 * vocabulary files: decode a token string into raw bytes. Returns byte count or -1 if the
 * string contains a character outside the mapping. out must hold strlen(s) bytes. */
int uzw_gpt2_unicode_to_bytes(const char *s, uint8_t *out);

#endif
