/*
 * protocol_msg.c - the server's side of uzw-stream/1 (docs/protocol.md, "Server messages"): one
 * encoder per message type, each returning one JSON line (compact, keys in a fixed order with
 * "type" first, '\n'-terminated). Times are rounded to the millisecond, probabilities to 6
 * decimals, non-finite numbers become null; text is repaired to UTF-8 (each bad byte -> U+FFFD),
 * since a token boundary can fall inside a character and JSON strings must be UTF-8. Jansson does
 * the escaping, so no text can break a line.
 */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"
#include "text/utf8.h"

/* ---------------------------------------------------------------- values */

/* A JSON string of s repaired to UTF-8 (NULL -> ""); NULL only when out of memory. */
static json_t *jtext(const char *s) {
    if (!s) s = "";
    const size_t n = strlen(s);
    const unsigned char *u = (const unsigned char *)s;
    size_t bad = 0;
    for (size_t i = 0; i < n;) {
        int32_t cp;
        i += (size_t)uzw_utf8_decode(u + i, n - i, &cp);
        bad += cp < 0;
    }
    if (!bad) return json_stringn(s, n);
    char *fixed = malloc(n + 2 * bad + 1); /* each bad byte (1) becomes 3 */
    if (!fixed) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        int32_t cp;
        int k = uzw_utf8_decode(u + i, n - i, &cp);
        if (cp < 0) {
            memcpy(fixed + o, "\xef\xbf\xbd", 3);
            o += 3;
        } else {
            memcpy(fixed + o, s + i, (size_t)k);
            o += (size_t)k;
        }
        i += (size_t)k;
    }
    json_t *j = json_stringn(fixed, o);
    free(fixed);
    return j;
}

/* A string, or null for NULL / "". */
static json_t *jtext_or_null(const char *s) { return s && s[0] ? jtext(s) : json_null(); }
/* Seconds to the millisecond; null when not finite. */
static json_t *jsecs(double v) { return isfinite(v) ? json_real(round(v * 1000.0) / 1000.0) : json_null(); }
/* A probability to 6 decimals; null when not finite. */
static json_t *jprob(double v) { return isfinite(v) ? json_real(round(v * 1e6) / 1e6) : json_null(); }
/* A positive limit, or null for none. */
static json_t *jlimit(double v) { return isfinite(v) && v > 0 ? jsecs(v) : json_null(); }

/* Builds an object field by field; the first failed allocation sticks (ok = 0). */
typedef struct {
    json_t *o;
    int ok;
} obj_builder;

static obj_builder ob_new(const char *type) {
    obj_builder b = {json_object(), 1};
    b.ok = b.o != NULL;
    if (b.ok && type) b.ok = json_object_set_new(b.o, "type", json_string(type)) == 0;
    return b;
}

static void ob_set(obj_builder *b, const char *key, json_t *v) {
    if (!b->ok || !v) {
        json_decref(v);
        b->ok = 0;
        return;
    }
    b->ok = json_object_set_new(b->o, key, v) == 0;
}

/* Hand over the built object (NULL when something failed). */
static json_t *ob_done(obj_builder *b) {
    if (b->ok) return b->o;
    json_decref(b->o);
    return NULL;
}

/* The line of object o (consumed): compact JSON + '\n'. */
static char *finish_line(json_t *o, size_t *len) {
    if (len) *len = 0;
    if (!o) return NULL;
    char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(12));
    json_decref(o);
    if (!s) return NULL;
    size_t n = strlen(s);
    char *line = realloc(s, n + 2);
    if (!line) {
        free(s);
        return NULL;
    }
    line[n] = '\n';
    line[n + 1] = 0;
    if (len) *len = n + 1;
    return line;
}

/* ---------------------------------------------------------------- messages */

char *uzs_msg_ready(const uzs_ready *r, size_t *len) {
    if (len) *len = 0;
    if (!r || !r->hello) return NULL;
    const uzs_hello *h = r->hello;
    obj_builder opt = ob_new(NULL);
    ob_set(&opt, "sample_rate", json_integer(h->sample_rate));
    ob_set(&opt, "format", json_string(uzs_pcm_format_name(h->format) ? uzs_pcm_format_name(h->format) : "?"));
    ob_set(&opt, "channels", json_integer(h->channels));
    ob_set(&opt, "language", jtext(h->language));
    ob_set(&opt, "languages", jtext_or_null(h->languages));
    ob_set(&opt, "adapter", jtext_or_null(h->adapter));
    ob_set(&opt, "interim", json_boolean(h->interim));
    ob_set(&opt, "word_timestamps", json_boolean(h->word_timestamps));
    ob_set(&opt, "task", json_string(uzs_task_name(h->task) ? uzs_task_name(h->task) : "?"));
    ob_set(&opt, "uz_script", json_string(uzs_uz_script_name(h->uz_script) ? uzs_uz_script_name(h->uz_script) : "?"));

    obj_builder lim = ob_new(NULL);
    ob_set(&lim, "max_hello_bytes", json_integer(UZS_MAX_HELLO_BYTES));
    ob_set(&lim, "max_audio_frame_bytes", json_integer(UZS_MAX_AUDIO_FRAME_BYTES));
    ob_set(&lim, "max_audio_seconds", jlimit(r->max_audio_seconds));
    ob_set(&lim, "idle_timeout_seconds", jlimit(r->idle_timeout_seconds));
    ob_set(&lim, "max_session_seconds", jlimit(r->max_session_seconds));

    obj_builder b = ob_new("ready");
    ob_set(&b, "protocol", json_string(UZS_PROTOCOL_NAME));
    ob_set(&b, "session", jtext(r->session));
    ob_set(&b, "id", jtext_or_null(h->id)); /* the client's label; the api_key is never echoed */
    ob_set(&b, "model", jtext_or_null(r->model));
    ob_set(&b, "options", ob_done(&opt));
    ob_set(&b, "limits", ob_done(&lim));
    return finish_line(ob_done(&b), len);
}

char *uzs_msg_interim(const uzs_interim *m, size_t *len) {
    if (len) *len = 0;
    if (!m) return NULL;
    json_t *stable = jtext(m->stable), *unstable = jtext(m->unstable);
    json_t *text = NULL;
    if (stable && unstable) { /* text is exactly stable + unstable, after repair */
        size_t a = json_string_length(stable), c = json_string_length(unstable);
        char *joined = malloc(a + c + 1);
        if (joined) {
            memcpy(joined, json_string_value(stable), a);
            memcpy(joined + a, json_string_value(unstable), c);
            joined[a + c] = 0;
            text = json_stringn(joined, a + c);
            free(joined);
        }
    }
    obj_builder b = ob_new("interim");
    ob_set(&b, "text", text);
    ob_set(&b, "stable", stable);
    ob_set(&b, "unstable", unstable);
    ob_set(&b, "start", jsecs(m->start));
    ob_set(&b, "end", jsecs(m->end));
    ob_set(&b, "language", jtext_or_null(m->language));
    return finish_line(ob_done(&b), len);
}

char *uzs_msg_final(const uzs_final *m, size_t *len) {
    if (len) *len = 0;
    if (!m) return NULL;
    json_t *words = json_array(), *switches = json_array();
    int ok = words && switches;
    for (int i = 0; ok && m->words && i < m->n_words; i++) {
        const uzs_word *w = &m->words[i];
        obj_builder wb = ob_new(NULL);
        ob_set(&wb, "word", jtext(w->word));
        ob_set(&wb, "start", jsecs(w->start));
        ob_set(&wb, "end", jsecs(w->end));
        ob_set(&wb, "prob", jprob(w->prob));
        ob_set(&wb, "language", jtext_or_null(w->language));
        json_t *o = ob_done(&wb);
        ok = o && json_array_append_new(words, o) == 0;
    }
    for (int i = 0; ok && m->switches && i < m->n_switches; i++) {
        const uzs_switch *s = &m->switches[i];
        obj_builder sb = ob_new(NULL);
        ob_set(&sb, "time", jsecs(s->time));
        ob_set(&sb, "from", jtext(s->from));
        ob_set(&sb, "to", jtext(s->to));
        json_t *o = ob_done(&sb);
        ok = o && json_array_append_new(switches, o) == 0;
    }
    if (!ok) {
        json_decref(words);
        json_decref(switches);
        words = switches = NULL;
    }
    obj_builder b = ob_new("final");
    ob_set(&b, "seq", json_integer((json_int_t)m->seq));
    ob_set(&b, "text", jtext(m->text));
    ob_set(&b, "start", jsecs(m->start));
    ob_set(&b, "end", jsecs(m->end));
    ob_set(&b, "language", jtext_or_null(m->language));
    ob_set(&b, "language_prob", jprob(m->language_prob));
    ob_set(&b, "words", words);
    ob_set(&b, "switches", switches);
    return finish_line(ob_done(&b), len);
}

char *uzs_msg_error(uzs_error_code code, const char *message, int fatal, double start, double end, size_t *len) {
    const char *name = uzs_error_code_name(code);
    if (!name || code == UZS_ERR_NONE) name = "internal";
    obj_builder b = ob_new("error");
    ob_set(&b, "code", json_string(name));
    ob_set(&b, "message", jtext(message));
    ob_set(&b, "fatal", json_boolean(fatal));
    if (isfinite(start) && start >= 0) {
        ob_set(&b, "start", jsecs(start));
        ob_set(&b, "end", jsecs(isfinite(end) && end >= start ? end : start));
    }
    return finish_line(ob_done(&b), len);
}

char *uzs_msg_pong(double received_seconds, size_t *len) {
    obj_builder b = ob_new("pong");
    ob_set(&b, "received", jsecs(received_seconds));
    return finish_line(ob_done(&b), len);
}

char *uzs_msg_end(const uzs_end *m, size_t *len) {
    if (len) *len = 0;
    if (!m) return NULL;
    obj_builder t = ob_new(NULL);
    ob_set(&t, "wall_seconds", jsecs(m->wall_seconds));
    ob_set(&t, "compute_seconds", jsecs(m->compute_seconds));
    double rtf = m->audio_seconds > 0 ? m->compute_seconds / m->audio_seconds : NAN;
    ob_set(&t, "rtf", isfinite(rtf) ? json_real(round(rtf * 1e4) / 1e4) : json_null());
    ob_set(&t, "latency_p50", jsecs(m->latency_p50));
    ob_set(&t, "latency_p95", jsecs(m->latency_p95));

    obj_builder b = ob_new("end");
    ob_set(&b, "audio_seconds", jsecs(m->audio_seconds));
    ob_set(&b, "transcribed_seconds", jsecs(m->transcribed_seconds));
    ob_set(&b, "error_seconds", jsecs(m->error_seconds));
    ob_set(&b, "finals", json_integer((json_int_t)m->n_finals));
    ob_set(&b, "timings", ob_done(&t));
    return finish_line(ob_done(&b), len);
}
