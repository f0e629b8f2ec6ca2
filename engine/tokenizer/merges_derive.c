/*
 * merges_derive.c - merge list from tiktoken ranks (the rule OAI's convert_openai_to_hf.py uses to
 * write HF merges.txt): for token r of two or more bytes, run rank BPE on its bytes allowing only
 * merges into tokens of rank < r; the two parts left are the merge that creates r. Tokens that do
 * not end in exactly two parts are left out, as HF does (none in Whisper's two files).
 */
#include <stdio.h>
#include <stdlib.h>

#include "tok_internal.h"

/* Rank of the part pair starting at parts i and i+1 of token bytes p (starts in st, k parts, the
 * last ending at n), or -1 when it is not a token of rank below limit. */
static int32_t pair_rank(const tok_table *tb, const uint8_t *p, const uint32_t *st, int k, uint32_t n, int i,
                         int limit) {
    uint32_t a = st[i], b = st[i + 1], e = i + 2 < k ? st[i + 2] : n;
    int id = tok_table_find2(tb, p + a, b - a, p + b, e - b);
    return id >= 0 && id < limit ? id : -1;
}

int uzw_tokenizer_derive_merges(int n_bpe, const uint8_t *const *tok, const uint32_t *tok_len, int32_t **out,
                                int *n_merges, char *err, size_t err_size) {
    if (!out || !n_merges) {
        snprintf(err, err_size, "derive merges: no output pointers");
        return -1;
    }
    *out = NULL;
    *n_merges = 0;
    tok_table tb;
    if (tok_table_build(&tb, n_bpe, tok, tok_len, err, err_size) != 0) return -1;
    uint32_t max_len = 0;
    for (int r = 0; r < n_bpe; r++)
        if (tok_len[r] > max_len) max_len = tok_len[r];
    int32_t *merges = malloc(sizeof(int32_t) * 2 * (size_t)n_bpe);
    uint32_t *st = malloc(sizeof(uint32_t) * ((size_t)max_len + 1)); /* (k) start byte of each part */
    int32_t *pr = malloc(sizeof(int32_t) * ((size_t)max_len + 1));   /* (k-1) rank of pair (i, i+1) */
    if (!merges || !st || !pr) {
        snprintf(err, err_size, "derive merges: out of memory (longest token %u bytes)", max_len);
        free(merges), free(st), free(pr), tok_table_free(&tb);
        return -1;
    }
    int m = 0;
    for (int r = 0; r < n_bpe; r++) {
        uint32_t n = tok_len[r];
        if (n < 2) continue;
        const uint8_t *p = tok[r];
        int k = (int)n;
        for (int i = 0; i < k; i++) st[i] = (uint32_t)i;
        for (int i = 0; i + 1 < k; i++) pr[i] = pair_rank(&tb, p, st, k, n, i, r);
        for (;;) {
            int best = -1;
            for (int i = 0; i + 1 < k; i++)
                if (pr[i] >= 0 && (best < 0 || pr[i] < pr[best])) best = i;
            if (best < 0) break;
            /* merge parts best and best+1: drop the start of best+1 */
            for (int i = best + 1; i + 1 < k; i++) st[i] = st[i + 1];
            for (int i = best + 1; i + 2 < k; i++) pr[i] = pr[i + 1];
            k--;
            if (best > 0) pr[best - 1] = pair_rank(&tb, p, st, k, n, best - 1, r);
            if (best + 1 < k) pr[best] = pair_rank(&tb, p, st, k, n, best, r);
        }
        if (k != 2) continue;
        int a = tok_table_find2(&tb, p, st[1], NULL, 0);
        int b = tok_table_find2(&tb, p + st[1], n - st[1], NULL, 0);
        if (a < 0 || b < 0) {
            snprintf(err, err_size, "derive merges: token %d splits into parts that are not tokens", r);
            free(merges), free(st), free(pr), tok_table_free(&tb);
            return -1;
        }
        merges[2 * m] = a;
        merges[2 * m + 1] = b;
        m++;
    }
    free(st);
    free(pr);
    tok_table_free(&tb);
    *out = merges;
    *n_merges = m;
    return 0;
}
