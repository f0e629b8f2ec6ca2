/* uz_translit.c - Uzbek Cyrillic <-> Latin transliteration following the official Latin alphabet
 * of 1995 (with the 1995 spellings oʻ gʻ and the tutuq belgisi ʼ).
 *
 * Cyrillic -> Latin (uzw_uz_cyr_to_lat), letter by letter:
 *   а a  б b  в v  г g  д d  ж j  з z  и i  й y  к k  л l  м m  н n  о o  п p  р r  с s  т t  у u
 *   ф f  х x  ч ch  ш sh  э e  ё yo  ю yu  я ya  ў oʻ  қ q  ғ gʻ  ҳ h  (ʻ = U+02BB)
 *   е  ye at the start of a word and after a vowel, ъ or ь (Ер Yer, поезд poyezd, объект obyekt,
 *      премьер premyer); e elsewhere (келди keldi).
 *   ц  s at the start of a word and after a consonant (цирк sirk, концерт konsert, станция
 *      stansiya); ts after a vowel (милиция militsiya).
 *   ъ  the tutuq belgisi ʼ (U+02BC): маъно maʼno, санъат sanʼat, мўъжиза moʻʼjiza, маъюс maʼyus;
 *      but dropped between a consonant and е ё ю я, where it is the Russian separating sign and
 *      the y of ye/yo/yu/ya already carries it (объект obyekt, съезд syezd).
 *   ь  dropped (апрель aprel, премьер premyer).
 *   сҳ sʼh, so that it is not read as ш (Исҳоқ Isʼhoq, асҳоб asʼhob).
 *   Russian letters outside the Uzbek alphabet: щ shch, ы i.
 *   Capitals: a capital whose Latin form has two letters is written Sh, Ch, Yo, Oʻ, Gʻ ... unless
 *   the word is in capitals around it (the next letter is a capital, or it is the last letter
 *   and the previous one is a capital): ШАҲАР SHAHAR, ТОШ TOSH, Шаҳар Shahar, Ш. Sh., ЎзМУ OʻzMU.
 *   Latin letters, digits, punctuation and other characters are copied unchanged.
 *
 * Latin -> Cyrillic (uzw_uz_lat_to_cyr), longest match first:
 *   sh ш, ch ч, oʻ ў, gʻ ғ (any apostrophe variant: ' ` ´ ‘ ’ ʻ ʼ ʹ ′ ˈ), ya я, yu ю, ye е,
 *   yo ё (but yoʻ is йў: yoʻq йўқ), ts ц only after a vowel and before "iya" (militsiya милиция,
 *   operatsiya операция; otherwise тс: tutsa тутса, otsiz отсиз), sʼh сҳ (Isʼhoq Исҳоқ);
 *   e: э at the start of a word and after a vowel (ekan экан, poeziya поэзия, duet дуэт), else е;
 *   tutuq ʼ (an apostrophe after a letter other than o/g, see uz_apostrophe.c) ъ;
 *   a а b б d д f ф g г h ҳ i и j ж k к l л m м n н o о p п q қ r р s с t т u у v в x х y й z з;
 *   c (outside ch) ц and w в, letters that are not in the Uzbek alphabet.
 *   A Latin capital gives a Cyrillic capital (SH, Sh -> Ш). Quote marks, Cyrillic, digits,
 *   non-Uzbek Latin letters (ş ç ğ ö ü ı ə ...) and everything else are copied unchanged.
 *
 * Known ambiguities (where Latin -> Cyrillic cannot undo Cyrillic -> Latin):
 *   - ya yo yu ye always give я ё ю е, also after a consonant, which is right for the Uzbek words
 *     dunyo дунё, daryo дарё, kelyapti келяпти, aktyor актёр; the rule brief "only at the start of
 *     a word or after a vowel" would break those. The price is й + vowel of Russian loans:
 *     rayon -> раён (район), mayonez -> маёнез (майонез).
 *   - ц written s comes back as с: sirk -> сирк (цирк), stansiya -> стансия (станция); only the
 *     -tsiya of militsiya, revolyutsiya, konstitutsiya is recognised as ц.
 *   - a dropped ь or ъ does not come back: aprel -> апрел (апрель), obyekt -> обект (объект).
 *   - щ -> shch -> шч (ishchi ишчи must stay шч); ы -> i -> и.
 *   - ъ right after о or г (rare) comes back as ў or ғ, since oʼ/gʼ read as oʻ/gʻ.
 *   - ъ before ё ю я е after a vowel stays ʼ (маъюс maʼyus) and comes back as ъ + ю ✓.
 */
#include <stdlib.h>
#include <string.h>

#include "text/uz_internal.h"
#include "text/uztext.h"

#define TUTUQ_UTF8 "\xCA\xBC" /* ʼ U+02BC */
#define OKINA_UTF8 "\xCA\xBB" /* ʻ U+02BB */

/* ---------------------------------------------------------------- Cyrillic -> Latin */

/* а..я (U+0430..U+044F); NULL: the letter depends on its neighbours (е ц ъ). */
static const char *const cyr_basic[32] = {
    "a", "b", "v", "g",  "d", NULL, "j",    "z",  "i",  "y", "k", "l",  "m",  "n",  "o",  "p",
    "r", "s", "t", "u",  "f", "x",  NULL,   "ch", "sh", "shch", NULL, "i", "",  "e",  "yu", "ya",
};

static int is_hard_or_soft_sign(int32_t lc) { return lc == 0x44A || lc == 0x44C; }

/* The Latin spelling of the Cyrillic letter at i (lower case), or NULL when it is not one. */
static const char *cyr_letter_to_lat(const uzw_u8unit *u, size_t n, size_t i) {
    int32_t lc = uzw_cp_lower(u[i].cp);
    int32_t prev = uzw_unit_cp(u, n, (ptrdiff_t)i - 1), next = uzw_unit_cp(u, n, (ptrdiff_t)i + 1);
    int32_t prev_lc = uzw_cp_lower(prev), next_lc = uzw_cp_lower(next);
    switch (lc) {
    case 0x435: /* е */
        if (!uzw_cp_is_letter(prev) || uzw_cp_is_vowel(prev) || is_hard_or_soft_sign(prev_lc)) return "ye";
        return "e";
    case 0x446: /* ц */
        return uzw_cp_is_vowel(prev) ? "ts" : "s";
    case 0x44A: /* ъ */
        if (uzw_cp_is_cyrillic_letter(prev) && !uzw_cp_is_vowel(prev) && !is_hard_or_soft_sign(prev_lc) &&
            (next_lc == 0x435 || next_lc == 0x451 || next_lc == 0x44E || next_lc == 0x44F))
            return "";
        return TUTUQ_UTF8;
    case 0x441: /* с: before ҳ it is sʼh, not sh */
        return next_lc == 0x4B3 ? "s" TUTUQ_UTF8 : "s";
    case 0x451: return "yo";
    case 0x45E: return "o" OKINA_UTF8;
    case 0x493: return "g" OKINA_UTF8;
    case 0x49B: return "q";
    case 0x4B3: return "h";
    default:
        if (lc >= 0x430 && lc <= 0x44F) return cyr_basic[lc - 0x430];
        return NULL;
    }
}

/* Capitals: the whole Latin spelling in capitals inside an all-capital word, else only its first
 * letter. */
static int caps_context(const uzw_u8unit *u, size_t n, size_t i) {
    int32_t prev = uzw_unit_cp(u, n, (ptrdiff_t)i - 1), next = uzw_unit_cp(u, n, (ptrdiff_t)i + 1);
    if (uzw_cp_is_letter(next)) return uzw_cp_is_upper(next);
    return uzw_cp_is_letter(prev) && uzw_cp_is_upper(prev);
}

char *uzw_uz_cyr_to_lat(const char *utf8) {
    if (!utf8) return NULL;
    size_t n;
    uzw_u8unit *u = uzw_utf8_split(utf8, &n);
    if (!u) return NULL;
    uzw_strbuf b;
    uzw_sb_init(&b, strlen(utf8) + strlen(utf8) / 2 + 8);
    for (size_t i = 0; i < n; i++) {
        const char *lat = u[i].cp >= 0 ? cyr_letter_to_lat(u, n, i) : NULL;
        if (!lat) {
            uzw_sb_unit(&b, utf8, &u[i]);
            continue;
        }
        int upper = uzw_cp_is_upper(u[i].cp);
        int caps = upper && caps_context(u, n, i);
        for (size_t k = 0; lat[k]; k++) {
            char ch = lat[k];
            if (upper && (k == 0 || caps) && ch >= 'a' && ch <= 'z') ch = (char)(ch - 32);
            uzw_sb_bytes(&b, &ch, 1);
        }
    }
    free(u);
    return uzw_sb_finish(&b);
}

/* ---------------------------------------------------------------- Latin -> Cyrillic */

/* a..z -> lower-case Cyrillic; 0 for the letters handled by context (e). */
static const int32_t lat_basic[26] = {
    0x430, 0x431, 0x446, 0x434, 0,     0x444, 0x433, 0x4B3, 0x438, 0x436, 0x43A, 0x43B, 0x43C,
    0x43D, 0x43E, 0x43F, 0x49B, 0x440, 0x441, 0x442, 0x443, 0x432, 0x432, 0x445, 0x439, 0x437,
};

/* The ASCII letter at i in lower case, or 0. */
static int ascii_lower_at(const uzw_u8unit *u, size_t n, ptrdiff_t i) {
    int32_t c = uzw_unit_cp(u, n, i);
    if (c >= 'A' && c <= 'Z') return c + 32;
    if (c >= 'a' && c <= 'z') return c;
    return 0;
}

/* The Latin letter before i is a vowel (a e i o u, or oʻ). */
static int lat_prev_is_vowel(const uzw_u8unit *u, size_t n, const uint8_t *role, size_t i) {
    if (i == 0) return 0;
    if (role[i - 1] == UZW_APOS_OKINA) return i >= 2 && ascii_lower_at(u, n, (ptrdiff_t)i - 2) == 'o';
    int c = ascii_lower_at(u, n, (ptrdiff_t)i - 1);
    return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u';
}

/* No letter (nor an in-word apostrophe) right before i. */
static int lat_word_start(const uzw_u8unit *u, size_t n, const uint8_t *role, size_t i) {
    if (i == 0) return 1;
    return !uzw_cp_is_letter(u[i - 1].cp) && role[i - 1] != UZW_APOS_OKINA && role[i - 1] != UZW_APOS_TUTUQ;
}

/* The Cyrillic letter for the Latin letter (or digraph) at i; *used gets the units consumed. */
static int32_t lat_letter_to_cyr(const uzw_u8unit *u, size_t n, const uint8_t *role, size_t i, size_t *used) {
    int lc = ascii_lower_at(u, n, (ptrdiff_t)i);
    int n1 = ascii_lower_at(u, n, (ptrdiff_t)i + 1);
    *used = 1;
    switch (lc) {
    case 's':
        if (n1 == 'h') return *used = 2, 0x448; /* ш */
        break;
    case 'c':
        if (n1 == 'h') return *used = 2, 0x447; /* ч */
        break;
    case 'o':
        if (role[i + 1] == UZW_APOS_OKINA) return *used = 2, 0x45E; /* ў */
        break;
    case 'g':
        if (role[i + 1] == UZW_APOS_OKINA) return *used = 2, 0x493; /* ғ */
        break;
    case 'y':
        if (n1 == 'a') return *used = 2, 0x44F;                                   /* я */
        if (n1 == 'u') return *used = 2, 0x44E;                                   /* ю */
        if (n1 == 'e') return *used = 2, 0x435;                                   /* е */
        if (n1 == 'o' && role[i + 2] != UZW_APOS_OKINA) return *used = 2, 0x451; /* ё; yoʻ = йў */
        break;
    case 't':
        if (n1 == 's' && lat_prev_is_vowel(u, n, role, i) && ascii_lower_at(u, n, (ptrdiff_t)i + 2) == 'i' &&
            ascii_lower_at(u, n, (ptrdiff_t)i + 3) == 'y' && ascii_lower_at(u, n, (ptrdiff_t)i + 4) == 'a')
            return *used = 2, 0x446; /* ц of -tsiya */
        break;
    case 'e':
        return (lat_word_start(u, n, role, i) || lat_prev_is_vowel(u, n, role, i)) ? 0x44D : 0x435; /* э / е */
    default:
        break;
    }
    return lat_basic[lc - 'a'];
}

char *uzw_uz_lat_to_cyr(const char *utf8) {
    if (!utf8) return NULL;
    size_t n;
    uzw_u8unit *u = uzw_utf8_split(utf8, &n);
    uint8_t *role = calloc(n + 3, 1); /* +3: the digraph lookahead reads role[i + 2] */
    if (!u || !role) {
        free(u);
        free(role);
        return NULL;
    }
    uzw_uz_apostrophe_roles(u, n, role);
    uzw_strbuf b;
    uzw_sb_init(&b, 2 * strlen(utf8) + 8);
    for (size_t i = 0; i < n; i++) {
        int32_t c = u[i].cp;
        if (role[i] == UZW_APOS_TUTUQ) {
            int s_before_h = i > 0 && ascii_lower_at(u, n, (ptrdiff_t)i - 1) == 's' &&
                             ascii_lower_at(u, n, (ptrdiff_t)i + 1) == 'h';
            if (!s_before_h) uzw_sb_cp(&b, 0x44A); /* ъ; the ʼ of sʼh only keeps s and h apart */
            continue;
        }
        if (!ascii_lower_at(u, n, (ptrdiff_t)i)) { /* quotes, okina left alone, Cyrillic, other */
            uzw_sb_unit(&b, utf8, &u[i]);
            continue;
        }
        size_t used;
        int32_t cyr = lat_letter_to_cyr(u, n, role, i, &used);
        uzw_sb_cp(&b, (c >= 'A' && c <= 'Z') ? uzw_cp_upper(cyr) : cyr);
        i += used - 1;
    }
    free(u);
    free(role);
    return uzw_sb_finish(&b);
}
