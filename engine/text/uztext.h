/* uztext.h - Uzbek and Russian text handling: the scoring normaliser, the Uzbek Latin canonical
 * form, the Uzbek Cyrillic <-> Latin transliterator (official 1995 Latin alphabet) and the
 * letter/word cues that tell Uzbek from Russian text. Pure functions on UTF-8 (no state, safe
 * from any thread); every returned string is malloc'ed (free()), NULL only when the input is NULL
 * or memory runs out. Invalid UTF-8 bytes are copied through unchanged.
 * Sources: engine/text/uz_normalize.c, uz_translit.c (its header lists every rule and every known
 * ambiguity), uz_ru_cues.c (the weights of the score), uz_ru_words.c, uz_apostrophe.c, utf8.c. */
#ifndef UZW_UZTEXT_H
#define UZW_UZTEXT_H

#include <stddef.h>

/* Text for scoring (WER/CER): lower-case (Latin, Cyrillic incl. ў қ ғ ҳ, Turkish/Azeri letters),
 * a run of apostrophe variants between two word characters folded to one ASCII ' (o‘zbek,
 * oʻzbek, o`zbek -> o'zbek), other apostrophes (quotes) dropped; punctuation and symbols (ASCII
 * and Unicode « » „ “ ” — – … ♪ ...) act as word separators, so a hyphen inside a word becomes a
 * space; digits kept; white space collapsed to one space, no leading/trailing space.
 * lang: "uz" also keeps the apostrophe of a word-final oʻ/gʻ (togʻ -> tog'), and keeps ё (a
 * letter of its own in Uzbek); "ru" folds ё to е; NULL or anything else: the generic rules only. */
char *uzw_text_normalize(const char *utf8, const char *lang);

/* Uzbek Latin in its canonical display form: o' and g' (with any of ' ` ´ ‘ ’ ʻ ʼ ′ ʹ ˈ) written
 * with U+02BB (oʻ gʻ), the tutuq belgisi (apostrophe after any other letter) written U+02BC (ʼ);
 * quote marks ('salom' -> 'salom'), case and punctuation kept. */
char *uzw_uz_latin_canonical(const char *utf8);

/* Uzbek Cyrillic -> Latin (1995 rules: е -> ye at word start and after a vowel/ъ/ь, else e;
 * ц -> s at word start and after a consonant, ts after a vowel; ё yo, ю yu, я ya, ў oʻ, ғ gʻ,
 * қ q, ҳ h, х x, ъ ʼ, ь dropped, ...; capitals kept: Ш -> Sh, or SH inside an all-capital word).
 * Latin letters and other characters are copied unchanged. */
char *uzw_uz_cyr_to_lat(const char *utf8);
/* Uzbek Latin -> Cyrillic (sh ш, ch ч, oʻ ў, gʻ ғ with any apostrophe variant, yo/yu/ya/ye ->
 * ё/ю/я/е, e -> э at word start and after a vowel, ʼ -> ъ, sʼh -> сҳ, ts -> ц only in -tsiya
 * after a vowel ...). Cyrillic and other characters are copied unchanged. Not an exact inverse:
 * ц written s, dropped ь/ъ, й before a vowel do not come back (see uz_translit.c). */
char *uzw_uz_lat_to_cyr(const char *utf8);

typedef enum { UZW_SCRIPT_NONE = 0, UZW_SCRIPT_LATIN = 1, UZW_SCRIPT_CYRILLIC = 2, UZW_SCRIPT_MIXED = 3 } uzw_script;
/* The script of the letters in text (NONE when it has no Latin or Cyrillic letter; MIXED when
 * neither has at least 90% of the letters). */
uzw_script uzw_text_script(const char *utf8);

/* Letter and word evidence of Uzbek vs Russian in a piece of text (a word or a segment).
 * NULL text, or no memory: all counts 0. A word is a run of letters (with in-word apostrophes
 * and hyphens); digits alone are no word. */
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
 * Uzbek, negative for Russian, 0 when there is no evidence (no letters, or cues NULL). Bounded
 * to [-8, 8]. A simple capped log-linear sum; the weights are in uz_ru_cues.c. Latin text of any
 * language counts as Uzbek: the score only weighs Uzbek against Russian. */
float uzw_text_uz_ru_logodds(const uzw_uz_ru_cues *cues);

#endif
