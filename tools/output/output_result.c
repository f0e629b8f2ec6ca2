/* output_result.c - a transcript as plain data (from the public getters), the format list, and the
 * time and text helpers every writer shares. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "output.h"

static const char *const fmt_ext[OUT_N_FORMATS] = {"txt", "json", "srt", "vtt"};

const char *out_format_ext(int i) { return i >= 0 && i < OUT_N_FORMATS ? fmt_ext[i] : NULL; }

unsigned out_parse_formats(const char *list, char *err, size_t err_size) {
    unsigned set = 0;
    const char *p = list ? list : "";
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        while (len && isspace((unsigned char)*p)) { p++; len--; }
        while (len && isspace((unsigned char)p[len - 1])) len--;
        int found = -1;
        for (int i = 0; i < OUT_N_FORMATS; i++)
            if (len == strlen(fmt_ext[i]) && !strncasecmp(p, fmt_ext[i], len)) found = i;
        if (found < 0) {
            snprintf(err, err_size, "unknown output format '%.*s' in '%s' (use a comma-separated list of txt, json, srt, vtt)",
                     (int)(len > 64 ? 64 : len), p, list ? list : "");
            return 0;
        }
        set |= 1u << found;
        if (!end) break;
        p = end + 1;
    }
    return set;
}

int out_result_from_ctx(out_result *r, const uzw_context *ctx, const char *file, const char *id, const char *model) {
    memset(r, 0, sizeof *r);
    r->file = file;
    r->id = id;
    r->model = model;
    r->duration = uzw_audio_duration(ctx);
    r->language = uzw_language(ctx);
    r->language_detected = uzw_language_detected(ctx);
    r->text = uzw_full_text(ctx);
    r->timings = uzw_get_timings(ctx);
    int nl = uzw_n_language_probs(ctx), ns = uzw_n_segments(ctx);
    out_lang_prob *langs = nl > 0 ? calloc((size_t)nl, sizeof *langs) : NULL;
    out_segment *segs = ns > 0 ? calloc((size_t)ns, sizeof *segs) : NULL;
    if ((nl > 0 && !langs) || (ns > 0 && !segs)) goto oom;
    r->langs = langs;
    r->segs = segs;
    for (int i = 0; i < nl; i++) {
        langs[i].code = uzw_language_prob_code(ctx, i);
        langs[i].prob = uzw_language_prob(ctx, i);
    }
    r->n_langs = nl;
    for (int i = 0; i < ns; i++) {
        out_segment *s = &segs[i];
        s->start = uzw_segment_start(ctx, i);
        s->end = uzw_segment_end(ctx, i);
        s->text = uzw_segment_text(ctx, i);
        s->avg_logprob = uzw_segment_avg_logprob(ctx, i);
        s->no_speech_prob = uzw_segment_no_speech_prob(ctx, i);
        s->language = uzw_segment_language(ctx, i);
        s->language_prob = uzw_segment_language_prob(ctx, i);
        int nt = uzw_segment_n_tokens(ctx, i), nw = uzw_segment_n_words(ctx, i);
        int *toks = nt > 0 ? malloc(sizeof(int) * (size_t)nt) : NULL;
        out_word *words = nw > 0 ? calloc((size_t)nw, sizeof *words) : NULL;
        s->tokens = toks;
        s->words = words;
        r->n_segs = i + 1; /* so out_result_free frees what was made so far */
        if ((nt > 0 && !toks) || (nw > 0 && !words)) goto oom;
        for (int j = 0; j < nt; j++) toks[j] = uzw_segment_token(ctx, i, j);
        s->n_tokens = nt;
        for (int w = 0; w < nw; w++) {
            words[w].word = uzw_word_text(ctx, i, w);
            words[w].start = uzw_word_start(ctx, i, w);
            words[w].end = uzw_word_end(ctx, i, w);
            words[w].prob = uzw_word_prob(ctx, i, w);
            words[w].language = uzw_word_language(ctx, i, w);
            words[w].language_prob = uzw_word_language_prob(ctx, i, w);
        }
        s->n_words = nw;
    }
    int nsw = uzw_n_switches(ctx);
    out_switch *sw = nsw > 0 ? calloc((size_t)nsw, sizeof *sw) : NULL;
    if (nsw > 0 && !sw) goto oom;
    for (int k = 0; k < nsw; k++) {
        sw[k].time = uzw_switch_time(ctx, k);
        sw[k].from = uzw_switch_from(ctx, k);
        sw[k].to = uzw_switch_to(ctx, k);
    }
    r->switches = sw;
    r->n_switches = nsw;
    return 0;
oom:
    if (!r->langs) free(langs);
    if (!r->segs) free(segs);
    out_result_free(r);
    return -1;
}

void out_result_free(out_result *r) {
    if (!r) return;
    for (int i = 0; i < r->n_segs; i++) {
        free((void *)r->segs[i].tokens);
        free((void *)r->segs[i].words);
    }
    free((void *)r->segs);
    free((void *)r->langs);
    free((void *)r->switches);
    memset(r, 0, sizeof *r);
}

long long out_ms(double seconds) {
    if (!isfinite(seconds) || seconds <= 0) return 0;
    if (seconds > 1e12) seconds = 1e12; /* ~31,700 years: keeps the integer maths exact */
    return llround(seconds * 1000.0);
}

void out_format_time(char *buf, size_t size, double seconds, char sep) {
    long long ms = out_ms(seconds);
    long long h = ms / 3600000, m = ms / 60000 % 60, s = ms / 1000 % 60, f = ms % 1000;
    snprintf(buf, size, "%02lld:%02lld:%02lld%c%03lld", h, m, s, sep, f);
}

char *out_clean_text(const char *text) {
    if (!text) text = "";
    while (isspace((unsigned char)*text)) text++;
    size_t n = strlen(text);
    while (n && isspace((unsigned char)text[n - 1])) n--;
    char *s = malloc(n + 1);
    if (!s) return NULL;
    for (size_t i = 0; i < n; i++) s[i] = (text[i] == '\n' || text[i] == '\r' || text[i] == '\t') ? ' ' : text[i];
    s[n] = 0;
    return s;
}

int out_write(FILE *f, unsigned fmt, const out_result *r) {
    switch (fmt) {
    case OUT_FMT_TXT: return out_write_txt(f, r);
    case OUT_FMT_JSON: return out_write_json(f, r, 0);
    case OUT_FMT_SRT: return out_write_srt(f, r);
    case OUT_FMT_VTT: return out_write_vtt(f, r);
    default: return -1;
    }
}
