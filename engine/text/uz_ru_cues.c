/* uz_ru_cues.c - script detection and the letter/word evidence of Uzbek vs Russian text, and a
 * small log-linear score over that evidence.
 *
 * Cues (uzw_text_uz_ru_cues):
 *   letters     Latin and Cyrillic letters (uzw_cp_is_latin_letter / _cyrillic_letter);
 *   n_uz_cyr    ў қ ғ ҳ: letters of the Uzbek Cyrillic alphabet that Russian does not have;
 *   n_ru_cyr    ы щ: Russian letters that the Uzbek Cyrillic alphabet does not have (ь and ъ
 *               are left out: Uzbek writes ъ for the tutuq and keeps ь in Russian loans);
 *   n_uz_latin  oʻ gʻ (any apostrophe variant), q, x and the digraphs sh ch of Uzbek Latin;
 *   n_turkic_latin  ə ı İ ş ç ğ ö ü (either case): Whisper often writes Uzbek speech in Turkish or
 *               Azeri spelling ("Şu orunda o da mimasız, hayvanızız desem");
 *   words       runs of letters, with in-word apostrophes and hyphens between letters; each is
 *               lower-cased, its apostrophes folded to ', and looked up in the word lists of
 *               uz_ru_words.c.
 * Counts saturate at INT_MAX. When memory runs out every count is 0.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "text/uz_internal.h"
#include "text/uztext.h"

/* ---------------------------------------------------------------- the score's weights
 * Natural-log weights, each a rough likelihood ratio, with caps so that one kind of evidence
 * cannot decide a long text alone. */

/* ў қ ғ ҳ: Russian never writes them, Uzbek Cyrillic needs them constantly; strong. */
#define W_UZ_CYR_LETTER 2.0f
#define CAP_UZ_CYR_LETTERS 6.0f
/* ы щ: Uzbek Cyrillic has neither letter; as strong as the Uzbek letters. */
#define W_RU_CYR_LETTER (-2.0f)
#define CAP_RU_CYR_LETTERS 6.0f
/* A Latin-script word (counted as n_words * n_latin / n_letters): Whisper writes Russian in
 * Cyrillic, so Latin text is Uzbek (or another Latin-script language: the score only weighs
 * Uzbek against Russian). */
#define W_LATIN_WORD 1.5f
#define CAP_LATIN_WORDS 4.5f
/* oʻ gʻ q x sh ch: Uzbek Latin spellings; weaker, since q x sh ch also occur in other Latin text. */
#define W_UZ_LATIN_MARKER 1.0f
#define CAP_UZ_LATIN_MARKERS 4.0f
/* ə ı ş ç ğ ö ü: Uzbek audio transcribed in Turkish/Azeri spelling, never Russian. */
#define W_TURKIC_LETTER 1.0f
#define CAP_TURKIC_LETTERS 3.0f
/* A Cyrillic word in a text without a single ў қ ғ ҳ: weak evidence of Russian, since these
 * letters are frequent in Uzbek Cyrillic (қ alone in ҳам, қандай, қилди, йўқ ...); weak and
 * capped low because short Uzbek sentences can lack them ("Мен бугун бозорга бордим."), where
 * one hit in the word list outweighs it. Only used when n_uz_cyr == 0. */
#define W_CYR_WORD_NO_UZ (-0.25f)
#define CAP_CYR_WORDS_NO_UZ 1.0f
/* A hit in the frequent-word lists (function words, pronouns, auxiliaries). */
#define W_UZ_WORD 1.5f
#define W_RU_WORD (-1.5f)
#define CAP_WORDS 6.0f
/* The bound of the score. */
#define LOGODDS_MAX 8.0f

static void bump(int *c) {
    if (*c < INT_MAX) (*c)++;
}

/* ---------------------------------------------------------------- script */

uzw_script uzw_text_script(const char *utf8) {
    if (!utf8) return UZW_SCRIPT_NONE;
    size_t latin = 0, cyr = 0, bytes = strlen(utf8);
    for (size_t off = 0; off < bytes;) {
        int32_t c;
        off += (size_t)uzw_utf8_decode((const unsigned char *)utf8 + off, bytes - off, &c);
        if (uzw_cp_is_latin_letter(c))
            latin++;
        else if (uzw_cp_is_cyrillic_letter(c))
            cyr++;
    }
    size_t total = latin + cyr;
    if (total == 0) return UZW_SCRIPT_NONE;
    if (latin * 10 >= total * 9) return UZW_SCRIPT_LATIN;
    if (cyr * 10 >= total * 9) return UZW_SCRIPT_CYRILLIC;
    return UZW_SCRIPT_MIXED;
}

/* ---------------------------------------------------------------- cues */

static int is_uz_cyr(int32_t c) {
    c = uzw_cp_lower(c);
    return c == 0x45E || c == 0x49B || c == 0x493 || c == 0x4B3; /* ў қ ғ ҳ */
}

static int is_ru_cyr(int32_t c) {
    c = uzw_cp_lower(c);
    return c == 0x44B || c == 0x449; /* ы щ */
}

static int is_turkic(int32_t c) {
    switch (c) {
    case 0x259: case 0x18F: /* ə Ə */
    case 0x131: case 0x130: /* ı İ */
    case 0x15F: case 0x15E: /* ş Ş */
    case 0xE7: case 0xC7:   /* ç Ç */
    case 0x11F: case 0x11E: /* ğ Ğ */
    case 0xF6: case 0xD6:   /* ö Ö */
    case 0xFC: case 0xDC:   /* ü Ü */
        return 1;
    default:
        return 0;
    }
}

static int is_combining(int32_t c) { return c >= 0x300 && c <= 0x36F; }

/* Unit i belongs to a word: a letter, a combining mark, an in-word apostrophe, or a hyphen
 * between two letters. */
static int in_word(const uzw_u8unit *u, size_t n, const uint8_t *role, size_t i) {
    int32_t c = u[i].cp;
    if (uzw_cp_is_letter(c) || is_combining(c)) return 1;
    if (role[i] == UZW_APOS_OKINA || role[i] == UZW_APOS_TUTUQ) return 1;
    if (c == '-' || c == 0x2010 || c == 0x2011)
        return uzw_cp_is_letter(uzw_unit_cp(u, n, (ptrdiff_t)i - 1)) && uzw_cp_is_letter(uzw_unit_cp(u, n, (ptrdiff_t)i + 1));
    return 0;
}

#define WORD_KEY_MAX 96 /* longer words are counted but not looked up (no list word is that long) */

static void count_word(const uzw_u8unit *u, const uint8_t *role, size_t a, size_t z, uzw_uz_ru_cues *out) {
    char key[WORD_KEY_MAX + 4];
    size_t len = 0;
    int letters = 0, fits = 1;
    for (size_t i = a; i < z && fits; i++) {
        char tmp[4];
        int k;
        if (role[i] != UZW_APOS_NONE) {
            tmp[0] = '\'', k = 1;
        } else {
            letters += uzw_cp_is_letter(u[i].cp);
            k = uzw_utf8_encode(uzw_cp_lower(u[i].cp), tmp);
        }
        if (len + (size_t)k > WORD_KEY_MAX) fits = 0;
        else memcpy(key + len, tmp, (size_t)k), len += (size_t)k;
    }
    if (!letters) return;
    bump(&out->n_words);
    if (!fits) return;
    key[len] = 0;
    if (uzw_word_in_list(uzw_uz_common_words, key)) bump(&out->n_uz_words);
    if (uzw_word_in_list(uzw_ru_common_words, key)) bump(&out->n_ru_words);
}

void uzw_text_uz_ru_cues(const char *utf8, uzw_uz_ru_cues *out) {
    if (!out) return;
    memset(out, 0, sizeof *out);
    if (!utf8) return;
    size_t n;
    uzw_u8unit *u = uzw_utf8_split(utf8, &n);
    uint8_t *role = calloc(n + 1, 1);
    if (!u || !role) {
        free(u);
        free(role);
        return;
    }
    uzw_uz_apostrophe_roles(u, n, role);
    for (size_t i = 0; i < n; i++) {
        int32_t c = u[i].cp;
        if (uzw_cp_is_latin_letter(c)) {
            bump(&out->n_latin);
            bump(&out->n_letters);
            int lc = uzw_cp_lower(c);
            int32_t next_lc = uzw_cp_lower(uzw_unit_cp(u, n, (ptrdiff_t)i + 1));
            if (lc == 'q' || lc == 'x' || ((lc == 's' || lc == 'c') && next_lc == 'h') ||
                ((lc == 'o' || lc == 'g') && role[i + 1] == UZW_APOS_OKINA))
                bump(&out->n_uz_latin);
            if (is_turkic(c)) bump(&out->n_turkic_latin);
        } else if (uzw_cp_is_cyrillic_letter(c)) {
            bump(&out->n_cyrillic);
            bump(&out->n_letters);
            if (is_uz_cyr(c)) bump(&out->n_uz_cyr);
            if (is_ru_cyr(c)) bump(&out->n_ru_cyr);
        }
    }
    for (size_t i = 0; i < n;) {
        if (!in_word(u, n, role, i)) {
            i++;
            continue;
        }
        size_t z = i;
        while (z < n && in_word(u, n, role, z)) z++;
        count_word(u, role, i, z, out);
        i = z;
    }
    free(u);
    free(role);
}

/* ---------------------------------------------------------------- score */

static float capped(float w, float count, float cap) {
    float v = w * count;
    if (v > cap) return cap;
    if (v < -cap) return -cap;
    return v;
}

float uzw_text_uz_ru_logodds(const uzw_uz_ru_cues *c) {
    if (!c || c->n_letters <= 0) return 0.0f;
    float letters = (float)c->n_letters;
    float latin_words = (float)c->n_words * (float)c->n_latin / letters;
    float cyr_words = (float)c->n_words * (float)c->n_cyrillic / letters;
    float s = 0.0f;
    s += capped(W_UZ_CYR_LETTER, (float)c->n_uz_cyr, CAP_UZ_CYR_LETTERS);
    s += capped(W_RU_CYR_LETTER, (float)c->n_ru_cyr, CAP_RU_CYR_LETTERS);
    s += capped(W_LATIN_WORD, latin_words, CAP_LATIN_WORDS);
    s += capped(W_UZ_LATIN_MARKER, (float)c->n_uz_latin, CAP_UZ_LATIN_MARKERS);
    s += capped(W_TURKIC_LETTER, (float)c->n_turkic_latin, CAP_TURKIC_LETTERS);
    if (c->n_uz_cyr == 0) s += capped(W_CYR_WORD_NO_UZ, cyr_words, CAP_CYR_WORDS_NO_UZ);
    s += capped(W_UZ_WORD, (float)c->n_uz_words, CAP_WORDS);
    s += capped(W_RU_WORD, (float)c->n_ru_words, CAP_WORDS);
    if (s > LOGODDS_MAX) s = LOGODDS_MAX;
    if (s < -LOGODDS_MAX) s = -LOGODDS_MAX;
    return s;
}
