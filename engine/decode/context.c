/* context.c - creating and freeing contexts, audio loading, results and their getters. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio/audio.h"
#include "core/util.h"
#include "decode/context.h"

uzw_status uzw_ctx_fail(uzw_context *ctx, uzw_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->err, sizeof ctx->err, fmt, ap);
    va_end(ap);
    return st;
}

uzw_status uzw_context_create(const uzw_model *m, uzw_context **out) {
    if (!m || !out) return UZW_ERR_INVALID_ARG;
    *out = NULL;
    uzw_context *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return UZW_ERR_NO_MEMORY;
    ctx->m = m;
    if (uzw_fwd_init(&ctx->st, m, 1, ctx->err, sizeof ctx->err) != 0) {
        free(ctx);
        return UZW_ERR_NO_MEMORY;
    }
    ctx->mel_plan = uzw_mel_plan_new(m->dims.n_mels, m->mel_filters);
    if (!ctx->mel_plan) {
        uzw_context_free(ctx);
        return UZW_ERR_NO_MEMORY;
    }
    *out = ctx;
    return UZW_OK;
}

void uzw_ctx_clear_results(uzw_context *ctx) {
    for (int i = 0; i < ctx->n_seg; i++) {
        free(ctx->seg[i].text);
        free(ctx->seg[i].tokens);
        uzw_words_free(ctx->seg[i].words, ctx->seg[i].n_words);
    }
    ctx->n_seg = 0;
    free(ctx->sw);
    ctx->sw = NULL;
    ctx->n_sw = 0;
    free(ctx->full_text);
    ctx->full_text = NULL;
    ctx->language[0] = 0;
    ctx->lang_detected = 0;
    ctx->n_lang_probs = 0;
}

void uzw_context_free(uzw_context *ctx) {
    if (!ctx) return;
    uzw_ctx_clear_results(ctx);
    free(ctx->seg);
    free(ctx->pcm);
    free(ctx->mel);
    uzw_mel_plan_free(ctx->mel_plan);
    uzw_context_set_device(ctx, "cpu");
    uzw_fwd_free(&ctx->st);
    free(ctx);
}

const char *uzw_last_error(const uzw_context *ctx) { return ctx ? ctx->err : "no context"; }

uzw_status uzw_ctx_reserve_sequences(uzw_context *ctx, int n_seq) {
    if (ctx->st.n_seq_max >= n_seq) return UZW_OK;
    uzw_fwd_free(&ctx->st);
    if (uzw_fwd_init(&ctx->st, ctx->m, n_seq, ctx->err, sizeof ctx->err) != 0) {
        /* keep a usable single-sequence state behind the error */
        char keep[sizeof ctx->err];
        memcpy(keep, ctx->err, sizeof keep);
        if (uzw_fwd_init(&ctx->st, ctx->m, 1, ctx->err, sizeof ctx->err) != 0) return UZW_ERR_NO_MEMORY;
        memcpy(ctx->err, keep, sizeof keep);
        uzw_ctx_attach_gpu_state(ctx);
        return UZW_ERR_NO_MEMORY;
    }
    return uzw_ctx_attach_gpu_state(ctx);
}

int uzw_ctx_add_segment(uzw_context *ctx, const int32_t *tokens, int n, double t0, double t1, const uzw_window_result *wr) {
    if (ctx->n_seg == ctx->cap_seg) {
        int cap = ctx->cap_seg ? 2 * ctx->cap_seg : 16;
        uzw_segment *s = realloc(ctx->seg, sizeof *s * (size_t)cap);
        if (!s) return -1;
        ctx->seg = s;
        ctx->cap_seg = cap;
    }
    uzw_segment *s = &ctx->seg[ctx->n_seg];
    memset(s, 0, sizeof *s);
    s->tokens = malloc(sizeof(int32_t) * (size_t)(n ? n : 1));
    s->text = uzw_tokenizer_decode(ctx->m->tok, tokens, n);
    if (!s->tokens || !s->text) { free(s->tokens); free(s->text); return -1; }
    memcpy(s->tokens, tokens, sizeof(int32_t) * (size_t)n);
    s->n_tokens = n;
    s->t0 = t0;
    s->t1 = t1;
    s->avg_logprob = wr->avg_logprob;
    s->no_speech_prob = wr->no_speech_prob;
    s->temperature = wr->temperature;
    s->compression_ratio = wr->compression_ratio;
    ctx->n_seg++;
    return 0;
}

void uzw_ctx_set_words(uzw_context *ctx, uzw_word *words, int n) {
    uzw_segment *s = ctx->n_seg > 0 ? &ctx->seg[ctx->n_seg - 1] : NULL;
    if (!s) { uzw_words_free(words, n); return; }
    uzw_words_free(s->words, s->n_words);
    s->words = words;
    s->n_words = words ? n : 0;
}

uzw_status uzw_load_audio_file(uzw_context *ctx, const char *path) {
    if (!ctx) return UZW_ERR_INVALID_ARG;
    if (!path) return uzw_ctx_fail(ctx, UZW_ERR_INVALID_ARG, "no audio path given");
    free(ctx->pcm);
    ctx->pcm = NULL;
    ctx->n_pcm = 0;
    double t0 = uzw_now_ms();
    char msg[512];
    if (uzw_audio_load_16k(path, &ctx->pcm, &ctx->n_pcm, msg, sizeof msg) != 0)
        return uzw_ctx_fail(ctx, UZW_ERR_AUDIO, "%s: %s", path, msg);
    ctx->tm.audio_ms = uzw_now_ms() - t0;
    return UZW_OK;
}

uzw_status uzw_transcribe_loaded(uzw_context *ctx, const uzw_params *params) {
    if (!ctx) return UZW_ERR_INVALID_ARG;
    if (!ctx->pcm) return uzw_ctx_fail(ctx, UZW_ERR_INVALID_ARG, "no audio loaded");
    double audio_ms = ctx->tm.audio_ms;
    uzw_status st = uzw_transcribe_pcm(ctx, ctx->pcm, ctx->n_pcm, params);
    ctx->tm.audio_ms = audio_ms;
    return st;
}

uzw_status uzw_transcribe_file(uzw_context *ctx, const char *path, const uzw_params *params) {
    uzw_status st = uzw_load_audio_file(ctx, path);
    return st == UZW_OK ? uzw_transcribe_loaded(ctx, params) : st;
}

/* ---------------------------------------------------------------- getters */
int uzw_n_segments(const uzw_context *ctx) { return ctx ? ctx->n_seg : 0; }
static const uzw_segment *seg_at(const uzw_context *ctx, int i) {
    return (ctx && i >= 0 && i < ctx->n_seg) ? &ctx->seg[i] : NULL;
}
const char *uzw_segment_text(const uzw_context *ctx, int i) { const uzw_segment *s = seg_at(ctx, i); return s ? s->text : NULL; }
double uzw_segment_start(const uzw_context *ctx, int i) { const uzw_segment *s = seg_at(ctx, i); return s ? s->t0 : -1; }
double uzw_segment_end(const uzw_context *ctx, int i) { const uzw_segment *s = seg_at(ctx, i); return s ? s->t1 : -1; }
int uzw_segment_n_tokens(const uzw_context *ctx, int i) { const uzw_segment *s = seg_at(ctx, i); return s ? s->n_tokens : 0; }
int uzw_segment_token(const uzw_context *ctx, int i, int j) {
    const uzw_segment *s = seg_at(ctx, i);
    return (s && j >= 0 && j < s->n_tokens) ? s->tokens[j] : -1;
}
float uzw_segment_avg_logprob(const uzw_context *ctx, int i) { const uzw_segment *s = seg_at(ctx, i); return s ? s->avg_logprob : 0; }
float uzw_segment_no_speech_prob(const uzw_context *ctx, int i) { const uzw_segment *s = seg_at(ctx, i); return s ? s->no_speech_prob : -1; }
float uzw_segment_temperature(const uzw_context *ctx, int i) { const uzw_segment *s = seg_at(ctx, i); return s ? s->temperature : -1; }
float uzw_segment_compression_ratio(const uzw_context *ctx, int i) { const uzw_segment *s = seg_at(ctx, i); return s ? s->compression_ratio : -1; }
const char *uzw_segment_language(const uzw_context *ctx, int i) {
    const uzw_segment *s = seg_at(ctx, i);
    return s ? (s->lang[0] ? s->lang : ctx->language) : NULL;
}
float uzw_segment_language_prob(const uzw_context *ctx, int i) {
    const uzw_segment *s = seg_at(ctx, i);
    if (!s) return -1;
    if (s->lang[0]) return s->lang_prob;
    return ctx->lang_detected && ctx->n_lang_probs ? ctx->lang_probs[0].p : 1.0f;
}
static const uzw_word *word_at(const uzw_context *ctx, int i, int w) {
    const uzw_segment *s = seg_at(ctx, i);
    return (s && w >= 0 && w < s->n_words) ? &s->words[w] : NULL;
}
int uzw_segment_n_words(const uzw_context *ctx, int i) { const uzw_segment *s = seg_at(ctx, i); return s ? s->n_words : 0; }
const char *uzw_word_text(const uzw_context *ctx, int i, int w) { const uzw_word *x = word_at(ctx, i, w); return x ? x->text : NULL; }
double uzw_word_start(const uzw_context *ctx, int i, int w) { const uzw_word *x = word_at(ctx, i, w); return x ? x->start : -1; }
double uzw_word_end(const uzw_context *ctx, int i, int w) { const uzw_word *x = word_at(ctx, i, w); return x ? x->end : -1; }
float uzw_word_prob(const uzw_context *ctx, int i, int w) { const uzw_word *x = word_at(ctx, i, w); return x ? x->prob : -1; }
const char *uzw_word_language(const uzw_context *ctx, int i, int w) {
    const uzw_word *x = word_at(ctx, i, w);
    return x ? (x->lang[0] ? x->lang : uzw_segment_language(ctx, i)) : NULL;
}
float uzw_word_language_prob(const uzw_context *ctx, int i, int w) {
    const uzw_word *x = word_at(ctx, i, w);
    return x ? (x->lang[0] ? x->lang_prob : uzw_segment_language_prob(ctx, i)) : -1;
}
int uzw_n_switches(const uzw_context *ctx) { return ctx ? ctx->n_sw : 0; }
static const uzw_switch_pt *sw_at(const uzw_context *ctx, int k) {
    return (ctx && k >= 0 && k < ctx->n_sw) ? &ctx->sw[k] : NULL;
}
double uzw_switch_time(const uzw_context *ctx, int k) { const uzw_switch_pt *p = sw_at(ctx, k); return p ? p->time : -1; }
const char *uzw_switch_from(const uzw_context *ctx, int k) { const uzw_switch_pt *p = sw_at(ctx, k); return p ? p->from : NULL; }
const char *uzw_switch_to(const uzw_context *ctx, int k) { const uzw_switch_pt *p = sw_at(ctx, k); return p ? p->to : NULL; }
const char *uzw_full_text(const uzw_context *ctx) { return ctx && ctx->full_text ? ctx->full_text : ""; }
const char *uzw_language(const uzw_context *ctx) { return ctx ? ctx->language : ""; }
int uzw_language_detected(const uzw_context *ctx) { return ctx ? ctx->lang_detected : 0; }
int uzw_n_language_probs(const uzw_context *ctx) { return ctx ? ctx->n_lang_probs : 0; }
const char *uzw_language_prob_code(const uzw_context *ctx, int i) {
    return (ctx && i >= 0 && i < ctx->n_lang_probs) ? ctx->lang_probs[i].code : NULL;
}
float uzw_language_prob(const uzw_context *ctx, int i) {
    return (ctx && i >= 0 && i < ctx->n_lang_probs) ? ctx->lang_probs[i].p : -1.0f;
}
double uzw_audio_duration(const uzw_context *ctx) { return ctx ? ctx->duration : 0; }
uzw_timings uzw_get_timings(const uzw_context *ctx) {
    uzw_timings t = {0};
    return ctx ? ctx->tm : t;
}
