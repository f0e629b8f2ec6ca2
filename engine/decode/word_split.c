/* word_split.c - tokens to words (faster-whisper's split_tokens_on_unicode / split_tokens_on_spaces)
 * and merge_punctuations, with Python's string semantics (lossy UTF-8, str.strip, `in`). */
#include <stdlib.h>
#include <string.h>

#include "decode/word_timing.h"

/* ---------------------------------------------------------------- lossy UTF-8 */

/* Decode bytes into code points, U+FFFD for each maximal invalid subpart. cp may be NULL (count only). */
static size_t utf8_codepoints(const uint8_t *b, size_t n, uint32_t *cp) {
    size_t i = 0, k = 0;
    while (i < n) {
        uint8_t c = b[i];
        int need;
        uint32_t v;
        uint8_t lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
        if (c < 0x80) { need = 0; v = c; }
        else if (c >= 0xC2 && c <= 0xDF) { need = 1; v = c & 0x1F; }
        else if (c >= 0xE0 && c <= 0xEF) {
            need = 2; v = c & 0x0F;
            if (c == 0xE0) lo = 0xA0;
            if (c == 0xED) hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3; v = c & 0x07;
            if (c == 0xF0) lo = 0x90;
            if (c == 0xF4) hi = 0x8F;
        } else { need = -1; v = 0; }
        if (need < 0) { if (cp) cp[k] = 0xFFFD; k++; i++; continue; }
        size_t j = 1;
        int ok = 1;
        for (int t = 0; t < need; t++, j++) {
            uint8_t lo_t = t == 0 ? lo : 0x80, hi_t = t == 0 ? hi : 0xBF;
            if (i + j >= n || b[i + j] < lo_t || b[i + j] > hi_t) { ok = 0; break; }
            v = (v << 6) | (b[i + j] & 0x3F);
        }
        if (cp) cp[k] = ok ? v : 0xFFFD;
        k++;
        i += j; /* on failure j counts the lead and the valid continuation bytes seen */
    }
    return k;
}

static size_t put_utf8(uint32_t v, char *o) {
    if (v < 0x80) { o[0] = (char)v; return 1; }
    if (v < 0x800) { o[0] = (char)(0xC0 | (v >> 6)); o[1] = (char)(0x80 | (v & 0x3F)); return 2; }
    if (v < 0x10000) {
        o[0] = (char)(0xE0 | (v >> 12)); o[1] = (char)(0x80 | ((v >> 6) & 0x3F)); o[2] = (char)(0x80 | (v & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (v >> 18)); o[1] = (char)(0x80 | ((v >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((v >> 6) & 0x3F)); o[3] = (char)(0x80 | (v & 0x3F));
    return 4;
}

char *uzw_utf8_lossy(const uint8_t *bytes, size_t n, size_t *n_chars) {
    size_t k = utf8_codepoints(bytes, n, NULL);
    uint32_t *cp = malloc(sizeof(uint32_t) * (k ? k : 1));
    char *s = malloc(3 * n + 1); /* each invalid byte (1 in) becomes 3 out at most */
    if (!cp || !s) { free(cp); free(s); return NULL; }
    utf8_codepoints(bytes, n, cp);
    size_t len = 0;
    for (size_t i = 0; i < k; i++) len += put_utf8(cp[i], s + len);
    s[len] = 0;
    free(cp);
    if (n_chars) *n_chars = k;
    return s;
}

/* ---------------------------------------------------------------- Python string helpers */

static int py_space(uint32_t c) {
    return (c >= 9 && c <= 13) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

/* str.strip() of valid UTF-8 s into a new string. */
static char *py_strip(const char *s) {
    size_t n = strlen(s), k = utf8_codepoints((const uint8_t *)s, n, NULL);
    uint32_t *cp = malloc(sizeof(uint32_t) * (k ? k : 1));
    char *o = malloc(n + 1);
    if (!cp || !o) { free(cp); free(o); return NULL; }
    utf8_codepoints((const uint8_t *)s, n, cp);
    size_t a = 0, b = k, len = 0;
    while (a < b && py_space(cp[a])) a++;
    while (b > a && py_space(cp[b - 1])) b--;
    for (size_t i = a; i < b; i++) len += put_utf8(cp[i], o + len);
    o[len] = 0;
    free(cp);
    return o;
}

/* For valid UTF-8 a byte search equals Python's code-point search. */
int uzw_str_in(const char *needle, const char *haystack) { return strstr(haystack, needle) != NULL; }

static int stripped_in(const char *s, const char *set, int *bad) {
    char *t = py_strip(s);
    if (!t) { *bad = 1; return 0; }
    int r = uzw_str_in(t, set);
    free(t);
    return r;
}

void uzw_wtimings_free(uzw_wtiming *w, int n) {
    if (!w) return;
    for (int i = 0; i < n; i++) free(w[i].text);
    free(w);
}

/* ---------------------------------------------------------------- splitting */

static char *decode_lossy(const uzw_tokenizer *tok, const int32_t *ids, int n, size_t *n_chars) {
    char *raw = uzw_tokenizer_decode(tok, ids, n);
    if (!raw) return NULL;
    char *s = uzw_utf8_lossy((const uint8_t *)raw, strlen(raw), n_chars);
    free(raw);
    return s;
}

/* split_tokens_on_unicode: a new subword whenever the tokens so far decode to whole characters
 * (or to a U+FFFD the full text also has at that place). */
static int split_unicode(const uzw_tokenizer *tok, const int32_t *tokens, int n, uzw_wtiming *out) {
    size_t n_full;
    char *full = decode_lossy(tok, tokens, n, &n_full);
    uint32_t *fcp = full ? malloc(sizeof(uint32_t) * (n_full ? n_full : 1)) : NULL;
    if (!fcp) { free(full); return -1; }
    utf8_codepoints((const uint8_t *)full, strlen(full), fcp);
    int nw = 0, first = 0;
    size_t offset = 0;
    for (int i = 0; i < n; i++) {
        size_t nc;
        char *dec = decode_lossy(tok, tokens + first, i + 1 - first, &nc);
        if (!dec) { free(full); free(fcp); for (int k = 0; k < nw; k++) free(out[k].text); return -1; }
        const char *r = strstr(dec, "\xEF\xBF\xBD");
        int whole = !r;
        if (r) {
            size_t at = offset + utf8_codepoints((const uint8_t *)dec, (size_t)(r - dec), NULL);
            whole = at < n_full && fcp[at] == 0xFFFD;
        }
        if (whole) {
            out[nw] = (uzw_wtiming){.text = dec, .n_tokens = i + 1 - first};
            nw++;
            first = i + 1;
            offset += nc;
        } else {
            free(dec);
        }
    }
    free(full);
    free(fcp);
    return nw;
}

static const char *const PY_PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

int uzw_split_words(const uzw_tokenizer *tok, const int32_t *tokens, int n, int eot, int by_unicode, uzw_wtiming **out) {
    *out = NULL;
    uzw_wtiming *w = calloc((size_t)(n ? n : 1), sizeof *w);
    if (!w) return -1;
    int ns = split_unicode(tok, tokens, n, w);
    if (ns < 0) { free(w); return -1; }
    if (by_unicode) { *out = w; return ns; }
    /* split_tokens_on_spaces: join subwords that neither start with a space nor are punctuation */
    int nw = 0, at = 0, bad = 0;
    for (int s = 0; s < ns; s++) {
        int special = tokens[at] >= eot, with_space = w[s].text[0] == ' ';
        int punct = stripped_in(w[s].text, PY_PUNCTUATION, &bad);
        at += w[s].n_tokens;
        if (special || with_space || punct || nw == 0) {
            w[nw++] = w[s];
            continue;
        }
        size_t a = strlen(w[nw - 1].text), b = strlen(w[s].text);
        char *joined = realloc(w[nw - 1].text, a + b + 1);
        if (!joined) { bad = 1; free(w[s].text); continue; }
        memcpy(joined + a, w[s].text, b + 1);
        w[nw - 1].text = joined;
        w[nw - 1].n_tokens += w[s].n_tokens;
        free(w[s].text);
    }
    if (bad) { uzw_wtimings_free(w, nw); return -1; }
    *out = w;
    return nw;
}

/* ---------------------------------------------------------------- merge_punctuations */

static int concat_into(char **dst, const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    char *s = malloc(la + lb + 1);
    if (!s) return -1;
    memcpy(s, a, la);
    memcpy(s + la, b, lb + 1);
    free(*dst);
    *dst = s;
    return 0;
}

static int make_empty(char **s) {
    char *e = malloc(1);
    if (!e) return -1;
    e[0] = 0;
    free(*s);
    *s = e;
    return 0;
}

int uzw_merge_punctuations(uzw_wtiming *w, int n, const char *prepended, const char *appended) {
    int bad = 0;
    /* prepended punctuation joins the following word, right to left */
    for (int i = n - 2, j = n - 1; i >= 0; i--) {
        uzw_wtiming *prev = &w[i], *next = &w[j];
        if (prev->text[0] == ' ' && stripped_in(prev->text, prepended, &bad)) {
            if (concat_into(&next->text, prev->text, next->text) || make_empty(&prev->text)) return -1;
            next->n_tokens += prev->n_tokens;
            prev->n_tokens = 0;
        } else {
            j = i;
        }
    }
    /* appended punctuation joins the previous word, left to right */
    for (int i = 0, j = 1; j < n; j++) {
        uzw_wtiming *prev = &w[i], *next = &w[j];
        size_t lp = strlen(prev->text);
        if (!(lp && prev->text[lp - 1] == ' ') && uzw_str_in(next->text, appended)) {
            if (concat_into(&prev->text, prev->text, next->text) || make_empty(&next->text)) return -1;
            prev->n_tokens += next->n_tokens;
            next->n_tokens = 0;
        } else {
            i = j;
        }
    }
    return bad ? -1 : 0;
}
