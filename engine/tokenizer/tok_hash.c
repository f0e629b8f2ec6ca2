/*
 * tok_hash.c - byte string -> token id: an open-addressing hash table (FNV-1a, linear probing)
 * built once over borrowed token arrays. Lookups allocate nothing and can run from many threads.
 */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "tok_internal.h"

#define FNV_OFFSET 2166136261u
#define FNV_PRIME 16777619u

static uint32_t fnv_more(uint32_t h, const uint8_t *p, uint32_t n) {
    for (uint32_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= FNV_PRIME;
    }
    return h;
}

/* FNV's low bits are weak for short keys: mix before masking. */
static uint32_t mix(uint32_t h) {
    h ^= h >> 16;
    h *= 0x7feb352du;
    h ^= h >> 15;
    h *= 0x846ca68bu;
    h ^= h >> 16;
    return h;
}

static int key_equal2(const tok_table *tb, int id, const uint8_t *a, uint32_t alen, const uint8_t *b,
                      uint32_t blen) {
    if (tb->len[id] != (uint64_t)alen + blen) return 0;
    const uint8_t *k = tb->tok[id];
    if (alen && memcmp(k, a, alen) != 0) return 0;
    if (blen && memcmp(k + alen, b, blen) != 0) return 0;
    return 1;
}

int tok_table_build(tok_table *tb, int n, const uint8_t *const *tok, const uint32_t *len, char *err,
                    size_t err_size) {
    memset(tb, 0, sizeof *tb);
    if (n <= 0 || n > (1 << 28) || !tok || !len) {
        snprintf(err, err_size, "tokenizer: bad token table (n=%d)", n);
        return -1;
    }
    uint32_t cap = 16;
    while (cap < 2u * (uint32_t)n) cap <<= 1;
    tb->slot = malloc(sizeof(int32_t) * cap);
    tb->hash = malloc(sizeof(uint32_t) * cap);
    if (!tb->slot || !tb->hash) {
        tok_table_free(tb);
        snprintf(err, err_size, "tokenizer: out of memory for a %u-slot token table", cap);
        return -1;
    }
    memset(tb->slot, 0xff, sizeof(int32_t) * cap);
    tb->tok = tok;
    tb->len = len;
    tb->mask = cap - 1;
    for (int id = 0; id < n; id++) {
        if (len[id] > 0 && !tok[id]) {
            tok_table_free(tb);
            snprintf(err, err_size, "tokenizer: token %d has length %u but no bytes", id, len[id]);
            return -1;
        }
        uint32_t h = mix(fnv_more(FNV_OFFSET, tok[id], len[id]));
        uint32_t i = h & tb->mask;
        for (;; i = (i + 1) & tb->mask) {
            if (tb->slot[i] < 0) {
                tb->slot[i] = id;
                tb->hash[i] = h;
                break;
            }
            if (tb->hash[i] == h && key_equal2(tb, tb->slot[i], tok[id], len[id], NULL, 0)) break; /* dup */
        }
    }
    return 0;
}

void tok_table_free(tok_table *tb) {
    if (!tb) return;
    free(tb->slot);
    free(tb->hash);
    tb->slot = NULL;
    tb->hash = NULL;
}

int tok_table_find2(const tok_table *tb, const uint8_t *a, uint32_t alen, const uint8_t *b, uint32_t blen) {
    uint32_t h = mix(fnv_more(fnv_more(FNV_OFFSET, a, alen), b, blen));
    for (uint32_t i = h & tb->mask;; i = (i + 1) & tb->mask) {
        int32_t id = tb->slot[i];
        if (id < 0) return -1;
        if (tb->hash[i] == h && key_equal2(tb, id, a, alen, b, blen)) return id;
    }
}
