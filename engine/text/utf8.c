/* utf8.c - strict UTF-8 decoding and encoding, the growable output buffer, simple case mapping
 * and the character classes used by the Uzbek/Russian text functions (see utf8.h). */
#include "text/utf8.h"

#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- decoding */

int uzw_utf8_decode(const unsigned char *s, size_t n, int32_t *cp) {
    unsigned c = s[0];
    if (c < 0x80) {
        *cp = (int32_t)c;
        return 1;
    }
    int len;
    int32_t v, min;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2, v = (int32_t)(c & 0x1F), min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3, v = (int32_t)(c & 0x0F), min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4, v = (int32_t)(c & 0x07), min = 0x10000;
    } else {
        *cp = -1;
        return 1;
    }
    if ((size_t)len > n) {
        *cp = -1;
        return 1;
    }
    for (int k = 1; k < len; k++) {
        if ((s[k] & 0xC0) != 0x80) {
            *cp = -1;
            return 1;
        }
        v = (v << 6) | (int32_t)(s[k] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) {
        *cp = -1;
        return 1;
    }
    *cp = v;
    return len;
}

int uzw_utf8_encode(int32_t cp, char out[4]) {
    if (cp < 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

uzw_u8unit *uzw_utf8_split(const char *s, size_t *n) {
    size_t bytes = strlen(s);
    uzw_u8unit *u = malloc((bytes + 1) * sizeof *u);
    if (!u) return NULL;
    size_t k = 0;
    for (size_t off = 0; off < bytes;) {
        int32_t cp;
        int len = uzw_utf8_decode((const unsigned char *)s + off, bytes - off, &cp);
        u[k].cp = cp;
        u[k].len = (uint8_t)len;
        u[k].off = off;
        k++;
        off += (size_t)len;
    }
    *n = k;
    return u;
}

/* ---------------------------------------------------------------- output buffer */

void uzw_sb_init(uzw_strbuf *b, size_t cap_hint) {
    b->len = 0;
    b->failed = 0;
    b->cap = cap_hint < 16 ? 16 : cap_hint;
    b->p = malloc(b->cap);
    if (!b->p) b->failed = 1, b->cap = 0;
}

static int sb_reserve(uzw_strbuf *b, size_t extra) {
    if (b->failed) return 0;
    if (b->len + extra + 1 <= b->cap) return 1;
    size_t cap = b->cap ? b->cap : 16;
    while (cap < b->len + extra + 1) {
        if (cap > ((size_t)-1) / 2) {
            b->failed = 1;
            return 0;
        }
        cap *= 2;
    }
    char *p = realloc(b->p, cap);
    if (!p) {
        b->failed = 1;
        return 0;
    }
    b->p = p;
    b->cap = cap;
    return 1;
}

void uzw_sb_bytes(uzw_strbuf *b, const char *s, size_t n) {
    if (n == 0 || !sb_reserve(b, n)) return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

void uzw_sb_str(uzw_strbuf *b, const char *s) { uzw_sb_bytes(b, s, strlen(s)); }

void uzw_sb_cp(uzw_strbuf *b, int32_t cp) {
    char tmp[4];
    int k = uzw_utf8_encode(cp, tmp);
    uzw_sb_bytes(b, tmp, (size_t)k);
}

void uzw_sb_unit(uzw_strbuf *b, const char *src, const uzw_u8unit *u) { uzw_sb_bytes(b, src + u->off, u->len); }

char *uzw_sb_finish(uzw_strbuf *b) {
    if (!sb_reserve(b, 0)) {
        free(b->p);
        b->p = NULL;
        return NULL;
    }
    b->p[b->len] = 0;
    char *p = b->p;
    b->p = NULL;
    return p;
}

/* ---------------------------------------------------------------- case */

int32_t uzw_cp_lower(int32_t c) {
    if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
    if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 32; /* Latin-1: À..Þ minus × */
    if (c >= 0x100 && c <= 0x17F) {                          /* Latin Extended-A */
        if (c == 0x130) return 'i';                          /* İ: Turkish/Azeri capital dotted I */
        if (c == 0x131 || c == 0x138 || c == 0x149 || c == 0x17F) return c; /* ı ĸ ŉ ſ: lower only */
        if (c == 0x178) return 0xFF;                                         /* Ÿ */
        if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) return (c & 1) ? c + 1 : c;
        return (c & 1) ? c : c + 1; /* U+0100..0137, 014A..0177: even code = capital */
    }
    if (c == 0x18F) return 0x259; /* Ə -> ə (Azeri) */
    if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2) return c + 32; /* Greek */
    if (c >= 0x410 && c <= 0x42F) return c + 32;                /* А..Я */
    if (c >= 0x400 && c <= 0x40F) return c + 80;                /* Ѐ..Џ, incl. Ё and Ў */
    if ((c >= 0x460 && c <= 0x481) || (c >= 0x48A && c <= 0x4BF) || (c >= 0x4D0 && c <= 0x52F))
        return (c & 1) ? c : c + 1; /* pairs, incl. Ғ U+0492, Қ U+049A, Ҳ U+04B2 */
    if (c == 0x4C0) return 0x4CF;
    if (c >= 0x4C1 && c <= 0x4CE) return (c & 1) ? c + 1 : c;
    return c;
}

int32_t uzw_cp_upper(int32_t c) {
    if (c == 0x131) return 'I';   /* ı */
    if (c == 0xFF) return 0x178;  /* ÿ */
    if (c == 0x259) return 0x18F; /* ə */
    if (c == 0x4CF) return 0x4C0;
    if (c == 0x3C2) return 0x3A3; /* final sigma */
    /* every other capital of uzw_cp_lower sits 32, 80 or 1 below its small letter */
    const int32_t cand[3] = {c - 32, c - 80, c - 1};
    for (int k = 0; k < 3; k++)
        if (cand[k] >= 0 && uzw_cp_lower(cand[k]) == c && cand[k] != c) return cand[k];
    return c;
}

/* ---------------------------------------------------------------- classes */

int uzw_cp_is_latin_letter(int32_t c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == 0xAA || c == 0xBA ||
           (c >= 0xC0 && c <= 0x24F && c != 0xD7 && c != 0xF7) || (c >= 0x250 && c <= 0x2AF) ||
           (c >= 0x1E00 && c <= 0x1EFF);
}

int uzw_cp_is_cyrillic_letter(int32_t c) { return (c >= 0x400 && c <= 0x481) || (c >= 0x48A && c <= 0x52F); }

int uzw_cp_is_apostrophe(int32_t c) {
    switch (c) {
    case 0x27: case 0x60: case 0xB4: case 0x2018: case 0x2019:
    case 0x2BB: case 0x2BC: case 0x2B9: case 0x2032: case 0x2C8:
        return 1;
    default:
        return 0;
    }
}

int uzw_cp_is_vowel(int32_t c) {
    c = uzw_cp_lower(c);
    switch (c) {
    case 'a': case 'e': case 'i': case 'o': case 'u':
    case 0x430: case 0x435: case 0x451: case 0x438: case 0x43E: case 0x443: /* а е ё и о у */
    case 0x45E: case 0x44D: case 0x44E: case 0x44F: case 0x44B:             /* ў э ю я ы */
        return 1;
    default:
        return 0;
    }
}
