/*
 * stream.c - live transcription over a growing audio buffer (docs/streaming.md).
 *
 * Policy: LocalAgreement-2 (as whisper_streaming): every `step_s` of new audio the buffer (the
 * audio since the last trim, at most `max_buffer_s`) is decoded again with word timestamps, the
 * final text from before the buffer as the prompt; words two successive passes agree on, from the
 * last final word on, become final. Voice-activity endpointing: when the buffer ends in `endpoint_silence_s` of
 * non-speech after the last word, that pass's whole hypothesis is final (the utterance ended) and
 * the buffer restarts after it; a buffer with no speech at all is not decoded. When the buffer
 * grows past max_buffer_s it is cut at the end of the last final word.
 *
 * Work reused between passes: the buffer is cut at final words (no audio is decoded again once
 * its words are final), silent buffers skip the model, and the prompt carries the final text.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio/vad.h"
#include "core/util.h"
#include "decode/context.h"
#include "stream/stream.h"

#define SR 16000

uzw_stream_params uzw_stream_default_params(void) {
    uzw_stream_params sp = {.step_s = 1.0f, .max_buffer_s = 15.0f, .endpoint_silence_s = 0.8f};
    return sp;
}

static void words_clear(uzw_stream_word *w, int n) {
    for (int i = 0; i < n; i++) free(w[i].text);
}

static int push_word(uzw_stream_word **v, int *n, int *cap, const uzw_stream_word *w) {
    if (*n == *cap) {
        int c = *cap ? 2 * *cap : 64;
        uzw_stream_word *nv = realloc(*v, sizeof *nv * (size_t)c);
        if (!nv) return -1;
        *v = nv;
        *cap = c;
    }
    (*v)[(*n)++] = *w;
    return 0;
}

/* Words compare by their letters and digits, case-folded (ASCII) - punctuation and the leading
 * space Whisper attaches do not make two passes disagree. */
static int same_word(const char *a, const char *b) {
    for (;;) {
        while (*a && (ispunct((unsigned char)*a) || isspace((unsigned char)*a))) a++;
        while (*b && (ispunct((unsigned char)*b) || isspace((unsigned char)*b))) b++;
        if (!*a || !*b) return !*a && !*b;
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) return 0;
        a++, b++;
    }
}

uzw_status uzw_stream_begin(uzw_context *ctx, const uzw_params *p, const uzw_stream_params *sp, uzw_stream **out) {
    if (!ctx || !out) return UZW_ERR_INVALID_ARG;
    *out = NULL;
    uzw_stream_params d = sp ? *sp : uzw_stream_default_params();
    if (!(d.step_s >= 0.1f && d.step_s <= 10.0f) || !(d.max_buffer_s >= 2.0f && d.max_buffer_s <= 28.0f) ||
        !(d.endpoint_silence_s >= 0.0f && d.endpoint_silence_s <= 5.0f) || d.step_s > d.max_buffer_s)
        return uzw_ctx_fail(ctx, UZW_ERR_INVALID_ARG, "stream: step %.2f s must be 0.1..10, the buffer %.2f s 2..28 and "
                            "at least the step, endpoint silence %.2f s 0..5", d.step_s, d.max_buffer_s, d.endpoint_silence_s);
    uzw_stream *s = calloc(1, sizeof *s);
    if (!s) return UZW_ERR_NO_MEMORY;
    s->ctx = ctx;
    s->p = p ? *p : uzw_default_params();
    s->p.word_timestamps = 1;
    s->p.vad_filter = 0;                 /* the stream does its own endpointing */
    s->p.without_timestamps = 0;
    /* passes over audio cut mid-word look "too improbable" to the fallback rule, which would then
     * sample best-of-5 at rising temperatures on every pass; agreement between passes is what
     * guards a stream, so passes decode at temperature 0 only */
    static const float zero = 0.0f;
    s->p.temperatures = &zero;
    s->p.n_temperatures = 1;
    s->sp = d;
    s->cap = (size_t)(d.max_buffer_s + d.step_s + 1.0f) * SR;
    s->buf = malloc(sizeof(float) * s->cap);
    if (!s->buf) { free(s); return UZW_ERR_NO_MEMORY; }
    *out = s;
    return UZW_OK;
}

void uzw_stream_free(uzw_stream *s) {
    if (!s) return;
    words_clear(s->fin, s->n_fin);
    words_clear(s->hyp, s->n_hyp);
    free(s->fin);
    free(s->hyp);
    free(s->buf);
    free(s->interim);
    free(s);
}

/* The prompt: the final text before the buffer (at most ~200 bytes, from a word start). Final
 * words still inside the buffer are decoded again, so their timestamps stay right, and dropped
 * by collect(). */
static void make_prompt(uzw_stream *s) {
    size_t o = 0;
    int last = s->n_fin;
    while (last > 0 && s->fin[last - 1].t1 > s->buf_t0 + 0.01) last--;
    int first = last;
    size_t len = 0;
    while (first > 0 && len < 200) len += strlen(s->fin[--first].text) + 1;
    for (int i = first; i < last && o + 1 < sizeof s->prompt; i++) {
        const char *t = s->fin[i].text;
        o += (size_t)snprintf(s->prompt + o, sizeof s->prompt - o, "%s%s", (o && t[0] != ' ') ? " " : "", t);
    }
    if (o >= sizeof s->prompt) o = sizeof s->prompt - 1;
    s->prompt[o] = 0;
}

/* Drop buffer audio before absolute time t (seconds). */
static void trim_to(uzw_stream *s, double t) {
    double rel = t - s->buf_t0;
    if (rel <= 0) return;
    size_t k = (size_t)(rel * SR);
    if (k > s->n) k = s->n;
    memmove(s->buf, s->buf + k, sizeof(float) * (s->n - k));
    s->n -= k;
    s->buf_t0 += (double)k / SR;
}

static int commit(uzw_stream *s, uzw_stream_word *w) {
    if (push_word(&s->fin, &s->n_fin, &s->cap_fin, w) != 0) return -1;
    s->fin_t = w->t1;
    return 0;
}

/* The pass's words (absolute times) after the final point, with an n-gram already final removed. */
static int collect(uzw_stream *s, uzw_stream_word **out, int *n_out) {
    const uzw_context *c = s->ctx;
    uzw_stream_word *v = NULL;
    int n = 0, cap = 0;
    for (int i = 0; i < uzw_n_segments(c); i++)
        for (int w = 0; w < uzw_segment_n_words(c, i); w++) {
            uzw_stream_word x = {NULL, uzw_word_start(c, i, w) + s->buf_t0, uzw_word_end(c, i, w) + s->buf_t0,
                                 uzw_word_prob(c, i, w), "", uzw_word_language_prob(c, i, w)};
            if (x.t1 <= s->fin_t + 0.02) continue; /* ends where the final text does: already final */
            snprintf(x.lang, sizeof x.lang, "%s", uzw_word_language(c, i, w) ? uzw_word_language(c, i, w) : "");
            if (!(x.text = strdup(uzw_word_text(c, i, w)))) goto oom;
            if (push_word(&v, &n, &cap, &x) != 0) { free(x.text); goto oom; }
        }
    /* the start of the pass repeating the end of the final text (1..5 words): drop it */
    for (int k = 5; k >= 1; k--) {
        if (k > n || k > s->n_fin) continue;
        int same = 1;
        for (int j = 0; j < k && same; j++) same = same_word(v[j].text, s->fin[s->n_fin - k + j].text);
        if (same) {
            words_clear(v, k);
            memmove(v, v + k, sizeof *v * (size_t)(n - k));
            n -= k;
            break;
        }
    }
    *out = v;
    *n_out = n;
    return 0;
oom:
    words_clear(v, n);
    free(v);
    return -1;
}

static uzw_status set_interim(uzw_stream *s) {
    size_t len = 1;
    for (int i = 0; i < s->n_hyp; i++) len += strlen(s->hyp[i].text) + 1;
    char *t = malloc(len);
    if (!t) return UZW_ERR_NO_MEMORY;
    size_t o = 0;
    for (int i = 0; i < s->n_hyp; i++) o += (size_t)snprintf(t + o, len - o, "%s", s->hyp[i].text);
    t[o] = 0;
    free(s->interim);
    s->interim = t;
    return UZW_OK;
}

/* Seconds of non-speech at the end of the buffer (the whole buffer when it has no speech). */
static double trailing_silence(const uzw_stream *s) {
    uzw_vad_opts o = uzw_vad_default_opts();
    o.min_silence_ms = 300;
    o.pad_ms = 100;
    uzw_vad_region r[64];
    int k = uzw_vad_regions(s->buf, s->n, &o, r, 64);
    if (k < 0) return 0;
    if (k == 0) return (double)s->n / SR;
    size_t end = r[(k < 64 ? k : 64) - 1].end;
    return (double)(s->n - (end < s->n ? end : s->n)) / SR;
}

/* One decoding pass over the buffer; final = the stream ended (everything becomes final). */
static uzw_status pass(uzw_stream *s, int final) {
    s->since = 0;
    double silence = trailing_silence(s);
    double dur = (double)s->n / SR;
    if (s->n < SR / 10 || silence >= dur - 0.05) { /* no speech in the buffer: nothing to decode */
        for (int i = 0; i < s->n_hyp; i++) /* the last pass's words were spoken before this pause */
            if (commit(s, &s->hyp[i]) != 0) return UZW_ERR_NO_MEMORY;
        s->n_hyp = 0;
        if (dur > s->sp.step_s) trim_to(s, s->buf_t0 + dur - s->sp.step_s);
        return set_interim(s);
    }
    make_prompt(s);
    uzw_params p = s->p;
    p.initial_prompt = s->prompt[0] ? s->prompt : s->p.initial_prompt;
    double t0 = uzw_now_ms();
    uzw_status st = uzw_transcribe_pcm(s->ctx, s->buf, s->n, &p);
    s->pass_ms += uzw_now_ms() - t0;
    s->n_passes++;
    if (st != UZW_OK) return st;
    uzw_stream_word *h;
    int nh;
    if (collect(s, &h, &nh) != 0) return UZW_ERR_NO_MEMORY;
    int endpoint = final || (s->sp.endpoint_silence_s > 0 && silence >= s->sp.endpoint_silence_s &&
                             (nh == 0 || h[nh - 1].t1 <= s->buf_t0 + dur - s->sp.endpoint_silence_s + 0.3));
    /* LocalAgreement: the common prefix of this pass and the previous one is final */
    int k = 0;
    if (endpoint) k = nh;
    else
        while (k < nh && k < s->n_hyp && same_word(h[k].text, s->hyp[k].text)) k++;
    if (s->p.log) {
        char line[1024];
        size_t o = 0;
        for (int i = 0; i < nh && o + 64 < sizeof line; i++) o += (size_t)snprintf(line + o, sizeof line - o, "%s%s[%.2f-%.2f]", i == k ? " |" : "", h[i].text, h[i].t0, h[i].t1);
        uzw_logf(s->p.log, s->p.log_user, UZW_LOG_DEBUG, "stream: pass at %.2f s over %.2f..%.2f s%s: %d final +%d:%s",
                 (double)s->received / SR, s->buf_t0, s->buf_t0 + dur, endpoint ? " (endpoint)" : "", s->n_fin, k, line);
    }
    for (int i = 0; i < k; i++) {
        if (commit(s, &h[i]) != 0) { words_clear(h + i, nh - i); free(h); return UZW_ERR_NO_MEMORY; }
    }
    words_clear(s->hyp, s->n_hyp);
    s->n_hyp = nh - k;
    if (s->n_hyp > s->cap_hyp) {
        uzw_stream_word *nv = realloc(s->hyp, sizeof *nv * (size_t)s->n_hyp);
        if (!nv) { words_clear(h + k, nh - k); free(h); s->n_hyp = 0; return UZW_ERR_NO_MEMORY; }
        s->hyp = nv;
        s->cap_hyp = s->n_hyp;
    }
    if (s->n_hyp) memcpy(s->hyp, h + k, sizeof *h * (size_t)s->n_hyp);
    free(h);
    if (endpoint) {
        /* the utterance ended: restart the buffer after its speech (keep a little silence) */
        trim_to(s, s->buf_t0 + dur - (s->sp.endpoint_silence_s > 0.2 ? 0.2 : s->sp.endpoint_silence_s));
    } else if (dur > s->sp.max_buffer_s - s->sp.step_s) {
        trim_to(s, s->fin_t);
        if ((double)s->n / SR > s->sp.max_buffer_s - s->sp.step_s) { /* nothing final to cut at: force it */
            for (int i = 0; i < s->n_hyp; i++)
                if (commit(s, &s->hyp[i]) != 0) return UZW_ERR_NO_MEMORY;
            s->n_hyp = 0;
            trim_to(s, s->buf_t0 + (double)s->n / SR - s->sp.step_s);
        }
    }
    return set_interim(s);
}

uzw_status uzw_stream_push(uzw_stream *s, const float *pcm, size_t n) {
    if (!s || (!pcm && n)) return UZW_ERR_INVALID_ARG;
    if (s->ended) return uzw_ctx_fail(s->ctx, UZW_ERR_INVALID_ARG, "stream: audio after the end of the stream");
    for (size_t i = 0; i < n; i++)
        if (!isfinite(pcm[i])) return uzw_ctx_fail(s->ctx, UZW_ERR_AUDIO, "stream: sample %zu is not a finite number", i);
    size_t step = (size_t)(s->sp.step_s * SR);
    while (n) {
        size_t room = s->cap - s->n, take = n < room ? n : room;
        if (take > step - s->since) take = step - s->since;
        if (take == 0) /* cannot happen: every pass leaves room for a step; refuse rather than spin */
            return uzw_ctx_fail(s->ctx, UZW_ERR_INTERNAL, "stream: the audio buffer is full");
        memcpy(s->buf + s->n, pcm, sizeof(float) * take);
        s->n += take;
        s->since += take;
        s->received += take;
        pcm += take;
        n -= take;
        if (s->since >= step) {
            uzw_status st = pass(s, 0);
            if (st != UZW_OK) return st;
        }
    }
    return UZW_OK;
}

uzw_status uzw_stream_end(uzw_stream *s) {
    if (!s) return UZW_ERR_INVALID_ARG;
    if (s->ended) return UZW_OK;
    s->ended = 1;
    return pass(s, 1);
}

int uzw_stream_n_words(const uzw_stream *s) { return s ? s->n_fin : 0; }

static const uzw_stream_word *word_at(const uzw_stream *s, int i) { return s && i >= 0 && i < s->n_fin ? &s->fin[i] : NULL; }
const char *uzw_stream_word_text(const uzw_stream *s, int i) { return word_at(s, i) ? word_at(s, i)->text : NULL; }
double uzw_stream_word_start(const uzw_stream *s, int i) { return word_at(s, i) ? word_at(s, i)->t0 : 0; }
double uzw_stream_word_end(const uzw_stream *s, int i) { return word_at(s, i) ? word_at(s, i)->t1 : 0; }
float uzw_stream_word_prob(const uzw_stream *s, int i) { return word_at(s, i) ? word_at(s, i)->prob : 0; }
const char *uzw_stream_word_language(const uzw_stream *s, int i) { return word_at(s, i) ? word_at(s, i)->lang : NULL; }
float uzw_stream_word_language_prob(const uzw_stream *s, int i) { return word_at(s, i) ? word_at(s, i)->lang_prob : NAN; }
const char *uzw_stream_interim(const uzw_stream *s) { return s && s->interim ? s->interim : ""; }
double uzw_stream_received(const uzw_stream *s) { return s ? (double)s->received / SR : 0; }
int uzw_stream_n_passes(const uzw_stream *s) { return s ? s->n_passes : 0; }
double uzw_stream_pass_ms(const uzw_stream *s) { return s ? s->pass_ms : 0; }
