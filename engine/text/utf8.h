/* utf8.h - internal helpers of the text module: strict UTF-8 decoding into an array of code
 * points (invalid bytes kept as -1 so they can be copied through), a growable output buffer,
 * simple case mapping for the Latin, Cyrillic and Greek letters we meet in Uzbek and Russian
 * text, and character classes (letter scripts, apostrophe variants). No global state. */
#ifndef UZW_TEXT_UTF8_H
#define UZW_TEXT_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------------------------- decoding */

/* Decode the code point at s (n >= 1 bytes readable). Returns the bytes consumed (1..4) and sets
 * *cp; an invalid, overlong, surrogate or truncated sequence consumes 1 byte and sets *cp = -1. */
int uzw_utf8_decode(const unsigned char *s, size_t n, int32_t *cp);
/* Encode cp (0..0x10FFFF, not a surrogate) into out; returns the byte count, 0 when cp is invalid. */
int uzw_utf8_encode(int32_t cp, char out[4]);

/* One decoded unit of a string: cp < 0 for an invalid byte (copy s[off] through unchanged). */
typedef struct {
    int32_t cp;
    uint8_t len; /* bytes in the source */
    size_t off;  /* byte offset in the source */
} uzw_u8unit;

/* Decode all of s (NUL-terminated) into a malloc'ed array of units; *n gets the count. The array
 * always has room for n + 1 entries; NULL only when out of memory. */
uzw_u8unit *uzw_utf8_split(const char *s, size_t *n);
/* The code point of unit i, or UZW_CP_NONE when i is outside 0..n-1 (never matches a class). */
#define UZW_CP_NONE (-2)
static inline int32_t uzw_unit_cp(const uzw_u8unit *u, size_t n, ptrdiff_t i) {
    return (i < 0 || (size_t)i >= n) ? UZW_CP_NONE : u[i].cp;
}

/* ---------------------------------------------------------------- output buffer */

typedef struct {
    char *p;
    size_t len, cap;
    int failed; /* an allocation failed: finish returns NULL */
} uzw_strbuf;

void uzw_sb_init(uzw_strbuf *b, size_t cap_hint);
void uzw_sb_bytes(uzw_strbuf *b, const char *s, size_t n);
void uzw_sb_str(uzw_strbuf *b, const char *s);
void uzw_sb_cp(uzw_strbuf *b, int32_t cp); /* cp < 0 or invalid: nothing written */
/* Copy unit u of src as it was in the source (invalid bytes included). */
void uzw_sb_unit(uzw_strbuf *b, const char *src, const uzw_u8unit *u);
/* NUL-terminate and hand over the string (caller frees); NULL when an allocation failed. */
char *uzw_sb_finish(uzw_strbuf *b);

/* ---------------------------------------------------------------- case and classes */

/* Simple (one code point) case mapping: ASCII, Latin-1, Latin Extended-A, Ə/ə, Greek, Cyrillic
 * (incl. Ў Қ Ғ Ҳ and the other letters of U+0400..U+052F). İ lowers to i and ı uppers to I. */
int32_t uzw_cp_lower(int32_t c);
int32_t uzw_cp_upper(int32_t c);
static inline int uzw_cp_is_upper(int32_t c) { return uzw_cp_lower(c) != c; }

int uzw_cp_is_latin_letter(int32_t c);    /* a-z, Latin-1/Extended letters, IPA (ə), U+1Exx */
int uzw_cp_is_cyrillic_letter(int32_t c); /* U+0400..U+052F minus the combining signs */
static inline int uzw_cp_is_letter(int32_t c) { return uzw_cp_is_latin_letter(c) || uzw_cp_is_cyrillic_letter(c); }
/* The apostrophe variants written for oʻ gʻ and the tutuq belgisi:
 * ' ` ´ ‘ ’ ʻ ʼ ʹ ′ ˈ (U+0027 U+0060 U+00B4 U+2018 U+2019 U+02BB U+02BC U+02B9 U+2032 U+02C8). */
int uzw_cp_is_apostrophe(int32_t c);
/* Vowels: Uzbek Latin a e i o u; Cyrillic а е ё и о у ў э ю я ы (either case). */
int uzw_cp_is_vowel(int32_t c);

#endif
