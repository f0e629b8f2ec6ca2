/*
 * import_formats.h - from-memory entry points of the CTranslate2 and whisper.cpp ggml importers,
 * and the bounds-checked byte cursor both parsers share. uzw_import_ct2()/uzw_import_ggml() in
 * import.h read files and call these; tests and fuzzers call them directly.
 */
#ifndef UZW_IMPORT_FORMATS_H
#define UZW_IMPORT_FORMATS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "import.h"

/* ---------------------------------------------------------------- byte cursor (little-endian) */
typedef struct {
    const uint8_t *p;
    size_t size, off;
} uzw_cursor;

static inline int uzw_cur_need(const uzw_cursor *c, size_t n) { return c->off <= c->size && c->size - c->off >= n; }
static inline int uzw_cur_u8(uzw_cursor *c, uint8_t *v) {
    if (!uzw_cur_need(c, 1)) return -1;
    *v = c->p[c->off++];
    return 0;
}
static inline int uzw_cur_u16(uzw_cursor *c, uint16_t *v) {
    if (!uzw_cur_need(c, 2)) return -1;
    *v = (uint16_t)(c->p[c->off] | (c->p[c->off + 1] << 8));
    c->off += 2;
    return 0;
}
static inline int uzw_cur_u32(uzw_cursor *c, uint32_t *v) {
    if (!uzw_cur_need(c, 4)) return -1;
    const uint8_t *b = c->p + c->off;
    *v = (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) | ((uint32_t)b[3] << 24);
    c->off += 4;
    return 0;
}
static inline int uzw_cur_i32(uzw_cursor *c, int32_t *v) {
    uint32_t u;
    if (uzw_cur_u32(c, &u)) return -1;
    memcpy(v, &u, 4);
    return 0;
}
/* Point at the next n bytes and step over them. */
static inline int uzw_cur_bytes(uzw_cursor *c, size_t n, const uint8_t **out) {
    if (!uzw_cur_need(c, n)) return -1;
    *out = c->p + c->off;
    c->off += n;
    return 0;
}

/* ---------------------------------------------------------------- read-only file mapping */
typedef struct {
    const uint8_t *data;
    size_t size;
    int mapped;
} uzw_fmap;
/* mmap a regular file read-only (an empty file gives size 0). 0 or -1 with a message. */
int uzw_fmap_open(const char *path, uzw_fmap *m, char *err, size_t err_size);
void uzw_fmap_close(uzw_fmap *m);

/* ---------------------------------------------------------------- whisper.cpp ggml */
typedef struct {
    /* n_vocab, n_audio_ctx, n_audio_state, n_audio_head, n_audio_layer, n_text_ctx, n_text_state,
     * n_text_head, n_text_layer, n_mels, ftype (file order) */
    int32_t hparams[11];
    int32_t filt_n_mel, filt_n_bins; /* mel filter table header */
    int32_t n_tokens;                /* vocabulary entries (BPE only, 50257 / 50256) */
    size_t tensors_off;              /* offset of the first tensor record */
} uzw_ggml_header;

/* Parse magic, hparams, mel filters and vocabulary. With im non-NULL the tokens are appended to it.
 * 0 or -1 with a message. */
int uzw_ggml_parse_header(const uint8_t *data, size_t size, uzw_ggml_header *h, uzw_import *im, char *err,
                          size_t err_size);
/* The whole file: header, vocabulary, tensors (F32/F16) mapped to canonical names. Sets im->dims.
 * Does not set the source hash (the file wrapper does). */
int uzw_import_ggml_mem(const uint8_t *data, size_t size, uzw_import *im, char *err, size_t err_size);

/* ---------------------------------------------------------------- CTranslate2 */
/* vocabulary.json (JSON list of token strings) or vocabulary.txt (one per line). A directory with
 * neither falls back to its tokenizer.json (uzw_hf_read_tokenizer), in the file wrapper only. */
typedef enum { UZW_CT2_VOCAB_JSON = 0, UZW_CT2_VOCAB_TXT = 1 } uzw_ct2_vocab_kind;

typedef struct {
    const uint8_t *model; /* model.bin */
    size_t model_size;
    const char *config;   /* config.json text or NULL (then all defaults are derived) */
    size_t config_size;
    const char *vocab;    /* vocabulary.json / vocabulary.txt text */
    size_t vocab_size;
    uzw_ct2_vocab_kind vocab_kind;
} uzw_ct2_input;

/* model.bin only: variables mapped to canonical tensors, dims set. */
int uzw_ct2_parse_model(const uint8_t *data, size_t size, uzw_import *im, char *err, size_t err_size);
/* Vocabulary text into im's tokens. */
int uzw_ct2_parse_vocab(const char *text, size_t size, uzw_ct2_vocab_kind kind, uzw_import *im, char *err,
                        size_t err_size);
/* config.json: suppress lists, alignment heads; lang_ids checked against the vocabulary already in im. */
int uzw_ct2_parse_config(const char *text, size_t size, uzw_import *im, char *err, size_t err_size);
/* All three. */
int uzw_import_ct2_mem(const uzw_ct2_input *in, uzw_import *im, char *err, size_t err_size);

/* Shared by both importers: every canonical tensor of im->dims is present (first missing one named,
 * with the source name from hint(canonical) if given). 0 or -1. */
int uzw_import_check_complete(uzw_import *im, const char *format, char *err, size_t err_size);

#endif
