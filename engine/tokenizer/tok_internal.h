/*
 * tok_internal.h - what the tokenizer's source files share: the byte-string -> id table, the
 * tokenizer struct, the BPE of one pre-tokenised piece and the pre-tokeniser regex.
 * Not part of any public interface.
 */
#ifndef UZW_TOK_INTERNAL_H
#define UZW_TOK_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "tokenizer.h"

/* ---------------------------------------------------------------- byte string -> id table */

/* Open addressing over the caller's token arrays (not copied). Equal byte strings keep the lowest id. */
typedef struct {
    const uint8_t *const *tok; /* (V) token bytes, borrowed */
    const uint32_t *len;       /* (V) */
    int32_t *slot;             /* (cap) token id or -1 */
    uint32_t *hash;            /* (cap) full hash of the slot's key */
    uint32_t mask;             /* cap - 1, cap a power of two >= 2 V */
} tok_table;

int tok_table_build(tok_table *tb, int n, const uint8_t *const *tok, const uint32_t *len, char *err,
                    size_t err_size);
void tok_table_free(tok_table *tb);
/* Id of the concatenation a ++ b (either part may be empty), or -1. */
int tok_table_find2(const tok_table *tb, const uint8_t *a, uint32_t alen, const uint8_t *b, uint32_t blen);

/* ---------------------------------------------------------------- the tokenizer */

struct uzw_tokenizer {
    int n_bpe;                 /* V: BPE tokens (ids below EOT) */
    const uint8_t *const *tok; /* (V) borrowed */
    const uint32_t *tok_len;   /* (V) borrowed */
    tok_table bytes;           /* bytes -> id */
    int32_t byte_id[256];      /* id of each single byte */

    int n_merges;              /* M */
    int32_t *owned_merges;     /* (M, 2) when derived here, else NULL */
    uint64_t *pair_key;        /* (cap) left << 32 | right, UINT64_MAX = empty */
    int32_t *pair_rank;        /* (cap) merge priority (lower merges first) */
    int32_t *pair_out;         /* (cap) id of the merged token */
    uint32_t pair_mask;        /* cap - 1 */

    void *re;                  /* pcre2_code_8 *: the pre-tokeniser, compiled once, read-only after */
};

/* Scratch for BPE on one piece; grown on demand, owned by one encode call. */
typedef struct {
    int32_t *id;   /* (n) token id of the part that starts at this byte, -1 when merged away */
    int32_t *next; /* (n) index of the next live part, -1 at the end */
    int32_t *prev; /* (n) */
    int32_t *heap; /* (3n, 4) candidate merges: rank, left index, left id, right id */
    size_t cap;
} bpe_scratch;

void bpe_scratch_free(bpe_scratch *s);
/* BPE of one piece: appends ids to out (writing only below max), returns the new count or -1
 * (out of memory). */
int bpe_piece(const uzw_tokenizer *t, const uint8_t *p, size_t n, bpe_scratch *s, int32_t *out, int max,
              int count);

/* Pre-tokeniser regex (pretokenize.c). */
void *pretok_compile(char *err, size_t err_size);
void pretok_free(void *re);

#endif
