/* langset.c - parsing the allowed-language set and folding the language head's probabilities onto
 * it (langset.h). */
#include "decode/langset.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* Families of Whisper languages whose probability mass mixes in the language head. A language that
 * is not allowed gives its probability to the single allowed language of its family, if there is
 * exactly one; otherwise it is dropped. */
static const char *const k_families[][12] = {
    {"uz", "tr", "az", "kk", "tk", "tt", "ba", NULL},       /* Turkic */
    {"ru", "uk", "be", "bg", "sr", "mk", NULL},             /* Slavic written in Cyrillic */
    {"en", "cy", "gd", NULL},
    {"fa", "tg", "ps", NULL},                               /* Persian varieties */
};
#define N_FAMILIES (sizeof k_families / sizeof k_families[0])

static int family_of(const char *code) {
    for (size_t f = 0; f < N_FAMILIES; f++)
        for (int i = 0; k_families[f][i]; i++)
            if (!strcmp(k_families[f][i], code)) return (int)f;
    return -1;
}

int uzw_langset_parse(const uzw_model *m, const char *list, uzw_langset *s, char *err, size_t es) {
    memset(s, 0, sizeof *s);
    int nl = m->sp.n_languages;
    for (int i = 0; i < UZW_MAX_LANGUAGES; i++) s->owner[i] = -1;
    if (!list || !*list) return 0;
    const char *p = list;
    while (*p) {
        while (*p == ' ' || *p == ',') p++;
        if (!*p) break;
        char code[16];
        size_t k = 0;
        while (*p && *p != ',' && *p != ' ') {
            if (k + 1 >= sizeof code) { snprintf(err, es, "language code too long in '%s'", list); return -1; }
            code[k++] = (char)tolower((unsigned char)*p++);
        }
        code[k] = 0;
        int idx = uzw_model_language_index(m, code);
        if (idx < 0) { snprintf(err, es, "unknown language '%s' in the allowed set '%s'", code, list); return -1; }
        int dup = 0;
        for (int j = 0; j < s->n; j++) dup |= s->idx[j] == idx;
        if (!dup) {
            if (s->n == UZW_MAX_LANGUAGES) { snprintf(err, es, "too many languages in '%s'", list); return -1; }
            s->idx[s->n++] = idx;
        }
    }
    if (s->n == 0) { snprintf(err, es, "the allowed set '%s' names no language", list); return -1; }
    for (int j = 0; j < s->n; j++) s->owner[s->idx[j]] = j;
    for (int i = 0; i < nl; i++) {
        int f = s->owner[i] >= 0 ? -1 : family_of(m->lang_codes[i]), owner = -1, count = 0;
        if (f < 0) continue; /* allowed itself, or of no family */
        for (int j = 0; j < s->n; j++)
            if (family_of(m->lang_codes[s->idx[j]]) == f) { owner = j; count++; }
        if (count == 1) s->owner[i] = owner;
    }
    return 0;
}

int uzw_langset_restrict(const uzw_langset *s, int nl, const float *full, float *out) {
    if (s->n == 0) return -1;
    double acc[UZW_MAX_LANGUAGES] = {0}, sum = 0;
    for (int i = 0; i < nl; i++)
        if (s->owner[i] >= 0) acc[s->owner[i]] += full[i];
    for (int j = 0; j < s->n; j++) sum += acc[j];
    int best = 0;
    for (int j = 0; j < s->n; j++) {
        out[j] = sum > 0 ? (float)(acc[j] / sum) : 1.0f / (float)s->n;
        if (out[j] > out[best]) best = j;
    }
    return best;
}
