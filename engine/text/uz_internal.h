/* uz_internal.h - internal pieces shared by the Uzbek text functions: what each apostrophe in a
 * piece of Uzbek Latin text is (part of oʻ/gʻ, the tutuq belgisi, or a quote mark), and the short
 * lists of frequent Uzbek and Russian words behind the language cues. */
#ifndef UZW_TEXT_UZ_INTERNAL_H
#define UZW_TEXT_UZ_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "text/utf8.h"

/* ---------------------------------------------------------------- apostrophes (uz_apostrophe.c) */

typedef enum {
    UZW_APOS_NONE = 0,  /* not an apostrophe variant */
    UZW_APOS_OKINA = 1, /* after Latin o/O/g/G: half of the letter oʻ / gʻ */
    UZW_APOS_TUTUQ = 2, /* after any other Latin letter (or after an okina): the tutuq belgisi ʼ */
    UZW_APOS_QUOTE = 3, /* anything else: a quote mark, a prime after a digit, ... */
} uzw_apos_role;

/* The role of every unit (UZW_APOS_NONE for non-apostrophes) into role[0..n-1]. Rules:
 * - an apostrophe variant not preceded by a Latin letter (or by an okina/tutuq) is a QUOTE; when
 *   it is followed by a Latin letter it opens a single quotation (ʻ and ʼ never do: they are
 *   modifier letters, and so the canonical form is a fixed point);
 * - preceded by a letter and not followed by one, while a quotation opened by the same mark (or
 *   ‘ closed by ’) is open, it closes that quotation: QUOTE ('salom' keeps both marks);
 * - otherwise after o/O/g/G: OKINA; after any other letter or after an okina/tutuq: TUTUQ
 *   (moʻʼjiza: o + okina + tutuq; word-final tutuq as in mavqeʼ).
 * Only Latin letters count: apostrophes in Cyrillic text are quote marks. */
void uzw_uz_apostrophe_roles(const uzw_u8unit *u, size_t n, uint8_t *role);

/* ---------------------------------------------------------------- word lists (uz_ru_words.c) */

/* Lower-case, NULL-terminated lists. Uzbek: Latin (apostrophes written ASCII ') and Cyrillic
 * forms; Russian: Cyrillic. No word is in both lists, and words that are ordinary words of the
 * other language (у, о, а, она, то, от, из, тут, нам, бор, мой, без ...) are in neither. */
extern const char *const uzw_uz_common_words[];
extern const char *const uzw_ru_common_words[];
/* 1 when word (lower-case, apostrophes as ASCII ') is in the list. */
int uzw_word_in_list(const char *const *list, const char *word);

#endif
