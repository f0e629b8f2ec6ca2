/*
 * bpe.c - the tokenizer object (bytes <-> ids, merge priorities) and byte-level BPE on one
 * pre-tokenised piece. Encoding a piece follows tiktoken: a piece that is one token is emitted
 * as is; otherwise start from single bytes and repeatedly merge the adjacent pair with the lowest
 * merge rank (leftmost first on ties), using a linked list of parts and a min-heap of candidate
 * pairs so long pieces cost O(n log n).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tok_internal.h"

#define PAIR_EMPTY UINT64_MAX

static uint32_t pair_hash(uint64_t key) { return (uint32_t)((key * 0x9E3779B97F4A7C15ull) >> 32); }

/* Merge rank of (left, right) and the merged id via *out_id; -1 when the pair never merges. */
static int pair_find(const uzw_tokenizer *t, int32_t left, int32_t right, int32_t *out_id) {
    uint64_t key = (uint64_t)(uint32_t)left << 32 | (uint32_t)right;
    for (uint32_t i = pair_hash(key) & t->pair_mask;; i = (i + 1) & t->pair_mask) {
        if (t->pair_key[i] == PAIR_EMPTY) return -1;
        if (t->pair_key[i] == key) {
            *out_id = t->pair_out[i];
            return t->pair_rank[i];
        }
    }
}

/* Fill the pair table from merges (M, 2); every merge must produce a token. */
static int build_pairs(uzw_tokenizer *t, const int32_t *merges, int n_merges, char *err, size_t err_size) {
    uint32_t cap = 16;
    while (cap < 2u * (uint32_t)n_merges) cap <<= 1;
    t->pair_key = malloc(sizeof(uint64_t) * cap);
    t->pair_rank = malloc(sizeof(int32_t) * cap);
    t->pair_out = malloc(sizeof(int32_t) * cap);
    if (!t->pair_key || !t->pair_rank || !t->pair_out) {
        snprintf(err, err_size, "tokenizer: out of memory for %d merges", n_merges);
        return -1;
    }
    memset(t->pair_key, 0xff, sizeof(uint64_t) * cap);
    t->pair_mask = cap - 1;
    for (int r = 0; r < n_merges; r++) {
        int32_t a = merges[2 * r], b = merges[2 * r + 1];
        if (a < 0 || a >= t->n_bpe || b < 0 || b >= t->n_bpe) {
            snprintf(err, err_size, "tokenizer: merge %d (%d, %d) names an id outside [0, %d)", r, a, b, t->n_bpe);
            return -1;
        }
        int32_t out = tok_table_find2(&t->bytes, t->tok[a], t->tok_len[a], t->tok[b], t->tok_len[b]);
        if (out < 0) {
            snprintf(err, err_size, "tokenizer: merge %d (%d, %d) does not produce a token (corrupt tokenizer)", r,
                     a, b);
            return -1;
        }
        uint64_t key = (uint64_t)(uint32_t)a << 32 | (uint32_t)b;
        for (uint32_t i = pair_hash(key) & t->pair_mask;; i = (i + 1) & t->pair_mask) {
            if (t->pair_key[i] == key) break; /* repeated merge: the first (lowest rank) wins */
            if (t->pair_key[i] == PAIR_EMPTY) {
                t->pair_key[i] = key;
                t->pair_rank[i] = r;
                t->pair_out[i] = out;
                break;
            }
        }
    }
    return 0;
}

int uzw_tokenizer_new(int n_bpe, const uint8_t *const *tok, const uint32_t *tok_len, const int32_t *merges,
                      int n_merges, uzw_tokenizer **out, char *err, size_t err_size) {
    if (!out) {
        snprintf(err, err_size, "tokenizer: no output pointer");
        return -1;
    }
    *out = NULL;
    if (n_bpe < 256 || !tok || !tok_len || n_merges < 0 || (merges && n_merges > (1 << 28))) {
        snprintf(err, err_size, "tokenizer: bad arguments (n_bpe=%d, n_merges=%d)", n_bpe, n_merges);
        return -1;
    }
    uzw_tokenizer *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, err_size, "tokenizer: out of memory");
        return -1;
    }
    t->n_bpe = n_bpe;
    t->tok = tok;
    t->tok_len = tok_len;
    if (tok_table_build(&t->bytes, n_bpe, tok, tok_len, err, err_size) != 0) goto fail;
    for (int b = 0; b < 256; b++) {
        uint8_t byte = (uint8_t)b;
        t->byte_id[b] = tok_table_find2(&t->bytes, &byte, 1, NULL, 0);
        if (t->byte_id[b] < 0) {
            snprintf(err, err_size, "tokenizer: no token for the single byte 0x%02x", b);
            goto fail;
        }
    }
    if (!merges) {
        if (uzw_tokenizer_derive_merges(n_bpe, tok, tok_len, &t->owned_merges, &n_merges, err, err_size) != 0)
            goto fail;
        merges = t->owned_merges;
    }
    t->n_merges = n_merges;
    if (build_pairs(t, merges, n_merges, err, err_size) != 0) goto fail;
    t->re = pretok_compile(err, err_size);
    if (!t->re) goto fail;
    *out = t;
    return 0;
fail:
    uzw_tokenizer_free(t);
    return -1;
}

void uzw_tokenizer_free(uzw_tokenizer *t) {
    if (!t) return;
    pretok_free(t->re);
    tok_table_free(&t->bytes);
    free(t->owned_merges);
    free(t->pair_key);
    free(t->pair_rank);
    free(t->pair_out);
    free(t);
}

int uzw_tokenizer_n_bpe(const uzw_tokenizer *t) { return t ? t->n_bpe : 0; }

const uint8_t *uzw_tokenizer_bytes(const uzw_tokenizer *t, int id, uint32_t *len) {
    if (!t || id < 0 || id >= t->n_bpe) {
        if (len) *len = 0;
        return NULL;
    }
    if (len) *len = t->tok_len[id];
    static const uint8_t empty[1] = {0};
    return t->tok[id] ? t->tok[id] : empty; /* the empty token may have no bytes pointer */
}

int uzw_tokenizer_lookup(const uzw_tokenizer *t, const uint8_t *bytes, uint32_t len) {
    if (!t || (!bytes && len)) return -1;
    return tok_table_find2(&t->bytes, bytes, len, NULL, 0);
}

char *uzw_tokenizer_decode(const uzw_tokenizer *t, const int32_t *ids, int n) {
    if (!t || n < 0 || (n > 0 && !ids)) return NULL;
    size_t total = 0;
    for (int i = 0; i < n; i++)
        if (ids[i] >= 0 && ids[i] < t->n_bpe) total += t->tok_len[ids[i]];
    char *s = malloc(total + 1);
    if (!s) return NULL;
    size_t at = 0;
    for (int i = 0; i < n; i++) {
        if (ids[i] < 0 || ids[i] >= t->n_bpe || t->tok_len[ids[i]] == 0) continue;
        memcpy(s + at, t->tok[ids[i]], t->tok_len[ids[i]]);
        at += t->tok_len[ids[i]];
    }
    s[at] = '\0';
    return s;
}

/* ---------------------------------------------------------------- BPE on one piece */

void bpe_scratch_free(bpe_scratch *s) {
    free(s->id);
    free(s->next);
    free(s->prev);
    free(s->heap);
    memset(s, 0, sizeof *s);
}

static int scratch_reserve(bpe_scratch *s, size_t n) {
    if (n <= s->cap) return 0;
    size_t cap = s->cap ? s->cap : 64;
    while (cap < n) cap *= 2;
    if (cap > (size_t)INT32_MAX / 16) return -1;
    bpe_scratch g = {0};
    g.id = malloc(sizeof(int32_t) * cap);
    g.next = malloc(sizeof(int32_t) * cap);
    g.prev = malloc(sizeof(int32_t) * cap);
    g.heap = malloc(sizeof(int32_t) * 4 * 3 * cap);
    if (!g.id || !g.next || !g.prev || !g.heap) {
        bpe_scratch_free(&g);
        return -1;
    }
    g.cap = cap;
    bpe_scratch_free(s);
    *s = g;
    return 0;
}

/* Heap entries are 4 ints: rank, left index, left id, right id; ordered by (rank, left index). */
static int heap_less(const int32_t *a, const int32_t *b) { return a[0] < b[0] || (a[0] == b[0] && a[1] < b[1]); }

static void heap_push(int32_t *h, int *n, int32_t rank, int32_t pos, int32_t lid, int32_t rid) {
    int i = (*n)++;
    int32_t e[4] = {rank, pos, lid, rid};
    while (i > 0) {
        int p = (i - 1) / 2;
        if (!heap_less(e, h + 4 * p)) break;
        memcpy(h + 4 * i, h + 4 * p, sizeof e);
        i = p;
    }
    memcpy(h + 4 * i, e, sizeof e);
}

static void heap_pop(int32_t *h, int *n, int32_t *top) {
    memcpy(top, h, 4 * sizeof(int32_t));
    int last = --(*n);
    int32_t e[4];
    memcpy(e, h + 4 * last, sizeof e);
    int i = 0;
    for (;;) {
        int c = 2 * i + 1;
        if (c >= last) break;
        if (c + 1 < last && heap_less(h + 4 * (c + 1), h + 4 * c)) c++;
        if (!heap_less(h + 4 * c, e)) break;
        memcpy(h + 4 * i, h + 4 * c, sizeof e);
        i = c;
    }
    if (last > 0) memcpy(h + 4 * i, e, sizeof e);
}

static void push_pair(const uzw_tokenizer *t, bpe_scratch *s, int *nh, int32_t left) {
    int32_t right = s->next[left], merged;
    if (right < 0) return;
    int rank = pair_find(t, s->id[left], s->id[right], &merged);
    if (rank >= 0) heap_push(s->heap, nh, rank, left, s->id[left], s->id[right]);
}

static int emit(int32_t *out, int max, int count, int32_t id) {
    if (count == INT_MAX) return -1;
    if (count < max) out[count] = id;
    return count + 1;
}

int bpe_piece(const uzw_tokenizer *t, const uint8_t *p, size_t n, bpe_scratch *s, int32_t *out, int max,
              int count) {
    if (n == 0) return count;
    if (n == 1) return emit(out, max, count, t->byte_id[p[0]]);
    if (n <= UINT32_MAX) {
        int whole = tok_table_find2(&t->bytes, p, (uint32_t)n, NULL, 0);
        if (whole >= 0) return emit(out, max, count, whole);
    }
    if (scratch_reserve(s, n) != 0) return -1;
    for (size_t i = 0; i < n; i++) {
        s->id[i] = t->byte_id[p[i]];
        s->next[i] = i + 1 < n ? (int32_t)(i + 1) : -1;
        s->prev[i] = (int32_t)i - 1;
    }
    int nh = 0;
    for (size_t i = 0; i + 1 < n; i++) push_pair(t, s, &nh, (int32_t)i);
    while (nh > 0) {
        int32_t e[4];
        heap_pop(s->heap, &nh, e);
        int32_t left = e[1], right = s->next[left], merged;
        /* stale: the left part was merged away or changed, or its right neighbour changed */
        if (s->id[left] != e[2] || right < 0 || s->id[right] != e[3]) continue;
        pair_find(t, e[2], e[3], &merged);
        s->id[left] = merged;
        s->id[right] = -1;
        s->next[left] = s->next[right];
        if (s->next[right] >= 0) s->prev[s->next[right]] = left;
        if (s->prev[left] >= 0) push_pair(t, s, &nh, s->prev[left]);
        push_pair(t, s, &nh, left);
    }
    for (int32_t i = 0; i >= 0; i = s->next[i]) {
        count = emit(out, max, count, s->id[i]);
        if (count < 0) return -1;
    }
    return count;
}
