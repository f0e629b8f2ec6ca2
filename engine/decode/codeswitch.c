/* codeswitch.c - per-segment and per-word language labels, re-decoding under the segment's own
 * language, and switch points (codeswitch.h, docs/codeswitch.md). */
#include "decode/codeswitch.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "decode/repetition.h"
#include "text/uztext.h"

/* Weight of the text's Uzbek-vs-Russian log-odds against the audio log-probabilities: the text
 * was decoded under one language and so leans toward that language's script, hence less than 1
 * for a segment; a word has no audio label of its own, so its cues count fully against the
 * segment's odds. */
#define W_TEXT_SEGMENT 0.5f
#define W_TEXT_WORD 1.0f
/* Upper bound of the tokens a second of speech takes (Uzbek and Russian words split into 2-4
 * tokens, at most about 4 words a second). */
#define MAX_TOKENS_PER_SECOND 12.0
/* Segments shorter than this (mel frames, 10 ms each) keep the window's label. */
#define MIN_SEGMENT_FRAMES 30
/* A segment overrides its window's label only with at least this probability: the language head
 * on a few seconds of padded audio is unreliable (on 1-4 s pieces of Uzbek it says English with
 * p = 0.5-0.7). */
#define SEGMENT_OVERRIDE 0.8f
/* A segment covering at least this share of its window's audio uses the window's label as is. */
#define WHOLE_WINDOW_SHARE 0.8

typedef struct {
    int uz, ru; /* entries of the allowed set, -1 when absent */
} uzru_pair;

static uzru_pair find_pair(const uzw_model *m, const uzw_langset *s) {
    uzru_pair q = {-1, -1};
    for (int j = 0; j < s->n; j++) {
        if (!strcmp(m->lang_codes[s->idx[j]], "uz")) q.uz = j;
        if (!strcmp(m->lang_codes[s->idx[j]], "ru")) q.ru = j;
    }
    return q;
}

static int set_entry(const uzw_langset *s, int model_idx) {
    for (int j = 0; j < s->n; j++)
        if (s->idx[j] == model_idx) return j;
    return -1;
}

/* p[n] = softmax(score[n]) */
static void softmax(const double *score, int n, float *p) {
    double mx = -INFINITY, sum = 0;
    for (int j = 0; j < n; j++) mx = fmax(mx, score[j]);
    for (int j = 0; j < n; j++) sum += exp(score[j] - mx);
    for (int j = 0; j < n; j++) p[j] = (float)(exp(score[j] - mx) / sum);
}

static int argmax_f(const float *p, int n, int skip) {
    int b = -1;
    for (int j = 0; j < n; j++)
        if (j != skip && (b < 0 || p[j] > p[b])) b = j;
    return b;
}

/* Segment probabilities: audio probabilities (log) + W * text log-odds split between uz and ru.
 * Text decoded under uz or ru leans to that language by construction, so only cues against the
 * language it was decoded in count (dec: its entry, -1 for none). */
static void combine_text(const uzru_pair *q, const float *audio, int n, const char *text, float w, int dec, float *out) {
    double score[UZW_MAX_LANGUAGES];
    for (int j = 0; j < n; j++) score[j] = log(fmax(audio[j], 1e-30));
    if (q->uz >= 0 && q->ru >= 0 && text) {
        uzw_uz_ru_cues c;
        uzw_text_uz_ru_cues(text, &c);
        float L = uzw_text_uz_ru_logodds(&c);
        if ((dec == q->uz && L > 0) || (dec == q->ru && L < 0)) L = 0;
        score[q->uz] += w * L / 2;
        score[q->ru] -= w * L / 2;
    }
    softmax(score, n, out);
}

/* The language head on mel frames [f0, f0 + nf) of the input, restricted to the set. */
static int audio_probs(uzw_context *ctx, const uzw_langset *s, size_t f0, size_t nf, float *out) {
    float full[UZW_MAX_LANGUAGES];
    uzw_ctx_fill_window(ctx, f0, nf, 0.0f);
    if (uzw_encode(ctx->m, &ctx->st) != 0) return -1;
    if (uzw_language_probs(ctx, full) < 0) return -1;
    uzw_langset_restrict(s, ctx->m->sp.n_languages, full, out);
    return 0;
}

/* A decode of the encoded audio [f0, f0 + nf) under one language, without timestamps, with words. */
typedef struct {
    int32_t *tokens;
    int n_tokens;
    float avg_logprob;
    float no_speech_prob;
    uzw_word *words;
    int n_words;
} redecode;

static void redecode_free(redecode *r) {
    free(r->tokens);
    uzw_words_free(r->words, r->n_words);
    memset(r, 0, sizeof *r);
}

static int decode_as(uzw_context *ctx, const uzw_params *p, int lang, size_t f0, size_t nf, double t0, double t1,
                     uint64_t *rng, redecode *out) {
    const uzw_model *m = ctx->m;
    int T = m->dims.n_text_ctx;
    memset(out, 0, sizeof *out);
    int32_t prompt[4] = {m->sp.sot, m->sp.first_lang + lang, m->sp.transcribe, m->sp.no_timestamps};
    uzw_params q = *p;
    q.without_timestamps = 1;
    /* a stretch of nf/100 s holds a few tokens a second: a cap keeps a failing decode from
     * running to the window's 224 tokens at every fallback temperature */
    int cap = (int)(MAX_TOKENS_PER_SECOND * (double)nf / 100.0) + 8;
    int full = p->max_tokens_per_window > 0 ? p->max_tokens_per_window : T / 2;
    q.max_tokens_per_window = cap < full ? cap : full;
    /* one attempt at the schedule's first temperature: the fallback exists to escape loops, which
     * the cap bounds, and Uzbek decodes of a small model stay under the log-prob threshold at every
     * temperature, so the full schedule would cost six decodes for nothing */
    static const float k_zero = 0.0f;
    q.temperatures = p->temperatures && p->n_temperatures > 0 ? p->temperatures : &k_zero;
    q.n_temperatures = 1;
    uzw_window_result wr = {.tokens = malloc(sizeof(int32_t) * (size_t)T)};
    if (!wr.tokens) return -1;
    if (uzw_decode_with_fallback(m, &ctx->st, prompt, 4, &q, rng, &wr) != 0) { free(wr.tokens); return -1; }
    ctx->tm.n_decoder_steps += wr.n_steps;
    if (p->cut_repetitions && wr.compression_ratio > p->compression_ratio_threshold)
        wr.n_tokens = uzw_repetition_cut(wr.tokens, wr.n_tokens, m->sp.eot); /* as the window loop does */
    uzw_logf(p->log, p->log_user, UZW_LOG_DEBUG, "decode %.2f-%.2f s as '%s': %d tokens, T=%.1f (%d attempts, %d steps)",
             t0, t1, m->lang_codes[lang], wr.n_tokens, wr.temperature, wr.n_attempts, wr.n_steps);
    out->tokens = wr.tokens;
    out->n_tokens = wr.n_tokens;
    out->avg_logprob = wr.avg_logprob;
    out->no_speech_prob = wr.no_speech_prob;
    if (wr.n_tokens == 0) return 0;
    uzw_wt_segment ws = {.tokens = wr.tokens, .n_tokens = wr.n_tokens, .start = t0, .end = t1};
    uzw_wt_window win = {.sot_seq = prompt, .n_sot = 3, .seek = f0, .num_frames = (int)nf,
                         .language = m->lang_codes[lang]};
    double speech = t0;
    char msg[256];
    if (uzw_add_word_timestamps(m, &ctx->st, &win, &ws, 1, &speech, msg, sizeof msg) != 0) return -1;
    out->words = ws.words;
    out->n_words = ws.n_words;
    return 0;
}

/* Put a re-decode into segment s (its bounds stay). */
static int take_redecode(uzw_context *ctx, uzw_segment *s, redecode *r) {
    char *text = uzw_tokenizer_decode(ctx->m->tok, r->tokens, r->n_tokens);
    if (!text) return -1;
    free(s->text);
    free(s->tokens);
    uzw_words_free(s->words, s->n_words);
    s->text = text;
    s->tokens = r->tokens;
    s->n_tokens = r->n_tokens;
    s->avg_logprob = r->avg_logprob;
    s->words = r->words;
    s->n_words = r->n_words;
    memset(r, 0, sizeof *r);
    return 0;
}

/* Word labels from the segment's uz/ru odds and each word's own cues. */
static void label_words(const uzw_model *m, const uzw_langset *set, const uzru_pair *q, uzw_segment *s,
                        const float *seg_p) {
    int have_pair = q->uz >= 0 && q->ru >= 0;
    int seg_is_pair = have_pair && (!strcmp(s->lang, "uz") || !strcmp(s->lang, "ru"));
    for (int w = 0; w < s->n_words; w++) {
        uzw_word *x = &s->words[w];
        memcpy(x->lang, s->lang, sizeof x->lang);
        x->lang_prob = s->lang_prob;
        if (!seg_is_pair) continue;
        double pu = fmax(seg_p[q->uz], 1e-9), pr = fmax(seg_p[q->ru], 1e-9);
        uzw_uz_ru_cues c;
        uzw_text_uz_ru_cues(x->text, &c);
        double logit = log(pu / pr) + W_TEXT_WORD * uzw_text_uz_ru_logodds(&c);
        double p_uz = 1.0 / (1.0 + exp(-logit));
        int j = p_uz >= 0.5 ? q->uz : q->ru;
        snprintf(x->lang, sizeof x->lang, "%s", m->lang_codes[set->idx[j]]);
        /* the pair's share of the segment probability, split by the word's odds */
        x->lang_prob = (float)((p_uz >= 0.5 ? p_uz : 1 - p_uz) * (seg_p[q->uz] + seg_p[q->ru]));
    }
}

static uzw_status label_segment(uzw_context *ctx, const uzw_params *p, const uzw_cs_window *w, const uzru_pair *q,
                                int si, int *enc_is_window, uint64_t *rng) {
    const uzw_model *m = ctx->m;
    const uzw_langset *set = w->set;
    uzw_segment *s = &ctx->seg[si];
    int n = set->n;
    size_t f0 = (size_t)fmax(0, nearbyint(s->t0 * 100)), f1 = (size_t)fmax(0, nearbyint(s->t1 * 100));
    if (f1 > w->content_frames) f1 = w->content_frames;
    if (f0 > f1) f0 = f1;
    size_t nf = f1 - f0;
    if (nf > UZW_CHUNK_FRAMES) nf = UZW_CHUNK_FRAMES;
    int dec = set_entry(set, w->win_lang); /* the entry the segment was decoded in */
    float audio[UZW_MAX_LANGUAGES], seg_p[UZW_MAX_LANGUAGES];
    int whole = nf >= (size_t)(WHOLE_WINDOW_SHARE * (double)w->seg_frames);
    int short_seg = nf < MIN_SEGMENT_FRAMES;
    if (whole || short_seg) {
        memcpy(audio, w->win_probs, sizeof(float) * (size_t)n);
        if (whole) { f0 = w->seek; nf = w->seg_frames; }
    } else {
        if (audio_probs(ctx, set, f0, nf, audio) != 0) return uzw_ctx_fail(ctx, UZW_ERR_INTERNAL, "segment language identification failed");
        *enc_is_window = 0;
    }
    combine_text(q, audio, n, s->text, W_TEXT_SEGMENT, dec, seg_p);
    int d = argmax_f(seg_p, n, -1);
    if (dec >= 0 && d != dec && seg_p[d] < SEGMENT_OVERRIDE) d = dec; /* not sure enough to contradict */
    int need_other = d != dec;
    if (need_other && !short_seg) {
        /* the audio the re-decode reads must be in st: the segment's own, or the window's */
        if (whole && !*enc_is_window) {
            uzw_ctx_fill_window(ctx, w->seek, w->seg_frames, 0.0f);
            if (uzw_encode(m, &ctx->st) != 0) return uzw_ctx_fail(ctx, UZW_ERR_DEVICE, "%s", ctx->st.gpu_err);
            *enc_is_window = 1;
        }
        redecode r;
        if (decode_as(ctx, p, set->idx[d], f0, nf, s->t0, s->t1, rng, &r) != 0) {
            redecode_free(&r);
            return uzw_ctx_fail(ctx, UZW_ERR_INTERNAL, "re-decoding the segment at %.2f s failed", s->t0);
        }
        uzw_logf(p->log, p->log_user, UZW_LOG_INFO, "segment %.2f-%.2f s: %s (p = %.2f), decoded again from %s",
                 s->t0, s->t1, m->lang_codes[set->idx[d]], seg_p[d], m->lang_codes[w->win_lang]);
        if (r.n_tokens > 0 && take_redecode(ctx, s, &r) != 0) { redecode_free(&r); return uzw_ctx_fail(ctx, UZW_ERR_NO_MEMORY, "out of memory"); }
        redecode_free(&r);
    }
    snprintf(s->lang, sizeof s->lang, "%s", m->lang_codes[set->idx[d]]);
    s->lang_prob = seg_p[d];
    label_words(m, set, q, s, seg_p);
    return UZW_OK;
}

/* Insert a segment made from a decode of [t0, t1] at its place in time order (after first_seg);
 * returns its index, -1 when out of memory. */
static int insert_segment(uzw_context *ctx, int first_seg, redecode *r, double t0, double t1, float no_speech,
                          const char *lang, float lang_prob) {
    uzw_window_result wr = {.avg_logprob = r->avg_logprob, .no_speech_prob = no_speech};
    if (uzw_ctx_add_segment(ctx, r->tokens, r->n_tokens, t0, t1, &wr) != 0) return -1;
    uzw_segment s = ctx->seg[ctx->n_seg - 1];
    s.words = r->words;
    s.n_words = r->n_words;
    r->words = NULL;
    r->n_words = 0;
    if (s.n_words > 0) { s.t0 = s.words[0].start; s.t1 = s.words[s.n_words - 1].end; }
    snprintf(s.lang, sizeof s.lang, "%s", lang);
    s.lang_prob = lang_prob;
    int at = ctx->n_seg - 1;
    while (at > first_seg && ctx->seg[at - 1].t0 > s.t0) at--;
    memmove(&ctx->seg[at + 1], &ctx->seg[at], sizeof s * (size_t)(ctx->n_seg - 1 - at));
    ctx->seg[at] = s;
    return at;
}

int uzw_cs_speech_regions(const float *pcm, size_t n, uzw_vad_region **out) {
    uzw_vad_opts o = uzw_vad_default_opts();
    o.min_silence_ms = 300; /* split at short pauses: a gap between segments is often one */
    o.pad_ms = 50;
    *out = NULL;
    int k = uzw_vad_regions(pcm, n, &o, NULL, 0);
    if (k < 0) return -1;
    *out = malloc(sizeof **out * (size_t)(k ? k : 1));
    if (!*out) return -1;
    return uzw_vad_regions(pcm, n, &o, *out, k);
}

/* Seconds of speech in mel frames [f0, f0 + nf). */
static double speech_in(const uzw_cs_window *w, size_t f0, size_t nf) {
    size_t a = f0 * 160, b = (f0 + nf) * 160, total = 0;
    for (int i = 0; i < w->n_speech; i++) {
        size_t s0 = w->speech[i].start > a ? w->speech[i].start : a, s1 = w->speech[i].end < b ? w->speech[i].end : b;
        if (s1 > s0) total += s1 - s0;
    }
    return total / 16000.0;
}

/* One uncovered stretch [f0, f0 + nf) of the window. */
static uzw_status fill_gap(uzw_context *ctx, const uzw_params *p, const uzw_cs_window *w, const uzru_pair *q,
                           int first_seg, size_t f0, size_t nf, uint64_t *rng) {
    const uzw_model *m = ctx->m;
    const uzw_langset *set = w->set;
    float audio[UZW_MAX_LANGUAGES], gp[UZW_MAX_LANGUAGES];
    if (speech_in(w, f0, nf) < UZW_CS_MIN_GAP_SPEECH) return UZW_OK; /* a pause, not skipped speech */
    if (audio_probs(ctx, set, f0, nf, audio) != 0) return uzw_ctx_fail(ctx, UZW_ERR_INTERNAL, "language identification failed");
    combine_text(q, audio, set->n, NULL, 0, -1, gp);
    int d = argmax_f(gp, set->n, -1);
    if (set->idx[d] == w->win_lang) return UZW_OK; /* the window's decoder saw this and wrote nothing */
    double t0 = f0 / 100.0, t1 = (f0 + nf) / 100.0;
    redecode r;
    if (decode_as(ctx, p, set->idx[d], f0, nf, t0, t1, rng, &r) != 0) {
        redecode_free(&r);
        return uzw_ctx_fail(ctx, UZW_ERR_INTERNAL, "decoding the stretch at %.2f s failed", t0);
    }
    int silence = r.no_speech_prob > p->no_speech_threshold && !(r.avg_logprob > p->logprob_threshold);
    char *text = r.n_tokens > 0 && !silence ? uzw_tokenizer_decode(m->tok, r.tokens, r.n_tokens) : NULL;
    int blank = 1;
    for (const char *c = text; c && *c; c++) blank &= *c == ' ';
    free(text);
    uzw_status st = UZW_OK;
    if (!blank && r.n_words > 0) {
        uzw_logf(p->log, p->log_user, UZW_LOG_INFO, "uncovered %.2f-%.2f s: %s (p = %.2f), decoded in it", t0, t1,
                 m->lang_codes[set->idx[d]], gp[d]);
        int at = insert_segment(ctx, first_seg, &r, t0, t1, r.no_speech_prob, m->lang_codes[set->idx[d]], gp[d]);
        if (at < 0) st = uzw_ctx_fail(ctx, UZW_ERR_NO_MEMORY, "out of memory");
        else label_words(m, set, q, &ctx->seg[at], gp);
    }
    redecode_free(&r);
    return st;
}

/* The stretches of [seek, end) that no segment of the window covers, each at least
 * UZW_CS_MIN_GAP_FRAMES long. */
static uzw_status fill_gaps(uzw_context *ctx, const uzw_params *p, const uzw_cs_window *w, const uzru_pair *q,
                            int first_seg, uint64_t *rng) {
    size_t end = w->seek + w->seg_frames;
    if (w->next_seek < end) end = w->next_seek; /* the rest is the next window's */
    size_t gaps[UZW_MAX_SPANS + 1][2];
    int ng = 0;
    size_t at = w->seek;
    for (int i = first_seg; i <= ctx->n_seg && ng <= UZW_MAX_SPANS; i++) {
        size_t s0 = i < ctx->n_seg ? (size_t)fmax(0, nearbyint(ctx->seg[i].t0 * 100)) : end;
        if (s0 > end) s0 = end;
        if (s0 > at && s0 - at >= UZW_CS_MIN_GAP_FRAMES) { gaps[ng][0] = at; gaps[ng][1] = s0 - at; ng++; }
        if (i < ctx->n_seg) {
            size_t s1 = (size_t)fmax(0, nearbyint(ctx->seg[i].t1 * 100));
            if (s1 > at) at = s1;
        }
    }
    uzw_status st = UZW_OK;
    for (int g = 0; g < ng && st == UZW_OK; g++) st = fill_gap(ctx, p, w, q, first_seg, gaps[g][0], gaps[g][1], rng);
    return st;
}

uzw_status uzw_cs_label_window(uzw_context *ctx, const uzw_params *p, const uzw_cs_window *w, int first_seg,
                               uint64_t *rng) {
    double t0 = uzw_now_ms();
    uzru_pair q = find_pair(ctx->m, w->set);
    int enc_is_window = 1;
    uzw_status st = UZW_OK;
    for (int i = first_seg; i < ctx->n_seg && st == UZW_OK; i++) st = label_segment(ctx, p, w, &q, i, &enc_is_window, rng);
    if (st == UZW_OK) st = fill_gaps(ctx, p, w, &q, first_seg, rng);
    ctx->tm.codeswitch_ms += uzw_now_ms() - t0;
    return st;
}

static int add_switch(uzw_context *ctx, int *cap, double time, const char *from, const char *to) {
    if (ctx->n_sw == *cap) {
        int nc = *cap ? 2 * *cap : 8;
        uzw_switch_pt *v = realloc(ctx->sw, sizeof *v * (size_t)nc);
        if (!v) return -1;
        ctx->sw = v;
        *cap = nc;
    }
    uzw_switch_pt *x = &ctx->sw[ctx->n_sw++];
    x->time = time;
    snprintf(x->from, sizeof x->from, "%s", from);
    snprintf(x->to, sizeof x->to, "%s", to);
    return 0;
}

uzw_status uzw_cs_find_switches(uzw_context *ctx) {
    free(ctx->sw);
    ctx->sw = NULL;
    ctx->n_sw = 0;
    int cap = 0;
    const char *prev = NULL;
    for (int i = 0; i < ctx->n_seg; i++) {
        const uzw_segment *s = &ctx->seg[i];
        const char *seg_lang = s->lang[0] ? s->lang : ctx->language;
        int units = s->n_words > 0 ? s->n_words : 1;
        for (int k = 0; k < units; k++) {
            const char *l = s->n_words > 0 && s->words[k].lang[0] ? s->words[k].lang : seg_lang;
            double t = s->n_words > 0 ? s->words[k].start : s->t0;
            if (prev && strcmp(prev, l) && add_switch(ctx, &cap, t, prev, l) != 0)
                return uzw_ctx_fail(ctx, UZW_ERR_NO_MEMORY, "out of memory");
            prev = l;
        }
    }
    return UZW_OK;
}

/* text -> the wanted script; NULL when out of memory. */
static char *to_script(const char *text, int uz_script) {
    if (uz_script == UZW_UZ_SCRIPT_CYRILLIC) return uzw_uz_lat_to_cyr(text);
    char *lat = uzw_uz_cyr_to_lat(text);
    if (!lat) return NULL;
    char *canon = uzw_uz_latin_canonical(lat);
    free(lat);
    return canon;
}

static int rewrite(char **text, int uz_script) {
    char *t = to_script(*text, uz_script);
    if (!t) return -1;
    free(*text);
    *text = t;
    return 0;
}

/* The segment's text as the concatenation of its words (they hold every character of it). */
static int text_from_words(uzw_segment *s) {
    size_t len = 1;
    for (int w = 0; w < s->n_words; w++) len += strlen(s->words[w].text);
    char *t = malloc(len);
    if (!t) return -1;
    size_t o = 0;
    for (int w = 0; w < s->n_words; w++) {
        size_t k = strlen(s->words[w].text);
        memcpy(t + o, s->words[w].text, k);
        o += k;
    }
    t[o] = 0;
    free(s->text);
    s->text = t;
    return 0;
}

uzw_status uzw_apply_uz_script(uzw_context *ctx, int uz_script) {
    if (uz_script != UZW_UZ_SCRIPT_LATIN && uz_script != UZW_UZ_SCRIPT_CYRILLIC) return UZW_OK;
    for (int i = 0; i < ctx->n_seg; i++) {
        uzw_segment *s = &ctx->seg[i];
        const char *seg_lang = s->lang[0] ? s->lang : ctx->language;
        int changed = 0, bad = 0;
        for (int w = 0; w < s->n_words && !bad; w++) {
            const char *l = s->words[w].lang[0] ? s->words[w].lang : seg_lang;
            if (!strcmp(l, "uz")) { bad = rewrite(&s->words[w].text, uz_script) != 0; changed = 1; }
        }
        if (!bad && changed) bad = text_from_words(s) != 0;
        else if (!bad && s->n_words == 0 && !strcmp(seg_lang, "uz")) bad = rewrite(&s->text, uz_script) != 0;
        if (bad) return uzw_ctx_fail(ctx, UZW_ERR_NO_MEMORY, "out of memory");
    }
    return UZW_OK;
}
