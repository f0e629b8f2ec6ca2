/*
 * transcribe.c - the long-form loop of faster-whisper's / OAI's transcribe(): the log-mel of the
 * whole input plus one hop of zeros (one global max for the dynamic-range clamp), language
 * detection on the first window, then window after window: decode with the temperature fallback,
 * skip silence, split at timestamp pairs, and seek to the end of the last complete segment; each
 * window is conditioned on the text kept so far (<|startofprev|> + the last n_text_ctx/2 - 1
 * tokens), reset after a window decoded hotter than prompt_reset_on_temperature.
 *
 * Padding: faster-whisper pads the waveform with 160 zeros, OAI with 480000. The content frames
 * (n/160 of them) are identical either way, because no content frame's window reaches the reflect
 * padding; the one frame after them is what faster-whisper's language detection also sees. Windows
 * are padded with 0.0 in the normalised log-mel domain (OAI's and faster-whisper's pad_or_trim).
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "decode/codeswitch.h"
#include "decode/context.h"
#include "decode/repetition.h"
#include "model/ops.h"

uzw_params uzw_default_params(void) {
    uzw_params p = {0};
    p.language = "auto";
    p.task = UZW_TASK_TRANSCRIBE;
    p.condition_on_previous_text = 1;
    p.suppress_blank = 1;
    p.no_speech_threshold = 0.6f;
    p.logprob_threshold = -1.0f;
    p.max_initial_timestamp = 1.0f;
    p.beam_size = 5;
    p.patience = 1.0f;
    p.length_penalty = 1.0f;
    p.best_of = 5;
    p.compression_ratio_threshold = 2.4f;
    p.prompt_reset_on_temperature = 0.5f;
    p.cut_repetitions = 1;
    return p;
}

void uzw_ctx_fill_window(uzw_context *ctx, size_t start, size_t n, float pad) {
    int M = ctx->m->dims.n_mels;
    size_t W = 2 * (size_t)ctx->m->dims.n_audio_ctx;
    for (int r = 0; r < M; r++) {
        float *dst = ctx->st.mel_win + (size_t)r * W;
        const float *src = ctx->mel + (size_t)r * ctx->mel_frames;
        for (size_t t = 0; t < W; t++) {
            size_t f = start + t;
            dst[t] = (t < n && f < ctx->mel_frames) ? src[f] : pad;
        }
    }
}

static uzw_status compute_mel(uzw_context *ctx, const float *pcm, size_t n) {
    size_t frames = uzw_mel_n_frames(n + UZW_HOP);
    size_t M = (size_t)ctx->m->dims.n_mels;
    free(ctx->mel);
    ctx->mel = malloc(sizeof(float) * M * frames);
    if (!ctx->mel) return uzw_ctx_fail(ctx, UZW_ERR_NO_MEMORY, "out of memory for the log-mel of %.1f s of audio", n / 16000.0);
    ctx->mel_frames = frames;
    if (uzw_mel_compute(ctx->mel_plan, pcm, n, UZW_HOP, ctx->mel) != 0)
        return uzw_ctx_fail(ctx, UZW_ERR_AUDIO, "log-mel computation failed");
    return UZW_OK;
}

/* Build the prompt: [<|startofprev|> + context] + SOT sequence + <|notimestamps|>. */
static int build_prompt(const uzw_model *m, const int32_t *ctx_tokens, int n_ctx, int lang, uzw_task task,
                        int without_timestamps, int32_t *out) {
    int n = 0, max_ctx = m->dims.n_text_ctx / 2 - 1;
    if (n_ctx > 0) {
        if (n_ctx > max_ctx) { ctx_tokens += n_ctx - max_ctx; n_ctx = max_ctx; }
        out[n++] = m->sp.sot_prev;
        for (int i = 0; i < n_ctx; i++) out[n++] = ctx_tokens[i];
    }
    out[n++] = m->sp.sot;
    if (lang >= 0) {
        out[n++] = m->sp.first_lang + lang;
        out[n++] = task == UZW_TASK_TRANSLATE ? m->sp.translate : m->sp.transcribe;
    }
    if (without_timestamps) out[n++] = m->sp.no_timestamps;
    return n;
}

static uzw_status join_text(uzw_context *ctx) {
    size_t total = 1;
    for (int i = 0; i < ctx->n_seg; i++) total += strlen(ctx->seg[i].text);
    char *s = malloc(total);
    if (!s) return uzw_ctx_fail(ctx, UZW_ERR_NO_MEMORY, "out of memory");
    size_t len = 0;
    for (int i = 0; i < ctx->n_seg; i++) {
        size_t k = strlen(ctx->seg[i].text);
        memcpy(s + len, ctx->seg[i].text, k);
        len += k;
    }
    s[len] = 0;
    size_t a = 0;
    while (a < len && isspace((unsigned char)s[a])) a++;
    while (len > a && isspace((unsigned char)s[len - 1])) len--;
    memmove(s, s + a, len - a);
    s[len - a] = 0;
    ctx->full_text = s;
    return UZW_OK;
}

static uzw_status resolve_language(uzw_context *ctx, const uzw_params *p, uzw_langset *set, int *lang, int *detect) {
    const uzw_model *m = ctx->m;
    memset(set, 0, sizeof *set);
    const char *code = p->language && *p->language ? p->language : "auto";
    int multilingual = m->dims.n_vocab >= 51865;
    *detect = 0;
    *lang = -1;
    if (!multilingual) {
        if (strcmp(code, "auto") && strcmp(code, "en"))
            return uzw_ctx_fail(ctx, UZW_ERR_LANGUAGE, "this is an English-only model; language '%s' is not available", code);
        strcpy(ctx->language, "en");
        return UZW_OK;
    }
    char msg[256];
    if (uzw_langset_parse(m, p->languages, set, msg, sizeof msg) != 0) return uzw_ctx_fail(ctx, UZW_ERR_LANGUAGE, "%s", msg);
    if (!strcmp(code, "auto") && set->n == 1) { /* one allowed language: nothing to detect */
        *lang = set->idx[0];
        snprintf(ctx->language, sizeof ctx->language, "%s", m->lang_codes[*lang]);
        return UZW_OK;
    }
    if (!strcmp(code, "auto")) { *detect = 1; return UZW_OK; }
    *lang = uzw_model_language_index(m, code);
    if (*lang < 0) return uzw_ctx_fail(ctx, UZW_ERR_LANGUAGE, "unknown language '%s' (use a Whisper code such as uz, ru, en, or auto)", code);
    snprintf(ctx->language, sizeof ctx->language, "%s", m->lang_codes[*lang]);
    return UZW_OK;
}

/* The tokens kept so far (faster-whisper's all_tokens), growing as needed. */
typedef struct {
    int32_t *v;
    size_t n, cap;
} tokbuf;

static int tokbuf_add(tokbuf *b, const int32_t *t, size_t n) {
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->n + n) cap *= 2;
        int32_t *v = realloc(b->v, sizeof(int32_t) * cap);
        if (!v) return -1;
        b->v = v;
        b->cap = cap;
    }
    memcpy(b->v + b->n, t, sizeof(int32_t) * n);
    b->n += n;
    return 0;
}

/* OAI: the initial prompt is encoded as " " + text.strip() and starts the history. */
static uzw_status add_initial_prompt(uzw_context *ctx, const char *prompt, tokbuf *hist) {
    const char *s = prompt;
    while (isspace((unsigned char)*s)) s++;
    size_t len = strlen(s);
    while (len && isspace((unsigned char)s[len - 1])) len--;
    if (!len) return UZW_OK;
    char *text = malloc(len + 2);
    if (!text) return uzw_ctx_fail(ctx, UZW_ERR_NO_MEMORY, "out of memory");
    text[0] = ' ';
    memcpy(text + 1, s, len);
    text[len + 1] = 0;
    int k = uzw_tokenizer_encode(ctx->m->tok, text, len + 1, NULL, 0);
    int32_t *ids = k > 0 ? malloc(sizeof(int32_t) * (size_t)k) : NULL;
    uzw_status st = UZW_OK;
    if (k < 0) st = uzw_ctx_fail(ctx, UZW_ERR_INVALID_ARG, "initial prompt is not valid UTF-8");
    else if (k > 0 && (!ids || uzw_tokenizer_encode(ctx->m->tok, text, len + 1, ids, k) != k || tokbuf_add(hist, ids, (size_t)k) != 0))
        st = uzw_ctx_fail(ctx, UZW_ERR_NO_MEMORY, "out of memory");
    free(ids);
    free(text);
    return st;
}

static int blank_text(const char *t) {
    for (; *t; t++)
        if (!isspace((unsigned char)*t)) return 0;
    return 1;
}

/* faster-whisper's get_end: the end of the last word of the window, else the end of its last segment. */
static double words_end(const uzw_wt_segment *ws, int ns) {
    for (int i = ns - 1; i >= 0; i--)
        if (ws[i].n_words > 0) return ws[i].words[ws[i].n_words - 1].end;
    return ws[ns - 1].end;
}

/* Word timestamps of the window's segments (faster-whisper: add_word_timestamps over every split
 * segment, then seek to the end of the last word unless the window ended on a single timestamp). */
static uzw_status time_words(uzw_context *ctx, const uzw_window_result *wr, uzw_span *spans, int ns, size_t seek,
                             size_t seg, int lang, uzw_task task, uzw_wt_segment *ws, double *last_speech, size_t *next_seek) {
    const uzw_model *m = ctx->m;
    int32_t sot[3];
    int n_sot = 0;
    sot[n_sot++] = m->sp.sot;
    if (lang >= 0) {
        sot[n_sot++] = m->sp.first_lang + lang;
        sot[n_sot++] = task == UZW_TASK_TRANSLATE ? m->sp.translate : m->sp.transcribe;
    }
    for (int i = 0; i < ns; i++)
        ws[i] = (uzw_wt_segment){.tokens = wr->tokens + spans[i].first, .n_tokens = spans[i].count,
                                 .start = spans[i].start, .end = spans[i].end};
    uzw_wt_window win = {.sot_seq = sot, .n_sot = n_sot, .seek = seek, .num_frames = (int)seg, .language = ctx->language};
    double speech = *last_speech; /* add_word_timestamps' own copy; its result is not kept */
    char msg[512];
    if (uzw_add_word_timestamps(m, &ctx->st, &win, ws, ns, &speech, msg, sizeof msg) != 0)
        return uzw_ctx_fail(ctx, UZW_ERR_INTERNAL, "window at %.2f s: %s", seek / 100.0, msg);
    for (int i = 0; i < ns; i++) { spans[i].start = ws[i].start; spans[i].end = ws[i].end; }
    if (ns <= 0) return UZW_OK;
    const int TB = m->sp.timestamp_begin, n = wr->n_tokens;
    int single_ending = n >= 2 && wr->tokens[n - 2] < TB && wr->tokens[n - 1] >= TB;
    double end = words_end(ws, ns);
    if (!single_ending && end > seek * 0.01) *next_seek = (size_t)nearbyint(end * 100);
    *last_speech = end;
    return UZW_OK;
}

/* Keep the window's segments whose text is not blank and whose length is not zero. */
static uzw_status keep_segments(uzw_context *ctx, const uzw_params *p, const uzw_window_result *wr, size_t seek,
                                size_t seg, int lang, tokbuf *hist, double *last_speech, size_t *next_seek) {
    uzw_span spans[UZW_MAX_SPANS];
    uzw_wt_segment ws[UZW_MAX_SPANS] = {{0}};
    int ns = uzw_split_segments(ctx->m, wr->tokens, wr->n_tokens, seek, seg, spans, UZW_MAX_SPANS, next_seek);
    uzw_status st = UZW_OK;
    if (p->word_timestamps &&
        (st = time_words(ctx, wr, spans, ns, seek, seg, lang, p->task, ws, last_speech, next_seek)) != UZW_OK)
        return st;
    for (int i = 0; i < ns && st == UZW_OK; i++) {
        const int32_t *t = wr->tokens + spans[i].first;
        char *text = uzw_tokenizer_decode(ctx->m->tok, t, spans[i].count);
        if (!text) { st = uzw_ctx_fail(ctx, UZW_ERR_NO_MEMORY, "out of memory"); break; }
        int skip = spans[i].start == spans[i].end || blank_text(text);
        free(text);
        if (skip) continue;
        if (tokbuf_add(hist, t, (size_t)spans[i].count) != 0 ||
            uzw_ctx_add_segment(ctx, t, spans[i].count, spans[i].start, spans[i].end, wr) != 0) {
            st = uzw_ctx_fail(ctx, UZW_ERR_NO_MEMORY, "out of memory");
            break;
        }
        uzw_ctx_set_words(ctx, ws[i].words, ws[i].n_words);
        ws[i].words = NULL;
    }
    for (int i = 0; i < ns; i++) uzw_words_free(ws[i].words, ws[i].n_words);
    if (*next_seek <= seek) *next_seek = seek + seg; /* never loop on one window */
    return st;
}

static uzw_status check_params(uzw_context *ctx, const uzw_params *p) {
    if (p->beam_size < 0 || p->beam_size > UZW_MAX_SEQ || p->best_of < 0 || p->best_of > UZW_MAX_SEQ)
        return uzw_ctx_fail(ctx, UZW_ERR_INVALID_ARG, "beam_size and best_of must be 1..%d", UZW_MAX_SEQ);
    if (p->patience < 0 || p->patience > 8)
        return uzw_ctx_fail(ctx, UZW_ERR_INVALID_ARG, "patience %.2f is outside 0..8", p->patience);
    if (!(p->length_penalty >= 0 && p->length_penalty <= 4))
        return uzw_ctx_fail(ctx, UZW_ERR_INVALID_ARG, "length_penalty %.2f is outside 0..4", p->length_penalty);
    if (p->n_temperatures < 0 || p->n_temperatures > 32 || (p->n_temperatures > 0 && !p->temperatures))
        return uzw_ctx_fail(ctx, UZW_ERR_INVALID_ARG, "bad temperature schedule");
    for (int i = 0; i < p->n_temperatures; i++)
        if (!(p->temperatures[i] >= 0 && p->temperatures[i] <= 10))
            return uzw_ctx_fail(ctx, UZW_ERR_INVALID_ARG, "temperature %g is outside 0..10", p->temperatures[i]);
    return UZW_OK;
}

static uzw_status transcribe_core(uzw_context *ctx, const float *pcm, size_t n, const uzw_params *params);

uzw_status uzw_transcribe_pcm(uzw_context *ctx, const float *pcm, size_t n, const uzw_params *params) {
    if (!ctx) return UZW_ERR_INVALID_ARG;
    ctx->err[0] = 0;
    uzw_params p = params ? *params : uzw_default_params();
    if (!pcm || n == 0) return uzw_ctx_fail(ctx, UZW_ERR_AUDIO, "no audio samples given");
    if (n < (size_t)(UZW_SAMPLE_RATE / 10)) return uzw_ctx_fail(ctx, UZW_ERR_AUDIO, "audio too short: %zu samples (%.3f s); at least 0.1 s is needed", n, n / 16000.0);
    for (size_t i = 0; i < n; i++)
        if (!isfinite(pcm[i])) return uzw_ctx_fail(ctx, UZW_ERR_AUDIO, "audio sample %zu is not a finite number", i);
    return p.vad_filter ? uzw_transcribe_speech_only(ctx, pcm, n, &p, transcribe_core) : transcribe_core(ctx, pcm, n, &p);
}

static uzw_status transcribe_core(uzw_context *ctx, const float *pcm, size_t n, const uzw_params *params) {
    uzw_params p = *params;
    const uzw_model *m = ctx->m;
    uzw_ctx_clear_results(ctx);
    memset(&ctx->tm, 0, sizeof ctx->tm);
    ctx->duration = n / (double)UZW_SAMPLE_RATE;
    uzw_status st = check_params(ctx, &p);
    if (st != UZW_OK) return st;
    int n_seq = p.beam_size > p.best_of ? p.beam_size : p.best_of;
    if ((st = uzw_ctx_reserve_sequences(ctx, n_seq > 1 ? n_seq : 1)) != UZW_OK) return st;
    if ((st = uzw_ctx_use_adapters(ctx, &p)) != UZW_OK) return st;
    uzw_ops_set_threads(p.n_threads);

    int lang, detect;
    uzw_langset set;
    if ((st = resolve_language(ctx, &p, &set, &lang, &detect)) != UZW_OK) return st;
    int cs = p.code_switch && detect && set.n >= 2; /* language per window, segment and word */
    if (cs) p.word_timestamps = 1;
    float win_probs[UZW_MAX_LANGUAGES];
    double t_start = uzw_now_ms();
    uzw_vad_region *speech = NULL;
    int n_speech = cs ? uzw_cs_speech_regions(pcm, n, &speech) : 0;
    if (n_speech < 0) { free(speech); return uzw_ctx_fail(ctx, UZW_ERR_NO_MEMORY, "out of memory"); }

    double t0 = uzw_now_ms();
    if ((st = compute_mel(ctx, pcm, n)) != UZW_OK) { free(speech); return st; }
    ctx->tm.mel_ms = uzw_now_ms() - t0;
    size_t content = ctx->mel_frames - 1; /* = n / 160 */

    int T = m->dims.n_text_ctx;
    tokbuf hist = {0};
    size_t reset_since = 0;
    double last_speech = 0.0; /* end of the last word so far (word timestamps) */
    uint64_t rng = p.seed ? p.seed : 0x5DEECE66Dull;
    int32_t *prompt = malloc(sizeof(int32_t) * (size_t)T);
    uzw_window_result wr = {.tokens = malloc(sizeof(int32_t) * (size_t)T)};
    if (!prompt || !wr.tokens) { st = uzw_ctx_fail(ctx, UZW_ERR_NO_MEMORY, "out of memory"); goto done; }
    if (p.initial_prompt && *p.initial_prompt && (st = add_initial_prompt(ctx, p.initial_prompt, &hist)) != UZW_OK) goto done;

    for (size_t seek = 0; seek < content;) {
        if (p.cancel && p.cancel(p.cancel_user)) {
            st = uzw_ctx_fail(ctx, UZW_ERR_CANCELLED, "cancelled at %.2f s", seek / 100.0);
            goto done;
        }
        size_t seg = content - seek < UZW_CHUNK_FRAMES ? content - seek : UZW_CHUNK_FRAMES;
        double te = uzw_now_ms();
        if (detect && seek == 0) {
            /* faster-whisper detects on pad_or_trim(mel[:, :3000]) of the whole mel, i.e. the
             * content frames plus the one after them */
            uzw_ctx_fill_window(ctx, 0, ctx->mel_frames < UZW_CHUNK_FRAMES ? ctx->mel_frames : UZW_CHUNK_FRAMES, 0.0f);
            if (uzw_encode(m, &ctx->st) != 0) { st = uzw_ctx_fail(ctx, UZW_ERR_DEVICE, "%s", ctx->st.gpu_err); goto done; }
            ctx->tm.encoder_ms += uzw_now_ms() - te;
            double tl = uzw_now_ms();
            lang = uzw_detect_language_in(ctx, &set);
            ctx->tm.language_ms += uzw_now_ms() - tl;
            if (lang < 0) { st = uzw_ctx_fail(ctx, UZW_ERR_INTERNAL, "language detection failed"); goto done; }
            for (int j = 0; j < set.n; j++)
                for (int i = 0; i < ctx->n_lang_probs; i++)
                    if (!strcmp(ctx->lang_probs[i].code, m->lang_codes[set.idx[j]])) win_probs[j] = ctx->lang_probs[i].p;
            snprintf(ctx->language, sizeof ctx->language, "%s", m->lang_codes[lang]);
            ctx->lang_detected = 1;
            uzw_logf(p.log, p.log_user, UZW_LOG_INFO, "detected language '%s' (p = %.3f)", ctx->language, ctx->lang_probs[0].p);
            te = uzw_now_ms();
        }
        /* a window of 3000 content frames at 0 is exactly what detection encoded: reuse it */
        if (!(detect && seek == 0 && seg == UZW_CHUNK_FRAMES)) {
            uzw_ctx_fill_window(ctx, seek, seg, 0.0f);
            if (uzw_encode(m, &ctx->st) != 0) { st = uzw_ctx_fail(ctx, UZW_ERR_DEVICE, "%s", ctx->st.gpu_err); goto done; }
            ctx->tm.encoder_ms += uzw_now_ms() - te;
            if (cs && seek > 0) { /* code-switching: every window gets its own language */
                double tl = uzw_now_ms();
                float full[UZW_MAX_LANGUAGES];
                if (uzw_language_probs(ctx, full) < 0) { st = uzw_ctx_fail(ctx, UZW_ERR_INTERNAL, "language detection failed"); goto done; }
                lang = set.idx[uzw_langset_restrict(&set, m->sp.n_languages, full, win_probs)];
                ctx->tm.language_ms += uzw_now_ms() - tl;
                uzw_logf(p.log, p.log_user, UZW_LOG_DEBUG, "window %.2f s: language '%s'", seek / 100.0, m->lang_codes[lang]);
            }
        }

        size_t n_prev = hist.n - reset_since;
        if (n_prev > (size_t)T) n_prev = (size_t)T; /* build_prompt keeps the last n_text_ctx/2 - 1 */
        int np = build_prompt(m, hist.v + hist.n - n_prev, (int)n_prev, lang, p.task, p.without_timestamps, prompt);
        double td = uzw_now_ms();
        if (uzw_decode_with_fallback(m, &ctx->st, prompt, np, &p, &rng, &wr) != 0) {
            st = uzw_ctx_fail(ctx, UZW_ERR_INTERNAL, "decoder failed in the window at %.2f s", seek / 100.0);
            goto done;
        }
        ctx->tm.decoder_ms += uzw_now_ms() - td;
        if (ctx->tm.n_windows == 0) ctx->tm.first_token_ms = wr.t_first_token_ms - t_start;
        ctx->tm.n_decoder_steps += wr.n_steps;
        ctx->tm.n_windows++;
        uzw_logf(p.log, p.log_user, UZW_LOG_DEBUG,
                 "window %.2f-%.2f s: %d tokens, T=%.1f (%d attempts), avg logprob %.3f, no-speech %.3f, ratio %.2f",
                 seek / 100.0, (seek + seg) / 100.0, wr.n_tokens, wr.temperature, wr.n_attempts, wr.avg_logprob,
                 wr.no_speech_prob, wr.compression_ratio);
        /* silence: a confident no-speech token and an unconfident transcript (OAI / faster-whisper) */
        if (wr.no_speech_prob > p.no_speech_threshold && !(wr.avg_logprob > p.logprob_threshold)) {
            uzw_logf(p.log, p.log_user, UZW_LOG_INFO, "window %.2f-%.2f s skipped as silence (no-speech %.3f)",
                     seek / 100.0, (seek + seg) / 100.0, wr.no_speech_prob);
            seek += seg;
            continue;
        }
        /* a loop the fallback could not avoid: keep its first occurrence only */
        if (p.cut_repetitions && wr.compression_ratio > p.compression_ratio_threshold) {
            int keep = uzw_repetition_cut(wr.tokens, wr.n_tokens, m->sp.eot);
            if (keep < wr.n_tokens)
                uzw_logf(p.log, p.log_user, UZW_LOG_INFO, "window %.2f s: repetition loop cut (%d of %d tokens kept)",
                         seek / 100.0, keep, wr.n_tokens);
            wr.n_tokens = keep;
        }
        double tk = uzw_now_ms();
        size_t next_seek;
        int first_seg = ctx->n_seg;
        if ((st = keep_segments(ctx, &p, &wr, seek, seg, lang, &hist, &last_speech, &next_seek)) != UZW_OK) goto done;
        ctx->tm.detok_ms += uzw_now_ms() - tk;
        if (cs) {
            uzw_cs_window w = {.set = &set, .win_probs = win_probs, .win_lang = lang, .seek = seek, .seg_frames = seg,
                               .content_frames = content, .next_seek = next_seek, .speech = speech,
                               .n_speech = n_speech};
            if ((st = uzw_cs_label_window(ctx, &p, &w, first_seg, &rng)) != UZW_OK) goto done;
        }
        if (!p.condition_on_previous_text || wr.temperature > p.prompt_reset_on_temperature) reset_since = hist.n;
        seek = next_seek;
    }
    if (cs && (st = uzw_cs_find_switches(ctx)) != UZW_OK) goto done;
    if ((st = uzw_apply_uz_script(ctx, p.uz_script)) != UZW_OK) goto done;
    st = join_text(ctx);
done:
    free(speech);
    free(hist.v);
    free(prompt);
    free(wr.tokens);
    return st;
}
