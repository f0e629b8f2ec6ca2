/* uz_normalize.c - the scoring normaliser (uzw_text_normalize) and the Uzbek Latin canonical
 * display form (uzw_uz_latin_canonical).
 *
 * Scoring normaliser, one pass over the code points:
 *  - letters (any script), digits, combining marks and invalid bytes are word characters; letters
 *    are lower-cased (uzw_cp_lower: Latin, Turkish/Azeri İ I Ş Ç Ğ Ö Ü Ə, Greek, Cyrillic incl.
 *    Ў Қ Ғ Ҳ); a few decomposed letters are composed first (и+◌̆ й, у+◌̆ ў, е+◌̈ ё, o/u+◌̈ ö ü,
 *    c/s+◌̧ ç ş, g+◌̆ ğ, i+◌̇ i) so both spellings score alike;
 *  - a run of apostrophe variants (' ` ´ ‘ ’ ʻ ʼ ʹ ′ ˈ) between two word characters becomes one
 *    ASCII ' (bo‘lgan, boʻlgan, bo'lgan, moʻʼjiza -> mo'jiza all alike); elsewhere it is dropped
 *    (quotes), except with lang "uz" after a word-final o/g, where it is the letter oʻ/gʻ (togʻ ->
 *    tog', not tog);
 *  - white space, control characters, ASCII punctuation and symbols, Unicode punctuation (« » „ “
 *    ” — – … ‐ · № ...), currency, arrows, maths, shapes, music (♪) and emoji separate words, so a
 *    hyphen inside a word becomes a space (oʻzbek-rus -> o'zbek rus) and so does a decimal point
 *    (3.5 -> 3 5; the reference goes through the same rule); soft hyphen, zero-width and bidi
 *    marks and variation selectors are deleted;
 *  - runs of separators become one space, none at the ends;
 *  - lang "ru": ё -> е (Russian writes ё optionally). Uzbek keeps ё: in Uzbek Cyrillic ё is its own
 *    letter (yo), never an optional spelling of е (ёз "summer" vs ез "write off").
 * Digits stay as written (numbers are not spelled out).
 *
 * Canonical form: oʻ gʻ with U+02BB and the tutuq with U+02BC, using the apostrophe roles of
 * uz_apostrophe.c; everything else is copied byte for byte. */
#include <stdlib.h>
#include <string.h>

#include "text/uz_internal.h"
#include "text/uztext.h"

typedef enum { NC_WORD, NC_APOS, NC_SEP, NC_DROP } norm_class;

static norm_class classify(int32_t c) {
    if (c < 0) return NC_WORD; /* invalid byte: copied through as part of a word */
    if (uzw_cp_is_apostrophe(c)) return NC_APOS;
    if (c < 0x80) {
        if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return NC_WORD;
        return NC_SEP; /* controls, space, ASCII punctuation and symbols */
    }
    if (c <= 0x9F) return NC_SEP; /* C1 controls incl. U+0085 */
    if (c <= 0xBF) {              /* Latin-1 punctuation block */
        if (c == 0xAD) return NC_DROP; /* soft hyphen */
        if (c == 0xAA || c == 0xB5 || c == 0xBA || c == 0xB2 || c == 0xB3 || c == 0xB9 || (c >= 0xBC && c <= 0xBE))
            return NC_WORD; /* ª µ º ² ³ ¹ ¼ ½ ¾ */
        return NC_SEP;      /* nbsp ¡ ¢ £ « ¬ ® ° ± · » ¿ ... */
    }
    if (c == 0xD7 || c == 0xF7) return NC_SEP; /* × ÷ */
    if (c == 0x482 || (c >= 0x55A && c <= 0x55F) || c == 0x589 || c == 0x60C || c == 0x61B || c == 0x61F ||
        (c >= 0x66A && c <= 0x66D) || c == 0x6D4 || c == 0x1680)
        return NC_SEP; /* Cyrillic thousands sign, Armenian and Arabic punctuation, ogham space */
    if (c >= 0x2000 && c <= 0x206F) { /* General Punctuation */
        if ((c >= 0x200B && c <= 0x200F) || (c >= 0x202A && c <= 0x202E) || c >= 0x2060) return NC_DROP;
        return NC_SEP; /* spaces, dashes, quotes, … ‰ ‹ › ... */
    }
    if ((c >= 0x20A0 && c <= 0x20CF) || (c >= 0x2100 && c <= 0x214F) || (c >= 0x2190 && c <= 0x2BFF) ||
        (c >= 0x2E00 && c <= 0x2E7F) || (c >= 0x3000 && c <= 0x303F))
        return NC_SEP; /* currency, letterlike (№ ™), arrows .. symbols (♪), CJK punctuation */
    if ((c >= 0xFE00 && c <= 0xFE0F) || c == 0xFEFF) return NC_DROP; /* variation selectors, BOM */
    if ((c >= 0xFE10 && c <= 0xFE1F) || (c >= 0xFE30 && c <= 0xFE6F) || (c >= 0xFF01 && c <= 0xFF0F) ||
        (c >= 0xFF1A && c <= 0xFF20) || (c >= 0xFF3B && c <= 0xFF40) || (c >= 0xFF5B && c <= 0xFF65))
        return NC_SEP; /* vertical, small and full-width punctuation */
    if (c >= 0x1F000 && c <= 0x1FAFF) return NC_SEP; /* emoji and pictographs */
    return NC_WORD;
}

/* A lower-case base letter followed by a combining mark -> the precomposed letter, or 0. */
static int32_t compose(int32_t base, int32_t mark) {
    static const int32_t table[][3] = {
        {0x438, 0x306, 0x439}, /* и + breve -> й */
        {0x443, 0x306, 0x45E}, /* у + breve -> ў */
        {0x435, 0x308, 0x451}, /* е + diaeresis -> ё */
        {'o', 0x308, 0xF6},    {'u', 0x308, 0xFC},    {'c', 0x327, 0xE7},
        {'s', 0x327, 0x15F},   {'g', 0x306, 0x11F},   {'i', 0x307, 'i'}, /* i + dot (from İ) */
    };
    for (size_t k = 0; k < sizeof table / sizeof table[0]; k++)
        if (table[k][0] == base && table[k][1] == mark) return table[k][2];
    return 0;
}

char *uzw_text_normalize(const char *utf8, const char *lang) {
    if (!utf8) return NULL;
    int uz = lang && strcmp(lang, "uz") == 0;
    int ru = lang && strcmp(lang, "ru") == 0;
    size_t n;
    uzw_u8unit *u = uzw_utf8_split(utf8, &n);
    if (!u) return NULL;
    uzw_strbuf b;
    uzw_sb_init(&b, strlen(utf8) + 1);
    int in_word = 0, pending_space = 0, last_invalid = 0;
    int32_t last = 0; /* the last code point written */
    for (size_t i = 0; i < n; i++) {
        norm_class k = classify(u[i].cp);
        /* A deleted character between two invalid bytes could join them into a valid sequence
         * on a second pass: there it separates instead, so the normaliser stays idempotent. */
        if (k == NC_DROP && !last_invalid) continue;
        if (k == NC_SEP || k == NC_DROP) {
            in_word = 0;
            pending_space = b.len > 0;
            continue;
        }
        if (k == NC_APOS) {
            size_t j = i;
            while (j < n && classify(u[j].cp) == NC_APOS) j++;
            int next_word = j < n && classify(u[j].cp) == NC_WORD;
            int okina = last == 'o' || last == 'g'; /* word-final oʻ / gʻ */
            if (in_word && (next_word || (uz && okina))) {
                last = '\'', last_invalid = 0;
                uzw_sb_bytes(&b, "'", 1);
            } else {
                in_word = 0;
                pending_space = b.len > 0;
            }
            i = j - 1;
            continue;
        }
        if (pending_space) uzw_sb_bytes(&b, " ", 1);
        pending_space = 0;
        in_word = 1;
        int32_t c = u[i].cp;
        last_invalid = c < 0;
        last = c;
        if (c < 0) {
            uzw_sb_unit(&b, utf8, &u[i]);
            continue;
        }
        c = uzw_cp_lower(c);
        size_t m = i + 1; /* the next character, deleted ones skipped (as the output will be) */
        while (m < n && classify(u[m].cp) == NC_DROP) m++;
        int32_t composed = compose(c, uzw_unit_cp(u, n, (ptrdiff_t)m));
        if (composed) c = composed, i = m;
        if (ru && c == 0x451) c = 0x435; /* ё -> е */
        last = c;
        uzw_sb_cp(&b, c);
    }
    free(u);
    return uzw_sb_finish(&b);
}

char *uzw_uz_latin_canonical(const char *utf8) {
    if (!utf8) return NULL;
    size_t n;
    uzw_u8unit *u = uzw_utf8_split(utf8, &n);
    uint8_t *role = malloc(n + 1);
    if (!u || !role) {
        free(u);
        free(role);
        return NULL;
    }
    uzw_uz_apostrophe_roles(u, n, role);
    uzw_strbuf b;
    uzw_sb_init(&b, strlen(utf8) + 8);
    for (size_t i = 0; i < n; i++) {
        if (role[i] == UZW_APOS_OKINA)
            uzw_sb_cp(&b, 0x2BB);
        else if (role[i] == UZW_APOS_TUTUQ)
            uzw_sb_cp(&b, 0x2BC);
        else
            uzw_sb_unit(&b, utf8, &u[i]);
    }
    free(u);
    free(role);
    return uzw_sb_finish(&b);
}
