/* uz_apostrophe.c - tells, for every apostrophe variant in Uzbek Latin text, whether it is half of
 * the letter oʻ/gʻ, the tutuq belgisi (ʼ, the glottal stop of maʼno, sanʼat, mavqeʼ, Isʼhoq) or a
 * quote mark. The rules are listed in uz_internal.h; the canonical form, the Latin -> Cyrillic
 * transliterator and the language cues all use this one classifier. */
#include "text/uz_internal.h"

static int is_o_or_g(int32_t c) { return c == 'o' || c == 'O' || c == 'g' || c == 'G'; }

/* A closing mark matches the opening one: the same code point, or ‘ ... ’. */
static int closes(int32_t open, int32_t c) { return c == open || (open == 0x2018 && c == 0x2019); }

void uzw_uz_apostrophe_roles(const uzw_u8unit *u, size_t n, uint8_t *role) {
    int32_t open = 0; /* the mark that opened a single quotation still open, 0 = none */
    for (size_t i = 0; i < n; i++) {
        int32_t c = u[i].cp;
        if (!uzw_cp_is_apostrophe(c)) {
            role[i] = UZW_APOS_NONE;
            continue;
        }
        int32_t prev = i > 0 ? u[i - 1].cp : UZW_CP_NONE;
        int32_t next = uzw_unit_cp(u, n, (ptrdiff_t)i + 1);
        int prev_in_word = i > 0 && (uzw_cp_is_latin_letter(prev) ||
                                     role[i - 1] == UZW_APOS_OKINA || role[i - 1] == UZW_APOS_TUTUQ);
        int next_letter = uzw_cp_is_latin_letter(next) || uzw_cp_is_apostrophe(next);
        if (!prev_in_word) {
            role[i] = UZW_APOS_QUOTE;
            /* ʻ and ʼ are letters (modifier letters), never quotation marks */
            if (uzw_cp_is_latin_letter(next) && open == 0 && c != 0x2BB && c != 0x2BC) open = c;
        } else if (!next_letter && open != 0 && closes(open, c)) {
            role[i] = UZW_APOS_QUOTE;
            open = 0;
        } else if (is_o_or_g(prev)) {
            role[i] = UZW_APOS_OKINA;
        } else {
            role[i] = UZW_APOS_TUTUQ;
        }
    }
}
