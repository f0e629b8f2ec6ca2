/*
 * fuzz_uztext.c - libFuzzer target for the Uzbek/Russian text module (engine/text/uztext.h):
 * every function runs on arbitrary bytes (a NUL-terminated copy of the input, cut at its first
 * NUL). Each returned string must be non-NULL (no allocation fails here) and NUL-terminated
 * inside its allocation (ASan sees a read past it), the normaliser must be idempotent and give no
 * leading, trailing or double spaces, the cue counts must be consistent and the score bounded.
 * Seeds: tests/fuzz/corpus_uztext/. Run: tools/fuzz.sh.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "text/uztext.h"

/* The string exists and strlen stops inside it; returns its length. */
static size_t check_str(const char *s) {
    if (!s) abort();
    return strlen(s);
}

static void check_normalized(const char *in, const char *lang) {
    char *a = uzw_text_normalize(in, lang);
    size_t n = check_str(a);
    if (n && (a[0] == ' ' || a[n - 1] == ' ')) abort(); /* no space at the ends */
    if (strstr(a, "  ")) abort();                       /* white space collapsed */
    char *b = uzw_text_normalize(a, lang);              /* normalising twice changes nothing */
    check_str(b);
    if (strcmp(a, b) != 0) abort();
    free(a);
    free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *in = malloc(size + 1);
    if (!in) return 0;
    memcpy(in, data, size);
    in[size] = 0;

    check_normalized(in, NULL);
    check_normalized(in, "uz");
    check_normalized(in, "ru");

    char *canon = uzw_uz_latin_canonical(in);
    check_str(canon);
    char *canon2 = uzw_uz_latin_canonical(canon); /* the canonical form is a fixed point */
    check_str(canon2);
    if (strcmp(canon2, canon) != 0) abort();
    free(canon2);

    char *lat = uzw_uz_cyr_to_lat(in);
    check_str(lat);
    char *cyr = uzw_uz_lat_to_cyr(lat);
    check_str(cyr);
    char *cyr2 = uzw_uz_lat_to_cyr(in);
    check_str(cyr2);
    free(lat);
    free(cyr);
    free(cyr2);
    free(canon);

    uzw_script sc = uzw_text_script(in);
    if (sc < UZW_SCRIPT_NONE || sc > UZW_SCRIPT_MIXED) abort();
    uzw_uz_ru_cues c;
    uzw_text_uz_ru_cues(in, &c);
    if (c.n_letters != c.n_latin + c.n_cyrillic) abort();
    if (c.n_uz_cyr > c.n_cyrillic || c.n_ru_cyr > c.n_cyrillic || c.n_turkic_latin > c.n_latin) abort();
    if (c.n_uz_words + c.n_ru_words > c.n_words || c.n_words > c.n_letters) abort();
    if ((sc == UZW_SCRIPT_NONE) != (c.n_letters == 0)) abort();
    float s = uzw_text_uz_ru_logodds(&c);
    if (!(s >= -8.0f && s <= 8.0f)) abort();
    if (c.n_letters == 0 && s != 0.0f) abort();

    free(in);
    return 0;
}
