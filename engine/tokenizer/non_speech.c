/*
 * non_speech.c - OAI's default non-speech suppress list (whisper/tokenizer.py non_speech_tokens):
 * each symbol with and without a leading space is encoded; single-token encodings are kept, and for
 * the music glyphs (U+2640..U+267F, which share their first two UTF-8 bytes) the first token of a
 * longer encoding too; plus the first tokens of " -" and " '". Sorted, unique, specials excluded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tok_internal.h"

static const char *const SYMBOLS[] = {
    "\"", "#", "(", ")", "*", "+", "/", ":", ";", "<", "=", ">", "@", "[", "\\", "]", "^", "_", "`", "{", "|", "}", "~",
    "\xE3\x80\x8C", "\xE3\x80\x8D", "\xE3\x80\x8E", "\xE3\x80\x8F", /* 「 」 『 』 */
    "<<", ">>", "<<<", ">>>", "--", "---", "-(", "-[", "('", "(\"", "((", "))", "(((", ")))", "[[", "]]", "{{", "}}",
    "\xE2\x99\xAA\xE2\x99\xAA", "\xE2\x99\xAA\xE2\x99\xAA\xE2\x99\xAA", /* ♪♪ ♪♪♪ */
};

static const char *const MUSIC[] = {
    "\xE2\x99\xA9", "\xE2\x99\xAA", "\xE2\x99\xAB", "\xE2\x99\xAC", "\xE2\x99\xAD", "\xE2\x99\xAE", "\xE2\x99\xAF",
};                                                                  /* ♩ ♪ ♫ ♬ ♭ ♮ ♯ */

#define MAX_IDS 8 /* longest encoding of any symbol above */
#define MAX_SET 256

static int cmp_i32(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* Encode sym with and without a leading space; add single tokens (or the first token if any_first). */
static int add_symbol(const uzw_tokenizer *t, const char *sym, int any_first, int32_t *set, int *n) {
    char buf[32];
    for (int spaced = 0; spaced < 2; spaced++) {
        int len = snprintf(buf, sizeof buf, "%s%s", spaced ? " " : "", sym);
        if (len < 0 || len >= (int)sizeof buf) return -1;
        int32_t ids[MAX_IDS];
        int k = uzw_tokenizer_encode(t, buf, (size_t)len, ids, MAX_IDS);
        if (k < 1) return -1;
        if ((k == 1 || any_first) && *n < MAX_SET) set[(*n)++] = ids[0];
    }
    return 0;
}

int uzw_tokenizer_non_speech(const uzw_tokenizer *t, int32_t *out, int max) {
    if (!t || max < 0 || (max > 0 && !out)) return -1;
    int32_t set[MAX_SET];
    int n = 0;
    int32_t ids[MAX_IDS];
    if (uzw_tokenizer_encode(t, " -", 2, ids, MAX_IDS) < 1) return -1;
    set[n++] = ids[0];
    if (uzw_tokenizer_encode(t, " '", 2, ids, MAX_IDS) < 1) return -1;
    set[n++] = ids[0];
    for (size_t i = 0; i < sizeof SYMBOLS / sizeof SYMBOLS[0]; i++)
        if (add_symbol(t, SYMBOLS[i], 0, set, &n) != 0) return -1;
    for (size_t i = 0; i < sizeof MUSIC / sizeof MUSIC[0]; i++)
        if (add_symbol(t, MUSIC[i], 1, set, &n) != 0) return -1;
    qsort(set, (size_t)n, sizeof set[0], cmp_i32);
    int u = 0;
    for (int i = 0; i < n; i++)
        if (u == 0 || set[i] != set[u - 1]) set[u++] = set[i];
    if (u > max) return -1; /* the caller's buffer is too small: write nothing */
    memcpy(out, set, sizeof(int32_t) * (size_t)u);
    return u;
}
