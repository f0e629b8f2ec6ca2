/* window.c - temperature fallback and timestamp segmentation of one window (see window.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "decode/window.h"

static const float k_default_temperatures[] = {0.0f, 0.2f, 0.4f, 0.6f, 0.8f, 1.0f};

float uzw_compression_ratio(const char *text, size_t len) {
    uLongf cap = compressBound((uLong)len);
    Bytef *buf = malloc(cap ? cap : 1);
    if (!buf) return 0;
    float r = 0;
    if (compress2(buf, &cap, (const Bytef *)text, (uLong)len, Z_DEFAULT_COMPRESSION) == Z_OK && cap) r = (float)len / (float)cap;
    free(buf);
    return r;
}

/* Text of the tokens below EOT, stripped of surrounding whitespace, and its compression ratio. */
static float text_ratio(const uzw_model *m, const int32_t *tokens, int n) {
    char *t = uzw_tokenizer_decode(m->tok, tokens, n);
    if (!t) return 0;
    size_t a = 0, b = strlen(t);
    while (a < b && (t[a] == ' ' || t[a] == '\t' || t[a] == '\n' || t[a] == '\r')) a++;
    while (b > a && (t[b - 1] == ' ' || t[b - 1] == '\t' || t[b - 1] == '\n' || t[b - 1] == '\r')) b--;
    float r = uzw_compression_ratio(t + a, b - a);
    free(t);
    return r;
}

int uzw_decode_with_fallback(const uzw_model *m, uzw_fwd_state *st, const int32_t *prompt, int n_prompt,
                             const uzw_params *p, uint64_t *rng, uzw_window_result *res) {
    const float *temps = p->temperatures && p->n_temperatures > 0 ? p->temperatures : k_default_temperatures;
    int n_temps = p->temperatures && p->n_temperatures > 0 ? p->n_temperatures : 6;
    int T = m->dims.n_text_ctx;
    uzw_search_opts o = {0};
    o.filters.suppress_blank = p->suppress_blank;
    o.filters.timestamps = !p->without_timestamps;
    o.filters.max_initial_timestamp_index = p->max_initial_timestamp >= 0 ? (int)lround(p->max_initial_timestamp / 0.02) : -1;
    o.max_sample = p->max_tokens_per_window > 0 ? p->max_tokens_per_window : T / 2;
    o.beam_size = p->beam_size > 0 ? p->beam_size : 1;
    o.patience = p->patience > 0 ? p->patience : 1.0f;
    o.best_of = p->best_of > 0 ? p->best_of : 1;
    o.length_penalty = p->length_penalty;
    o.rng = rng;

    int32_t *cand = malloc(sizeof(int32_t) * (size_t)T);
    if (!cand) return -1;
    /* all attempts fail: keep the best avg_logprob, preferring those under the compression threshold */
    int have_best = 0, best_below_cr = 0;
    res->n_steps = 0;
    res->n_attempts = 0;
    for (int ti = 0; ti < n_temps; ti++) {
        o.temperature = temps[ti];
        uzw_search_result sr = {.tokens = cand};
        if (uzw_search_window(m, st, prompt, n_prompt, &o, &sr) != 0) { free(cand); return -1; }
        res->n_steps += sr.n_steps;
        if (res->n_attempts == 0) res->t_first_token_ms = sr.t_prompt_ms;
        res->n_attempts++;
        float cr = text_ratio(m, sr.tokens, sr.n_tokens);
        int below_cr = !(cr > p->compression_ratio_threshold);
        int needs_fallback = !below_cr || sr.avg_logprob < p->logprob_threshold;
        if (sr.no_speech_prob > p->no_speech_threshold && sr.avg_logprob < p->logprob_threshold) needs_fallback = 0; /* silence */
        int take = !needs_fallback || !have_best || (below_cr && !best_below_cr) ||
                   (below_cr == best_below_cr && sr.avg_logprob > res->avg_logprob);
        if (take) {
            memcpy(res->tokens, sr.tokens, sizeof(int32_t) * (size_t)sr.n_tokens);
            res->n_tokens = sr.n_tokens;
            res->avg_logprob = sr.avg_logprob;
            res->no_speech_prob = sr.no_speech_prob;
            res->compression_ratio = cr;
            have_best = 1;
            best_below_cr = below_cr;
        }
        res->temperature = temps[ti]; /* faster-whisper reports the last temperature tried */
        if (!needs_fallback) break;
    }
    free(cand);
    return 0;
}

int uzw_split_segments(const uzw_model *m, const int32_t *tok, int n, size_t seek, size_t seg_size, uzw_span *spans,
                       int max, size_t *next_seek) {
    const int TB = m->sp.timestamp_begin;
    const double precision = 0.02, offset = seek * 0.01;
    int single_ending = n >= 2 && tok[n - 2] < TB && tok[n - 1] >= TB;
    int ns = 0, last = 0, any_pair = 0;
    for (int i = 1; i <= n; i++) {
        int cut = (i < n && tok[i] >= TB && tok[i - 1] >= TB) || (i == n && single_ending && any_pair);
        if (!cut) continue;
        any_pair = 1;
        if (ns < max) {
            spans[ns].first = last;
            spans[ns].count = i - last;
            spans[ns].start = offset + (tok[last] - TB) * precision;
            spans[ns].end = offset + (tok[i - 1] - TB) * precision;
            ns++;
        }
        last = i;
    }
    if (any_pair) {
        if (single_ending) *next_seek = seek + seg_size;
        else *next_seek = seek + (size_t)(tok[last - 1] - TB) * 2; /* the end of the last complete segment */
        return ns;
    }
    /* no pair: the whole window is one segment, ending at its last timestamp if there is one */
    double duration = seg_size * 0.01;
    for (int i = n - 1; i >= 0; i--)
        if (tok[i] >= TB) {
            if (tok[i] != TB) duration = (tok[i] - TB) * precision;
            break;
        }
    if (max > 0) {
        spans[0].first = 0;
        spans[0].count = n;
        spans[0].start = offset;
        spans[0].end = offset + duration;
        ns = 1;
    }
    *next_seek = seek + seg_size;
    return ns;
}
