/* model_info.c - getters over a loaded model and the language table. */
#include <string.h>
#include <strings.h>

#include "model/model.h"

int64_t uzw_model_get_int(const uzw_model *m, const char *key) {
    if (!m || !key) return -1;
    uzw_dims d = m->dims;
    for (int i = 0; i < 10; i++)
        if (strcmp(key, uzw_dims_keys[i] + 5) == 0) return *uzw_dims_field(&d, i); /* skip "dims." */
    if (!strcmp(key, "n_languages")) return m->sp.n_languages;
    if (!strcmp(key, "multilingual")) return m->dims.n_vocab >= 51865;
    if (!strcmp(key, "eot")) return m->sp.eot;
    if (!strcmp(key, "sot")) return m->sp.sot;
    if (!strcmp(key, "timestamp_begin")) return m->sp.timestamp_begin;
    return -1;
}

const char *uzw_model_get_str(const uzw_model *m, const char *key) {
    if (!m || !key) return NULL;
    if (!strcmp(key, "type")) return m->type;
    if (!strcmp(key, "dtype")) return m->dtype;
    if (!strcmp(key, "adapters_merged")) return m->adapters_merged;
    if (!strcmp(key, "source_format")) return m->source_format;
    if (!strcmp(key, "source_sha256")) return m->source_sha256;
    return NULL;
}

/* OAI's language names for the codes users most often type by name. */
static const char *const k_names[][2] = {
    {"english", "en"}, {"russian", "ru"}, {"uzbek", "uz"}, {"kazakh", "kk"}, {"tajik", "tg"},
    {"turkish", "tr"}, {"german", "de"}, {"french", "fr"}, {"spanish", "es"}, {"chinese", "zh"},
    {"ukrainian", "uk"}, {"arabic", "ar"}, {"persian", "fa"}, {"mandarin", "zh"}, {"castilian", "es"},
    {"burmese", "my"}, {"valencian", "ca"}, {"flemish", "nl"}, {"haitian", "ht"}, {"letzeburgesch", "lb"},
    {"pushto", "ps"}, {"panjabi", "pa"}, {"moldavian", "ro"}, {"moldovan", "ro"}, {"sinhalese", "si"},
};

int uzw_model_language_index(const uzw_model *m, const char *code) {
    if (!m || !code) return -1;
    for (size_t i = 0; i < sizeof k_names / sizeof k_names[0]; i++)
        if (!strcasecmp(code, k_names[i][0])) { code = k_names[i][1]; break; }
    for (int i = 0; i < m->sp.n_languages; i++)
        if (!strcasecmp(code, m->lang_codes[i])) return i;
    return -1;
}
