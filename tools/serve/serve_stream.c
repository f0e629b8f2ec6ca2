/* serve_stream.c - one live stream of `uzwhisper serve` (serve_stream.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "serve_stream.h"
#include "core/util.h" /* uzw_now_ms */

#define SR 16000

static int grow(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return 0;
    size_t c = *cap ? *cap : 1024;
    while (c < need) c *= 2;
    void *n = realloc(*p, c * elem);
    if (!n) return -1;
    *p = n;
    *cap = c;
    return 0;
}

static int send_line(uzs_stream_conn *c, char *line, size_t len) {
    if (c->gone) { free(line); return -1; }
    if (c->send(c->send_user, line, len) != 0) c->gone = 1;
    return c->gone ? -1 : 0;
}

void uzs_stream_conn_init(uzs_stream_conn *c, uzs_server *s, const char *session, uzs_send_fn send, void *send_user) {
    memset(c, 0, sizeof *c);
    c->server = s;
    snprintf(c->session, sizeof c->session, "%s", session);
    c->send = send;
    c->send_user = send_user;
    c->endpoint = "tcp";
}

void uzs_stream_conn_free(uzs_stream_conn *c) {
    const uzs_server_config *cfg = uzs_server_config_of(c->server);
    if (cfg->metrics && c->have_hello)
        uzs_server_metrics_request(cfg->metrics, c->endpoint, c->ended ? "ok" : "error", uzw_now_s() - c->t_ready);
    uzw_stream_free(c->st);
    uzw_context_free(c->ctx);
    if (c->src) src_delete(c->src);
    free(c->mono);
    free(c->pend);
    free(c->last_interim);
    free(c->arr);
    free(c->lat);
    memset(c, 0, sizeof *c);
}

void uzs_stream_conn_fail(uzs_stream_conn *c, uzs_error_code code, const char *message) {
    if (c->ended || c->gone) return;
    double got = c->have_hello ? (double)c->received / c->hello.sample_rate : -1;
    double done = (double)c->pushed / SR;
    size_t len;
    char *line = uzs_msg_error(code, message, 1, c->have_hello ? done : -1, got, &len);
    send_line(c, line, len);
    c->ended = 1;
    const uzs_server_config *cfg = uzs_server_config_of(c->server);
    if (cfg->metrics && !c->have_hello) uzs_server_metrics_request(cfg->metrics, c->endpoint, uzs_error_code_name(code), -1);
}

/* ---------------------------------------------------------------- HELLO */

static int accept_hello(uzs_stream_conn *c, const uzs_frame *f) {
    const uzs_server_config *cfg = uzs_server_config_of(c->server);
    char err[512];
    if (uzs_hello_parse(f->payload, f->len, &c->hello, err, sizeof err) != 0) {
        uzs_stream_conn_fail(c, UZS_ERR_BAD_HELLO, err);
        return -1;
    }
    uzs_auth_result ar;
    uzs_auth_status as = c->pre_auth ? UZS_AUTH_OK : uzs_auth_check(cfg->auth, c->hello.api_key, time(NULL), &ar);
    uzs_hello_forget_key(&c->hello);
    if (as != UZS_AUTH_OK) {
        if (cfg->metrics) uzs_metric_add(cfg->metrics->auth_failures, (const char *[]){uzs_auth_status_name(as)}, 1);
        uzs_stream_conn_fail(c, as == UZS_AUTH_INTERNAL ? UZS_ERR_INTERNAL : UZS_ERR_UNAUTHORIZED, ar.message);
        return -1; /* nothing is processed */
    }
    if (uzs_server_stopping(c->server)) {
        uzs_stream_conn_fail(c, UZS_ERR_SHUTTING_DOWN, "the server is stopping");
        return -1;
    }
    if (c->hello.adapter[0]) {
        c->adapter = cfg->find_adapter ? cfg->find_adapter(cfg->adapter_user, c->hello.adapter) : NULL;
        if (!c->adapter) {
            snprintf(err, sizeof err, "this server has no adapter named '%.64s'", c->hello.adapter);
            uzs_stream_conn_fail(c, UZS_ERR_UNSUPPORTED, err);
            return -1;
        }
    }
    snprintf(c->languages, sizeof c->languages, "%s", c->hello.languages[0] ? c->hello.languages : cfg->default_languages);
    snprintf(c->hello.languages, sizeof c->hello.languages, "%s", c->languages);
    if (uzw_context_create(cfg->model, &c->ctx) != UZW_OK) {
        uzs_stream_conn_fail(c, UZS_ERR_INTERNAL, "out of memory for a decoding context");
        return -1;
    }
    if (cfg->device && strcmp(cfg->device, "cpu") != 0 && uzw_context_set_device(c->ctx, cfg->device) != UZW_OK) {
        uzs_stream_conn_fail(c, UZS_ERR_INTERNAL, uzw_last_error(c->ctx));
        return -1;
    }
    uzw_params p = uzw_default_params();
    p.language = strcmp(c->hello.language, "auto") == 0 ? NULL : c->hello.language;
    p.languages = c->languages;
    p.code_switch = strchr(c->languages, ',') != NULL;
    p.task = c->hello.task == UZS_TASK_TRANSLATE ? UZW_TASK_TRANSLATE : UZW_TASK_TRANSCRIBE;
    p.uz_script = c->hello.uz_script == UZS_SCRIPT_LATIN      ? UZW_UZ_SCRIPT_LATIN
                  : c->hello.uz_script == UZS_SCRIPT_CYRILLIC ? UZW_UZ_SCRIPT_CYRILLIC
                                                              : UZW_UZ_SCRIPT_AS_DECODED;
    p.beam_size = cfg->beam_size;
    p.max_tokens_per_window = cfg->max_tokens;
    p.n_threads = cfg->threads_per_pass;
    p.adapters = c->adapter ? &c->adapter : NULL;
    p.n_adapters = c->adapter ? 1 : 0;
    uzw_stream_params sp = uzw_stream_default_params();
    sp.step_s = cfg->step_s;
    if (uzw_stream_begin(c->ctx, &p, &sp, &c->st) != UZW_OK) {
        uzs_stream_conn_fail(c, UZS_ERR_UNSUPPORTED, uzw_last_error(c->ctx));
        return -1;
    }
    if (c->hello.sample_rate != SR) {
        int e;
        c->src = src_new(SRC_SINC_MEDIUM_QUALITY, 1, &e);
        if (!c->src) {
            uzs_stream_conn_fail(c, UZS_ERR_INTERNAL, src_strerror(e));
            return -1;
        }
    }
    c->have_hello = 1;
    c->t_ready = uzw_now_s();
    uzs_ready r = {c->session, &c->hello, cfg->model_type, cfg->max_audio_s, cfg->idle_timeout_s, cfg->max_session_s};
    size_t len;
    char *line = uzs_msg_ready(&r, &len);
    return send_line(c, line, len);
}

/* ---------------------------------------------------------------- results */

static double arrival_wall(const uzs_stream_conn *c, double t) {
    for (size_t i = 0; i < c->n_arr; i++)
        if (c->arr[i].t >= t) return c->arr[i].wall;
    return c->n_arr ? c->arr[c->n_arr - 1].wall : uzw_now_s();
}

static int emit(uzs_stream_conn *c) {
    int n = uzw_stream_n_words(c->st);
    if (n > c->sent_words) {
        int k = n - c->sent_words;
        uzs_word *w = calloc((size_t)k, sizeof *w);
        uzs_switch *sw = calloc((size_t)k, sizeof *sw);
        size_t tl = 1;
        for (int i = c->sent_words; i < n; i++) tl += strlen(uzw_stream_word_text(c->st, i));
        char *text = malloc(tl);
        if (!w || !sw || !text) {
            free(w), free(sw), free(text);
            uzs_stream_conn_fail(c, UZS_ERR_INTERNAL, "out of memory");
            return -1;
        }
        size_t o = 0;
        int nsw = 0;
        double t_now = uzw_now_s();
        /* the engine's word records may move as it appends more: only this call's pointers are used */
        const char *prev = c->last_lang[0] ? c->last_lang : NULL;
        for (int i = 0; i < k; i++) {
            int j = c->sent_words + i;
            w[i] = (uzs_word){uzw_stream_word_text(c->st, j), uzw_stream_word_start(c->st, j), uzw_stream_word_end(c->st, j),
                              uzw_stream_word_prob(c->st, j), uzw_stream_word_language(c->st, j)};
            o += (size_t)snprintf(text + o, tl - o, "%s", w[i].word);
            const char *lang = w[i].language && w[i].language[0] ? w[i].language : NULL;
            if (lang && prev && strcmp(lang, prev) != 0) sw[nsw++] = (uzs_switch){w[i].start, prev, lang};
            if (lang) prev = lang;
            /* out of memory: this word's latency is left out of the statistics, nothing else */
            if (grow((void **)&c->lat, &c->cap_lat, c->n_lat + 1, sizeof *c->lat) == 0)
                c->lat[c->n_lat++] = t_now - arrival_wall(c, w[i].end);
        }
        /* the final's language: its first word's, with the mean probability of the words that carry it */
        double lp = 0;
        int nlp = 0;
        for (int i = 0; i < k; i++)
            if (w[0].language && w[i].language && !strcmp(w[i].language, w[0].language)) {
                float p = uzw_stream_word_language_prob(c->st, c->sent_words + i);
                if (isfinite(p)) lp += p, nlp++;
            }
        uzs_final fm = {c->seq++, text, w[0].start, w[k - 1].end, w[0].language, nlp ? (float)(lp / nlp) : NAN, w,
                        c->hello.word_timestamps ? k : 0, sw, nsw};
        if (fm.end < fm.start) fm.end = fm.start;
        size_t len;
        char *line = uzs_msg_final(&fm, &len);
        if (prev && prev != c->last_lang) snprintf(c->last_lang, sizeof c->last_lang, "%s", prev);
        free(w), free(sw), free(text);
        c->sent_words = n;
        if (send_line(c, line, len) != 0) return -1;
    }
    const char *it = uzw_stream_interim(c->st);
    if (c->hello.interim && (!c->last_interim || strcmp(it, c->last_interim) != 0) && it[0]) {
        free(c->last_interim);
        c->last_interim = strdup(it);
        double end = (double)c->pushed / SR;
        double start = n ? uzw_stream_word_end(c->st, n - 1) : 0;
        uzs_interim im = {"", it, start < end ? start : end, end, n ? uzw_stream_word_language(c->st, n - 1) : NULL};
        size_t len;
        char *line = uzs_msg_interim(&im, &len);
        if (send_line(c, line, len) != 0) return -1;
    }
    return 0;
}

/* Push 16 kHz samples into the engine, step by step, each step inside a pass slot. */
static int push(uzs_stream_conn *c, int flush) {
    const uzs_server_config *cfg = uzs_server_config_of(c->server);
    size_t step = (size_t)(cfg->step_s * SR);
    size_t off = 0;
    while (c->n_pend - off >= step || (flush && c->n_pend > off)) {
        size_t k = c->n_pend - off < step ? c->n_pend - off : step;
        double t0 = uzw_now_s();
        uzs_slot_acquire(c->server);
        uzw_status st = uzw_stream_push(c->st, c->pend + off, k);
        uzs_slot_release(c->server);
        c->compute_s += uzw_now_s() - t0;
        if (st != UZW_OK) {
            uzs_stream_conn_fail(c, UZS_ERR_INTERNAL, uzw_last_error(c->ctx));
            return -1;
        }
        off += k;
        c->pushed += k;
        if (emit(c) != 0) return -1;
    }
    if (off) {
        memmove(c->pend, c->pend + off, sizeof(float) * (c->n_pend - off));
        c->n_pend -= off;
    }
    return 0;
}

static int audio(uzs_stream_conn *c, const uzs_frame *f) {
    const uzs_server_config *cfg = uzs_server_config_of(c->server);
    char err[256];
    size_t frames = f->len / c->hello.frame_bytes;
    if ((double)(c->received + frames) / c->hello.sample_rate > cfg->max_audio_s) {
        uzs_stream_conn_fail(c, UZS_ERR_TOO_LARGE, "the stream is longer than the server allows (max audio seconds)");
        return -1;
    }
    if (grow((void **)&c->mono, &c->mono_cap, frames + 1, sizeof(float)) != 0) {
        uzs_stream_conn_fail(c, UZS_ERR_INTERNAL, "out of memory");
        return -1;
    }
    long n = uzs_pcm_to_mono(c->hello.format, c->hello.channels, f->payload, f->len, c->mono, err, sizeof err);
    if (n < 0) {
        uzs_stream_conn_fail(c, UZS_ERR_BAD_AUDIO, err);
        return -1;
    }
    c->received += (uint64_t)n;
    size_t out_max = c->src ? (size_t)((double)n * SR / c->hello.sample_rate) + 64 : (size_t)n;
    if (grow((void **)&c->pend, &c->cap_pend, c->n_pend + out_max + 1, sizeof(float)) != 0) {
        uzs_stream_conn_fail(c, UZS_ERR_INTERNAL, "out of memory");
        return -1;
    }
    if (!c->src) {
        memcpy(c->pend + c->n_pend, c->mono, sizeof(float) * (size_t)n);
        c->n_pend += (size_t)n;
    } else {
        SRC_DATA sd = {.data_in = c->mono, .input_frames = n, .data_out = c->pend + c->n_pend,
                       .output_frames = (long)out_max, .src_ratio = (double)SR / c->hello.sample_rate, .end_of_input = 0};
        int e = src_process(c->src, &sd);
        if (e) {
            uzs_stream_conn_fail(c, UZS_ERR_INTERNAL, src_strerror(e));
            return -1;
        }
        c->n_pend += (size_t)sd.output_frames_gen;
    }
    if (grow((void **)&c->arr, &c->cap_arr, c->n_arr + 1, sizeof *c->arr) != 0) {
        uzs_stream_conn_fail(c, UZS_ERR_INTERNAL, "out of memory");
        return -1;
    }
    c->arr[c->n_arr].t = (double)c->received / c->hello.sample_rate;
    c->arr[c->n_arr++].wall = uzw_now_s();
    return push(c, 0);
}

static int finish(uzs_stream_conn *c) {
    if (push(c, 1) != 0) return -1;
    double t0 = uzw_now_s();
    uzs_slot_acquire(c->server);
    uzw_status st = uzw_stream_end(c->st);
    uzs_slot_release(c->server);
    c->compute_s += uzw_now_s() - t0;
    if (st != UZW_OK) {
        uzs_stream_conn_fail(c, UZS_ERR_INTERNAL, uzw_last_error(c->ctx));
        return -1;
    }
    if (emit(c) != 0) return -1;
    double audio_s = (double)c->received / c->hello.sample_rate;
    uzw_sort_f64(c->lat, c->n_lat);
    uzs_end e = {audio_s, audio_s, 0, c->seq, uzw_now_s() - c->t_ready, c->compute_s,
                 c->n_lat ? c->lat[c->n_lat / 2] : NAN, c->n_lat ? c->lat[(size_t)(0.95 * (double)(c->n_lat - 1))] : NAN};
    const uzs_server_config *cfg = uzs_server_config_of(c->server);
    if (cfg->metrics) uzs_server_metrics_audio(cfg->metrics, audio_s, c->compute_s);
    size_t len;
    char *line = uzs_msg_end(&e, &len);
    c->ended = 1;
    return send_line(c, line, len);
}

int uzs_stream_conn_frame(uzs_stream_conn *c, const uzs_frame *f) {
    if (c->ended || c->gone) return -1;
    switch (f->type) {
    case UZS_FRAME_HELLO: return accept_hello(c, f);
    case UZS_FRAME_AUDIO: return audio(c, f);
    case UZS_FRAME_END: return finish(c);
    case UZS_FRAME_PING: {
        size_t len;
        char *line = uzs_msg_pong((double)c->received / c->hello.sample_rate, &len);
        return send_line(c, line, len);
    }
    }
    uzs_stream_conn_fail(c, UZS_ERR_BAD_FRAME, "unknown frame");
    return -1;
}
