/* http_transcribe.c - one transcription request of the HTTP front end (http_internal.h): its form
 * fields checked and turned into decoding options, each uploaded file decoded from memory and
 * transcribed inside a pass slot, and the answer: the transcript JSON of `uzwhisper transcribe`
 * (docs/output.md) for POST /transcribe, one such document per file for /transcribe/batch, the
 * OpenAI formats for /v1/audio/transcriptions (http_openai.c). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio/audio.h"
#include "core/util.h"   /* uzw_now_ms */
#include "http_internal.h"
#include "model/model.h" /* uzw_model_language_index */
#include "output.h"
#include "serve_stream.h" /* uzs_slot_acquire, uzs_server_config_of */

const char *uzs_http_endpoint_name(uzs_http_endpoint ep) {
    static const char *const names[UZS_EP_N] = {"/transcribe", "/transcribe/batch", "/v1/audio/transcriptions"};
    return ep >= 0 && ep < UZS_EP_N ? names[ep] : "other";
}

void uzs_http_answer(uzs_http_job *j, unsigned status, const char *ctype, char *body, size_t len) {
    free(j->body);
    j->status = status;
    j->ctype = ctype;
    j->body = body;
    j->len = len;
    j->sent = 0;
}

static char *dump(json_t *doc, size_t *len) {
    char *s = doc ? json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(12)) : NULL;
    json_decref(doc);
    char *t = s ? realloc(s, strlen(s) + 2) : NULL; /* one line, newline-terminated */
    if (!t) {
        free(s);
        return NULL;
    }
    *len = strlen(t);
    t[(*len)++] = '\n';
    t[*len] = 0;
    return t;
}

void uzs_http_answer_error(uzs_http_job *j, unsigned status, const char *code, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *doc;
    if (j->ep == UZS_EP_OPENAI) /* the shape OpenAI's clients read */
        doc = json_pack("{s:{s:s%,s:s,s:n,s:s}}", "error", "message", msg, strlen(msg), "type",
                        status >= 500 ? "server_error" : "invalid_request_error", "param", "code", code);
    else
        doc = json_pack("{s:s,s:s%}", "error", code, "message", msg, strlen(msg));
    size_t len = 0;
    char *body = dump(doc, &len);
    if (!body) body = strdup("{\"error\":\"internal\"}\n"), len = body ? strlen(body) : 0;
    uzs_http_answer(j, status, "application/json", body, len);
}

/* ---------------------------------------------------------------- options */

/* The engine asks before each window: a request whose client left stops there. */
static int client_left(void *user) { return __atomic_load_n(&((uzs_http_job *)user)->orphan, __ATOMIC_RELAXED); }

/* Form fields -> decoding options. 0, or an HTTP status (400) with the error answer set. */
static unsigned options(uzs_http *h, uzs_http_job *j, uzs_http_opts *o) {
    const uzs_server_config *sc = uzs_server_config_of(h->c.server);
    memset(o, 0, sizeof *o);
    o->p = uzw_default_params();
    o->p.n_threads = sc->threads_per_pass;
    o->p.max_tokens_per_window = sc->max_tokens;
    o->p.word_timestamps = 1;
    o->p.cancel = client_left;
    o->p.cancel_user = j;
    const uzs_http_fields *f = &j->f;
    const char *lang = j->ep == UZS_EP_OPENAI ? f->language : f->language_hint;
    if (!*lang && j->ep != UZS_EP_OPENAI) lang = f->language; /* either name works on /transcribe */
    if (!strcmp(lang, "mixed")) {
        o->p.languages = sc->default_languages;
        o->p.code_switch = strchr(sc->default_languages, ',') != NULL;
    } else if (*lang && strcmp(lang, "auto") != 0) {
        if (uzw_model_language_index(sc->model, lang) < 0) {
            uzs_http_answer_error(j, 400, "bad_language", "unknown language '%.16s'%s", lang,
                                  j->ep == UZS_EP_OPENAI ? "" : " (language_hint: uz, ru, mixed, auto or a language code)");
            return 400;
        }
        snprintf(o->language, sizeof o->language, "%s", lang);
        o->p.language = o->language;
    }
    if (*f->task && strcmp(f->task, "transcribe") != 0) {
        if (strcmp(f->task, "translate") != 0) {
            uzs_http_answer_error(j, 400, "bad_task", "task must be transcribe or translate, not '%.16s'", f->task);
            return 400;
        }
        o->p.task = UZW_TASK_TRANSLATE;
    }
    o->p.uz_script = UZW_UZ_SCRIPT_LATIN; /* as `uzwhisper transcribe` and the HELLO's default */
    if (*f->uz_script) {
        if (!strcmp(f->uz_script, "latin")) o->p.uz_script = UZW_UZ_SCRIPT_LATIN;
        else if (!strcmp(f->uz_script, "cyrillic")) o->p.uz_script = UZW_UZ_SCRIPT_CYRILLIC;
        else if (!strcmp(f->uz_script, "as_decoded")) o->p.uz_script = UZW_UZ_SCRIPT_AS_DECODED;
        else {
            uzs_http_answer_error(j, 400, "bad_uz_script", "uz_script must be latin, cyrillic or as_decoded");
            return 400;
        }
    }
    if (*f->prompt) o->p.initial_prompt = f->prompt;
    if (*f->adapter) {
        o->adapter = sc->find_adapter ? sc->find_adapter(sc->adapter_user, f->adapter) : NULL;
        if (!o->adapter) {
            uzs_http_answer_error(j, 400, "unknown_adapter", "this server has no adapter named '%.64s'", f->adapter);
            return 400;
        }
        o->adapter_name = f->adapter;
        o->p.adapters = &o->adapter;
        o->p.n_adapters = 1;
    }
    if (j->ep == UZS_EP_OPENAI) {
        if (uzs_http_openai_format_ok(f->response_format) != 0) {
            uzs_http_answer_error(j, 400, "bad_response_format",
                                  "response_format must be json, text, srt, verbose_json or vtt, not '%.16s'", f->response_format);
            return 400;
        }
        if (*f->temperature) {
            char *end;
            double t = strtod(f->temperature, &end);
            if (*end || !(t >= 0 && t <= 1)) {
                uzs_http_answer_error(j, 400, "bad_temperature", "temperature must be a number from 0 to 1");
                return 400;
            }
            o->temperature = (float)t;
            o->p.temperatures = &o->temperature;
            o->p.n_temperatures = 1;
        }
        o->openai_words = strstr(f->granularities, "word") != NULL;
    }
    return 0;
}

/* The checks that need no audio, on the service thread when the body is complete: 0 or 400. */
unsigned uzs_http_check(uzs_http *h, uzs_http_job *j) {
    unsigned st = options(h, j, &j->opts);
    if (st) return st;
    if (j->n_files == 0 || (j->ep != UZS_EP_BATCH && j->n_files > 1)) {
        uzs_http_answer_error(j, 400, "bad_request", j->n_files ? "send one file here (several go to /transcribe/batch)"
                                                              : "no audio file in the request (a multipart part \"file\" with a filename)");
        return 400;
    }
    return 0;
}

/* ---------------------------------------------------------------- running */

/* Decode and transcribe one upload. 0, or an HTTP status with msg set. */
static unsigned run_one(uzs_http *h, uzw_context *ctx, const uzs_upload *u, const uzs_http_opts *o, char *msg, size_t ms,
                        const char **code, double *audio_s, double *compute_s) {
    const uzs_server_config *sc = uzs_server_config_of(h->c.server);
    float *pcm = NULL;
    size_t n = 0;
    /* the limit is checked on the header and while decoding: a small file that expands to hours stops early */
    double max_s = sc->max_audio_s < UZW_AUDIO_MAX_SECONDS ? sc->max_audio_s : UZW_AUDIO_MAX_SECONDS;
    if (uzw_audio_load_16k_mem_max(u->data, u->len, u->filename, max_s, &pcm, &n, msg, ms) != 0) {
        int too_long = strstr(msg, "too long") != NULL;
        *code = too_long ? "too_large" : "bad_audio";
        return too_long ? 413 : 400;
    }
    *audio_s = (double)n / 16000.0;
    double t0 = uzw_now_ms();
    uzs_slot_acquire(h->c.server);
    uzw_status st = uzw_transcribe_pcm(ctx, pcm, n, &o->p);
    uzs_slot_release(h->c.server);
    *compute_s = (uzw_now_ms() - t0) / 1e3;
    free(pcm);
    if (st != UZW_OK) {
        snprintf(msg, ms, "%s", uzw_last_error(ctx));
        *code = st == UZW_ERR_LANGUAGE ? "bad_language" : "internal";
        return st == UZW_ERR_LANGUAGE ? 400 : 500;
    }
    if (h->c.metrics) uzs_server_metrics_audio(h->c.metrics, *audio_s, *compute_s);
    return 0;
}

/* The transcript of ctx as /transcribe's JSON object: `uzwhisper transcribe`'s document, with
 * "language_detected" the transcript's language code, "language_source" "detected" or "hint",
 * "languages" every language of the segments in order of appearance, "switches" always there. */
static json_t *transcript_json(const uzw_context *ctx, const char *filename, const uzs_http_opts *o) {
    out_result r;
    if (out_result_from_ctx(&r, ctx, filename, NULL, NULL) != 0) return NULL;
    json_t *doc = out_json(&r);
    out_result_free(&r);
    if (!doc) return NULL;
    int bad = 0;
    bad |= json_object_set_new(doc, "language_detected", out_json_string(uzw_language(ctx)));
    bad |= json_object_set_new(doc, "language_source", json_string(uzw_language_detected(ctx) ? "detected" : "hint"));
    json_t *langs = json_array();
    for (int i = 0; langs && i < uzw_n_segments(ctx); i++) {
        const char *l = uzw_segment_language(ctx, i);
        int seen = !l;
        for (size_t k = 0; !seen && k < json_array_size(langs); k++)
            seen = !strcmp(json_string_value(json_array_get(langs, k)), l);
        if (!seen) bad |= json_array_append_new(langs, json_string(l));
    }
    bad |= json_object_set_new(doc, "languages", langs);
    if (!json_object_get(doc, "switches")) bad |= json_object_set_new(doc, "switches", json_array());
    if (o->adapter) bad |= json_object_set_new(doc, "adapter", json_string(o->adapter_name));
    if (bad) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

void uzs_http_transcribe(uzs_http *h, uzw_context *ctx, uzs_http_job *j) {
    const uzs_http_opts *o = &j->opts; /* made when the request was checked, before it was queued */
    char msg[1024];
    const char *code = "internal";
    double audio_s = 0, compute_s = 0;
    if (j->ep != UZS_EP_BATCH) {
        unsigned st = run_one(h, ctx, &j->files[0], o, msg, sizeof msg, &code, &audio_s, &compute_s);
        if (st) {
            uzs_http_answer_error(j, st, code, "%s", msg);
            return;
        }
        if (j->ep == UZS_EP_OPENAI) {
            uzs_http_openai_answer(j, ctx, o->openai_words);
            return;
        }
        size_t len = 0;
        char *body = dump(transcript_json(ctx, j->files[0].filename, o), &len);
        if (body) uzs_http_answer(j, 200, "application/json", body, len);
        else uzs_http_answer_error(j, 500, "internal", "out of memory writing the answer");
        return;
    }
    json_t *results = json_array();
    int n_err = 0;
    double total_audio = 0;
    for (int i = 0; results && i < j->n_files && !client_left(j); i++) {
        unsigned st = run_one(h, ctx, &j->files[i], o, msg, sizeof msg, &code, &audio_s, &compute_s);
        json_t *one = st ? json_pack("{s:s,s:i,s:s,s:s%}", "file", j->files[i].filename, "status", (int)st, "error", code,
                                     "message", msg, strlen(msg))
                         : transcript_json(ctx, j->files[i].filename, o);
        if (one && !st) json_object_set_new(one, "status", json_integer(200));
        n_err += st != 0;
        total_audio += st ? 0 : audio_s;
        if (!one || json_array_append_new(results, one) != 0) {
            json_decref(results);
            results = NULL;
        }
    }
    size_t len = 0;
    char *body = results ? dump(json_pack("{s:i,s:i,s:f,s:o}", "files", j->n_files, "errors", n_err, "audio_seconds",
                                          total_audio, "results", results),
                                &len)
                         : NULL;
    if (body) uzs_http_answer(j, 200, "application/json", body, len);
    else uzs_http_answer_error(j, 500, "internal", "out of memory writing the answer");
}
