/* output_json.c - the JSON document of one transcript:
 *   {file, id?, model?, duration, language, language_detected, language_probs {code: p, ... top 10},
 *    text, segments [{id, start, end, text, tokens, avg_logprob, no_speech_prob, language,
 *    language_prob, words [{word, start, end, probability, language, language_prob}]}],
 *    switches [{time, from, to}], timings_ms {...}, windows, decoder_steps}
 * Times are rounded to milliseconds, probabilities to 6 significant digits; a non-finite number is
 * written as null. Text that is not valid UTF-8 (a token boundary inside a character, a file name in
 * another encoding) has each bad byte replaced by U+FFFD, since JSON strings must be UTF-8. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if the byte there does not start one. */
static size_t utf8_len(const unsigned char *s) {
    unsigned c = s[0];
    if (c < 0x80) return 1;
    size_t n;
    uint32_t cp;
    if (c >= 0xc2 && c <= 0xdf) { n = 2; cp = c & 0x1f; }
    else if (c >= 0xe0 && c <= 0xef) { n = 3; cp = c & 0x0f; }
    else if (c >= 0xf0 && c <= 0xf4) { n = 4; cp = c & 0x07; }
    else return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return n;
}

/* A JSON string of s, repaired to UTF-8 if needed; json_null() for NULL; NULL only on OOM. */
json_t *out_json_string(const char *s) {
    if (!s) return json_null();
    const unsigned char *u = (const unsigned char *)s;
    size_t n = strlen(s), bad = 0;
    for (size_t i = 0; i < n;) {
        size_t k = utf8_len(u + i);
        if (!k) { bad++; i++; } else i += k;
    }
    if (!bad) return json_stringn(s, n);
    char *fixed = malloc(n + 2 * bad + 1);
    if (!fixed) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t k = utf8_len(u + i);
        if (!k) { memcpy(fixed + o, "\xef\xbf\xbd", 3); o += 3; i++; }
        else { memcpy(fixed + o, s + i, k); o += k; i += k; }
    }
    json_t *j = json_stringn(fixed, o);
    free(fixed);
    return j;
}

static json_t *ms(double v) { return isfinite(v) ? json_real(round(v * 1000.0) / 1000.0) : json_null(); } /* to 1 us */
static json_t *secs(double v) { return isfinite(v) ? json_real(round(v * 1000.0) / 1000.0) : json_null(); }
static json_t *prob(double v) {
    if (!isfinite(v)) return json_null();
    char b[32];
    snprintf(b, sizeof b, "%.6g", v);
    return json_real(strtod(b, NULL));
}

/* json_object_set_new that remembers a failure (a NULL value means out of memory). */
static void put(json_t *o, const char *key, json_t *v, int *bad) {
    if (!v || json_object_set_new(o, key, v) != 0) *bad = 1;
}
static void append(json_t *a, json_t *v, int *bad) {
    if (!v || json_array_append_new(a, v) != 0) *bad = 1;
}

static json_t *segment_json(const out_segment *s, int id, int *bad) {
    json_t *o = json_object(), *toks = json_array(), *words = json_array();
    if (!o || !toks || !words) { json_decref(o); json_decref(toks); json_decref(words); *bad = 1; return NULL; }
    put(o, "id", json_integer(id), bad);
    put(o, "start", secs(s->start), bad);
    put(o, "end", secs(s->end), bad);
    put(o, "text", out_json_string(s->text), bad);
    for (int j = 0; j < s->n_tokens; j++) append(toks, json_integer(s->tokens[j]), bad);
    put(o, "tokens", toks, bad);
    put(o, "avg_logprob", prob(s->avg_logprob), bad);
    put(o, "no_speech_prob", prob(s->no_speech_prob), bad);
    put(o, "language", out_json_string(s->language), bad);
    put(o, "language_prob", prob(s->language_prob), bad);
    for (int w = 0; w < s->n_words; w++) {
        const out_word *wd = &s->words[w];
        json_t *wo = json_object();
        if (!wo) { *bad = 1; break; }
        put(wo, "word", out_json_string(wd->word), bad);
        put(wo, "start", secs(wd->start), bad);
        put(wo, "end", secs(wd->end), bad);
        put(wo, "probability", prob(wd->prob), bad);
        if (wd->language) {
            put(wo, "language", out_json_string(wd->language), bad);
            put(wo, "language_prob", prob(wd->language_prob), bad);
        }
        append(words, wo, bad);
    }
    put(o, "words", words, bad);
    return o;
}

json_t *out_json(const out_result *r) {
    int bad = 0;
    json_t *o = json_object(), *probs = json_object(), *segs = json_array(), *tm = json_object();
    if (!o || !probs || !segs || !tm) { json_decref(o); json_decref(probs); json_decref(segs); json_decref(tm); return NULL; }
    put(o, "file", out_json_string(r->file), &bad);
    if (r->id) put(o, "id", out_json_string(r->id), &bad);
    if (r->model) put(o, "model", out_json_string(r->model), &bad);
    if (r->adapters && r->adapters[0]) {
        json_t *ad = json_array();
        for (const char *p = r->adapters; ad && *p;) {
            const char *e = strchr(p, ',');
            size_t n = e ? (size_t)(e - p) : strlen(p);
            json_array_append_new(ad, json_stringn(p, n));
            p += n + (e ? 1 : 0);
        }
        put(o, "adapters", ad, &bad);
    }
    put(o, "duration", secs(r->duration), &bad);
    put(o, "language", out_json_string(r->language), &bad);
    put(o, "language_detected", json_boolean(r->language_detected), &bad);
    for (int i = 0; i < r->n_langs && i < 10; i++)
        if (r->langs[i].code) put(probs, r->langs[i].code, prob(r->langs[i].prob), &bad);
    put(o, "language_probs", probs, &bad);
    put(o, "text", out_json_string(r->text), &bad);
    for (int i = 0; i < r->n_segs; i++) append(segs, segment_json(&r->segs[i], i, &bad), &bad);
    put(o, "segments", segs, &bad);
    json_t *sw = json_array();
    if (!sw) bad = 1;
    for (int k = 0; sw && k < r->n_switches; k++) {
        json_t *x = json_object();
        if (!x) { bad = 1; break; }
        put(x, "time", secs(r->switches[k].time), &bad);
        put(x, "from", out_json_string(r->switches[k].from), &bad);
        put(x, "to", out_json_string(r->switches[k].to), &bad);
        append(sw, x, &bad);
    }
    if (sw) put(o, "switches", sw, &bad);
    const uzw_timings *t = &r->timings;
    put(tm, "audio_decode", ms(t->audio_ms), &bad);
    put(tm, "mel", ms(t->mel_ms), &bad);
    put(tm, "encoder", ms(t->encoder_ms), &bad);
    put(tm, "language_detection", ms(t->language_ms), &bad);
    put(tm, "decoder", ms(t->decoder_ms), &bad);
    put(tm, "detokenize", ms(t->detok_ms), &bad);
    put(tm, "code_switch", ms(t->codeswitch_ms), &bad);
    put(tm, "first_token", ms(t->first_token_ms), &bad);
    put(tm, "decoder_per_token", ms(t->n_decoder_steps ? t->decoder_ms / t->n_decoder_steps : 0), &bad);
    put(o, "timings_ms", tm, &bad);
    put(o, "windows", json_integer(t->n_windows), &bad);
    put(o, "decoder_steps", json_integer(t->n_decoder_steps), &bad);
    if (bad) { json_decref(o); return NULL; }
    return o;
}

int out_write_json(FILE *f, const out_result *r, int compact) {
    json_t *o = out_json(r);
    if (!o) return -1;
    size_t flags = JSON_REAL_PRECISION(12) | (compact ? JSON_COMPACT : JSON_INDENT(2));
    int rc = json_dumpf(o, f, flags);
    json_decref(o);
    if (rc != 0) return -1;
    fputc('\n', f);
    return ferror(f) ? -1 : 0;
}
