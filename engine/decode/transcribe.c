/*
 * transcribe.c - the 30 s window loop (OAI / faster-whisper transcribe() without timestamps): the
 * log-mel of the whole input plus one hop of zeros (one global max for the dynamic-range clamp),
 * language detection on the first window, then greedy decoding window after window, each
 * conditioned on the text so far (<|startofprev|> + the last n_text_ctx/2 - 1 tokens).
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
#include "decode/context.h"
#include "model/ops.h"

uzw_params uzw_default_params(void) {
    uzw_params p = {0};
    p.language = "auto";
    p.task = UZW_TASK_TRANSCRIBE;
    p.condition_on_previous_text = 1;
    p.suppress_blank = 1;
    p.no_speech_threshold = 0.6f;
    p.logprob_threshold = -1.0f;
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
                        int32_t *out) {
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
    out[n++] = m->sp.no_timestamps;
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

static uzw_status resolve_language(uzw_context *ctx, const uzw_params *p, int *lang, int *detect) {
    const uzw_model *m = ctx->m;
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
    if (!strcmp(code, "auto")) { *detect = 1; return UZW_OK; }
    *lang = uzw_model_language_index(m, code);
    if (*lang < 0) return uzw_ctx_fail(ctx, UZW_ERR_LANGUAGE, "unknown language '%s' (use a Whisper code such as uz, ru, en, or auto)", code);
    snprintf(ctx->language, sizeof ctx->language, "%s", m->lang_codes[*lang]);
    return UZW_OK;
}

uzw_status uzw_transcribe_pcm(uzw_context *ctx, const float *pcm, size_t n, const uzw_params *params) {
    if (!ctx) return UZW_ERR_INVALID_ARG;
    ctx->err[0] = 0;
    uzw_params p = params ? *params : uzw_default_params();
    if (!pcm || n == 0) return uzw_ctx_fail(ctx, UZW_ERR_AUDIO, "no audio samples given");
    if (n < (size_t)(UZW_SAMPLE_RATE / 10)) return uzw_ctx_fail(ctx, UZW_ERR_AUDIO, "audio too short: %zu samples (%.3f s); at least 0.1 s is needed", n, n / 16000.0);
    for (size_t i = 0; i < n; i++)
        if (!isfinite(pcm[i])) return uzw_ctx_fail(ctx, UZW_ERR_AUDIO, "audio sample %zu is not a finite number", i);
    const uzw_model *m = ctx->m;
    uzw_ctx_clear_results(ctx);
    memset(&ctx->tm, 0, sizeof ctx->tm);
    ctx->duration = n / (double)UZW_SAMPLE_RATE;
    uzw_ops_set_threads(p.n_threads);

    int lang, detect;
    uzw_status st = resolve_language(ctx, &p, &lang, &detect);
    if (st != UZW_OK) return st;

    double t0 = uzw_now_ms();
    if ((st = compute_mel(ctx, pcm, n)) != UZW_OK) return st;
    ctx->tm.mel_ms = uzw_now_ms() - t0;
    size_t content = ctx->mel_frames - 1; /* = n / 160 */

    int T = m->dims.n_text_ctx;
    int max_sample = p.max_tokens_per_window > 0 ? p.max_tokens_per_window : T / 2;
    int32_t *history = malloc(sizeof(int32_t) * (size_t)T * 2);
    int32_t *prompt = malloc(sizeof(int32_t) * (size_t)T);
    int32_t *tokens = malloc(sizeof(int32_t) * (size_t)T);
    if (!history || !prompt || !tokens) { st = uzw_ctx_fail(ctx, UZW_ERR_NO_MEMORY, "out of memory"); goto done; }
    int n_hist = 0;
    if (p.initial_prompt && *p.initial_prompt) {
        /* OAI: " " + text.strip() */
        const char *s = p.initial_prompt;
        while (isspace((unsigned char)*s)) s++;
        size_t len = strlen(s);
        while (len && isspace((unsigned char)s[len - 1])) len--;
        char *text = malloc(len + 2);
        if (!text) { st = uzw_ctx_fail(ctx, UZW_ERR_NO_MEMORY, "out of memory"); goto done; }
        text[0] = ' ';
        memcpy(text + 1, s, len);
        text[len + 1] = 0;
        int k = uzw_tokenizer_encode(m->tok, text, len + 1, NULL, 0);
        int32_t *all = k > 0 ? malloc(sizeof(int32_t) * (size_t)k) : NULL;
        if (k > 0 && all) uzw_tokenizer_encode(m->tok, text, len + 1, all, k);
        free(text);
        if (k < 0) { st = uzw_ctx_fail(ctx, UZW_ERR_INVALID_ARG, "initial prompt is not valid UTF-8"); goto done; }
        if (k > 0 && !all) { st = uzw_ctx_fail(ctx, UZW_ERR_NO_MEMORY, "out of memory"); goto done; }
        n_hist = k < T ? k : T; /* only the last n_text_ctx/2 - 1 are ever used */
        if (n_hist) memcpy(history, all + (k - n_hist), sizeof(int32_t) * (size_t)n_hist);
        free(all);
    }

    for (size_t seek = 0; seek < content;) {
        size_t seg = content - seek < UZW_CHUNK_FRAMES ? content - seek : UZW_CHUNK_FRAMES;
        double te = uzw_now_ms();
        if (detect && seek == 0) {
            /* faster-whisper detects on pad_or_trim(mel[:, :3000]) of the whole mel, i.e. the
             * content frames plus the one after them */
            uzw_ctx_fill_window(ctx, 0, ctx->mel_frames < UZW_CHUNK_FRAMES ? ctx->mel_frames : UZW_CHUNK_FRAMES, 0.0f);
            uzw_encode(m, &ctx->st);
            ctx->tm.encoder_ms += uzw_now_ms() - te;
            double tl = uzw_now_ms();
            lang = uzw_detect_language(ctx);
            ctx->tm.language_ms += uzw_now_ms() - tl;
            if (lang < 0) { st = uzw_ctx_fail(ctx, UZW_ERR_INTERNAL, "language detection failed"); goto done; }
            snprintf(ctx->language, sizeof ctx->language, "%s", m->lang_codes[lang]);
            ctx->lang_detected = 1;
            uzw_logf(p.log, p.log_user, UZW_LOG_INFO, "detected language '%s' (p = %.3f)", ctx->language, ctx->lang_probs[0].p);
            te = uzw_now_ms();
        }
        /* a window of 3000 content frames at 0 is exactly what detection encoded: reuse it */
        if (!(detect && seek == 0 && seg == UZW_CHUNK_FRAMES)) {
            uzw_ctx_fill_window(ctx, seek, seg, 0.0f);
            uzw_encode(m, &ctx->st);
            ctx->tm.encoder_ms += uzw_now_ms() - te;
        }

        int use_hist = p.condition_on_previous_text || seek == 0;
        int np = build_prompt(m, history, use_hist ? n_hist : 0, lang, p.task, prompt);
        uzw_window_stats ws;
        double td = uzw_now_ms();
        int nt = uzw_greedy_window(ctx, prompt, np, max_sample, p.suppress_blank, tokens, &ws);
        ctx->tm.decoder_ms += uzw_now_ms() - td;
        if (nt < 0) { st = uzw_ctx_fail(ctx, UZW_ERR_INTERNAL, "decoder failed in the window at %.2f s", seek / 100.0); goto done; }
        ctx->tm.n_windows++;
        uzw_logf(p.log, p.log_user, UZW_LOG_DEBUG, "window %.2f-%.2f s: %d tokens, avg logprob %.3f, no-speech %.3f",
                 seek / 100.0, (seek + seg) / 100.0, nt, ws.avg_logprob, ws.no_speech_prob);
        /* silence: a confident no-speech token and an unconfident transcript (OAI / faster-whisper) */
        if (ws.no_speech_prob > p.no_speech_threshold && !(ws.avg_logprob > p.logprob_threshold)) {
            uzw_logf(p.log, p.log_user, UZW_LOG_INFO, "window %.2f-%.2f s skipped as silence (no-speech %.3f)",
                     seek / 100.0, (seek + seg) / 100.0, ws.no_speech_prob);
            seek += seg;
            continue;
        }

        /* history keeps the last T sampled tokens, enough for any prompt */
        for (int i = 0; i < nt; i++) {
            if (n_hist == 2 * T) { memmove(history, history + T, sizeof(int32_t) * (size_t)T); n_hist = T; }
            history[n_hist++] = tokens[i];
        }
        double tk = uzw_now_ms();
        int n_text = 0;
        for (int i = 0; i < nt; i++)
            if (tokens[i] < m->sp.eot) tokens[n_text++] = tokens[i]; /* text tokens only */
        if (uzw_ctx_add_segment(ctx, tokens, n_text, seek / 100.0, (seek + seg) / 100.0, &ws) != 0) {
            st = uzw_ctx_fail(ctx, UZW_ERR_NO_MEMORY, "out of memory");
            goto done;
        }
        ctx->tm.detok_ms += uzw_now_ms() - tk;
        seek += seg;
    }
    st = join_text(ctx);
done:
    free(history);
    free(prompt);
    free(tokens);
    return st;
}
