/* uztext.h - Uzbek and Russian text handling: the scoring normaliser, the Uzbek Latin canonical
 * form, the Uzbek Cyrillic <-> Latin transliterator (official 1995 Latin alphabet) and the
 * letter/word cues that tell Uzbek from Russian text. Pure functions on UTF-8; every returned
 * string is malloc'ed (free()), NULL only when out of memory. Invalid UTF-8 bytes are copied
 * through unchanged. */
#ifndef UZW_UZTEXT_H
#define UZW_UZTEXT_H

#include <stddef.h>

/* Text for scoring (WER/CER): lower-case (Latin, Cyrillic incl. ў қ ғ ҳ, Turkish/Azeri letters),
 * every apostrophe variant folded to ASCII ' (inside words) or dropped (elsewhere), punctuation
 * removed (hyphens inside words kept as word separators), white space collapsed to one space,
 * no leading/trailing space. lang: "uz" additionally folds o'/g' spellings to one form; "ru" folds
 * ё to е; NULL or anything else: the generic rules only. */
char *uzw_text_normalize(const char *utf8, const char *lang);

/* Uzbek Latin in its canonical display form: o' and g' (with any of ' ` ´ ‘ ’ ʻ ʼ ′ ʹ) written with
 * U+02BB (oʻ gʻ), the tutuq belgisi (apostrophe after any other letter) written U+02BC (ʼ);
 * case and punctuation kept. */
char *uzw_uz_latin_canonical(const char *utf8);

/* Uzbek Cyrillic -> Latin (1995 rules: е -> ye at word start and after a vowel/ъ/ь, else e;
 * ц -> s at word start and after a consonant, ts after a vowel; ё yo, ю yu, я ya, ў oʻ, ғ gʻ,
 * қ q, ҳ h, х x, ъ ʼ, ь dropped, ...; capitals kept: Ш -> Sh, or SH inside an all-capital word).
 * Latin letters and other characters are copied unchanged. */
char *uzw_uz_cyr_to_lat(const char *utf8);
/* Uzbek Latin -> Cyrillic (sh ч ... oʻ -> ў, gʻ -> ғ, yo/yu/ya/ye -> ё/ю/я/е, e -> э at word
 * start, ʼ -> ъ, sʼh -> сҳ ...). Cyrillic and other characters are copied unchanged. */
char *uzw_uz_lat_to_cyr(const char *utf8);

typedef enum { UZW_SCRIPT_NONE = 0, UZW_SCRIPT_LATIN = 1, UZW_SCRIPT_CYRILLIC = 2, UZW_SCRIPT_MIXED = 3 } uzw_script;
/* The script of the letters in text (NONE when it has no Latin or Cyrillic letter; MIXED when
 * neither has at least 90% of the letters). */
uzw_script uzw_text_script(const char *utf8);

/* Letter and word evidence of Uzbek vs Russian in a piece of text (a word or a segment). */
typedef struct {
    int n_letters;      /* Latin + Cyrillic letters */
    int n_latin, n_cyrillic;
    int n_uz_cyr;       /* ў қ ғ ҳ (upper or lower) - Uzbek Cyrillic only */
    int n_ru_cyr;       /* ы щ - Russian only */
    int n_uz_latin;     /* oʻ gʻ (any apostrophe), q, x, and sh/ch digraphs */
    int n_turkic_latin; /* ə ı ş ç ğ ö ü - Whisper writes Uzbek audio with them */
    int n_uz_words, n_ru_words; /* words from short lists of frequent Uzbek / Russian words */
    int n_words;
} uzw_uz_ru_cues;
void uzw_text_uz_ru_cues(const char *utf8, uzw_uz_ru_cues *out);
/* Log-odds (natural log) that the text is Uzbek rather than Russian from its cues: positive for
 * Uzbek, negative for Russian, 0 when there is no evidence. Bounded to [-8, 8]. */
float uzw_text_uz_ru_logodds(const uzw_uz_ru_cues *cues);

#endif
