/*
 * pretokenize.c - Whisper's pre-tokeniser and uzw_tokenizer_encode.
 *
 * OAI's pattern is  's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 * run by tiktoken's Rust regex, where \s is the Unicode White_Space property. PCRE2's \s (even with
 * PCRE2_UCP) is tab..CR plus the Z categories, which misses U+0085, so \s is spelled out below as
 * the White_Space set. The compiled code is read-only; each call makes its own match data, so one
 * tokenizer can encode from several threads at once.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "tok_internal.h"

/* Unicode White_Space, as a class body. */
#define WS "\\t\\n\\x{0B}\\f\\r\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}"

static const char PATTERN[] = "'s|'t|'re|'ve|'m|'ll|'d"
                              "| ?\\p{L}+"
                              "| ?\\p{N}+"
                              "| ?[^" WS "\\p{L}\\p{N}]+"
                              "|[" WS "]+(?![^" WS "])"
                              "|[" WS "]+";

void *pretok_compile(char *err, size_t err_size) {
    int code;
    PCRE2_SIZE at;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)PATTERN, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP, &code, &at,
                                   NULL);
    if (!re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(code, msg, sizeof msg);
        snprintf(err, err_size, "tokenizer: pre-tokeniser regex failed to compile at %zu: %s", (size_t)at,
                 (const char *)msg);
        return NULL;
    }
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* optional: the interpreter is used if JIT is unavailable */
    return re;
}

void pretok_free(void *re) { pcre2_code_free((pcre2_code *)re); }

/* Length of the valid UTF-8 sequence at p (1..4), or 0: overlong forms, surrogates and code points
 * above U+10FFFF are invalid, as in PCRE2's own check. */
static size_t utf8_len(const uint8_t *p, size_t n) {
    uint8_t c = p[0];
    if (c < 0x80) return 1;
    size_t k;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) k = 2, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF) k = 3, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4) k = 4, cp = c & 0x07;
    else return 0;
    if (n < k) return 0;
    for (size_t i = 1; i < k; i++) {
        if ((p[i] & 0xC0) != 0x80) return 0;
        cp = cp << 6 | (p[i] & 0x3F);
    }
    if ((k == 3 && cp < 0x800) || (k == 4 && (cp < 0x10000 || cp > 0x10FFFF))) return 0;
    if (cp >= 0xD800 && cp <= 0xDFFF) return 0;
    return k;
}

static int utf8_valid(const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n;) {
        size_t k = utf8_len(p + i, n - i);
        if (!k) return 0;
        i += k;
    }
    return 1;
}

int uzw_tokenizer_encode(const uzw_tokenizer *t, const char *text, size_t len, int32_t *out, int max) {
    if (!t || !t->re || (!text && len) || max < 0 || (max > 0 && !out) || len > INT_MAX) return -1;
    if (len == 0) return 0;
    const uint8_t *s = (const uint8_t *)text;
    if (!utf8_valid(s, len)) return -1;
    pcre2_match_data *md = pcre2_match_data_create_from_pattern((const pcre2_code *)t->re, NULL);
    if (!md) return -1;
    bpe_scratch scratch = {0};
    int count = 0;
    size_t off = 0;
    while (off < len && count >= 0) {
        int rc = pcre2_match((const pcre2_code *)t->re, s, len, off, PCRE2_NO_UTF_CHECK, md, NULL);
        if (rc == PCRE2_ERROR_NOMATCH) break;
        if (rc < 0) {
            count = -1;
            break;
        }
        const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        if (ov[1] <= ov[0]) { /* cannot happen with this pattern; step one character to be safe */
            if (ov[0] >= len) break;
            off = ov[0] + utf8_len(s + ov[0], len - ov[0]);
            continue;
        }
        count = bpe_piece(t, s + ov[0], ov[1] - ov[0], &scratch, out, max, count);
        off = ov[1];
    }
    bpe_scratch_free(&scratch);
    pcre2_match_data_free(md);
    return count;
}
