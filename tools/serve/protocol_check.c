/*
 * protocol_check.c - a validator of server lines against docs/protocol.md ("Server messages"),
 * independent of the encoders in protocol_msg.c: the `uzwhisper stream` client checks what it
 * reads with it, and conformance tests run every line a server sends through it. Unknown keys are
 * allowed (clients must ignore them: a server may add fields within a protocol version); missing
 * required keys, wrong types, values out of range and times out of order are not.
 */
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "protocol.h"

static const char *const k_msg_names[] = {NULL, "ready", "interim", "final", "error", "pong", "end"};

const char *uzs_msg_type_name(uzs_msg_type t) {
    return (unsigned)t < sizeof k_msg_names / sizeof k_msg_names[0] ? k_msg_names[t] : NULL;
}

/* The check's state: the first failure is kept, later ones are ignored. */
typedef struct {
    char why[300];
    int bad;
} checker;

static void flag(checker *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void flag(checker *c, const char *fmt, ...) {
    if (c->bad) return;
    c->bad = 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->why, sizeof c->why, fmt, ap);
    va_end(ap);
}

/* ---------------------------------------------------------------- field readers */

/* Required string field; NULL (flagged) when absent or not a string. null_ok: null is allowed
 * (returns NULL without flagging). */
static const char *get_str(checker *c, const json_t *o, const char *where, const char *key, int null_ok) {
    const json_t *v = json_object_get(o, key);
    if (v && json_is_string(v)) return json_string_value(v);
    if (v && null_ok && json_is_null(v)) return NULL;
    flag(c, "%s: \"%s\" %s", where, key, v ? (null_ok ? "must be a string or null" : "must be a string") : "is missing");
    return NULL;
}

/* Required number field (integer or real); NAN (flagged) when absent or of another type; NAN
 * without flagging for an allowed null. */
static double get_num(checker *c, const json_t *o, const char *where, const char *key, int null_ok) {
    const json_t *v = json_object_get(o, key);
    if (v && json_is_number(v)) return json_number_value(v);
    if (v && null_ok && json_is_null(v)) return NAN;
    flag(c, "%s: \"%s\" %s", where, key, v ? (null_ok ? "must be a number or null" : "must be a number") : "is missing");
    return NAN;
}

static json_int_t get_int(checker *c, const json_t *o, const char *where, const char *key, json_int_t lo,
                          json_int_t hi) {
    const json_t *v = json_object_get(o, key);
    if (v && json_is_integer(v) && json_integer_value(v) >= lo && json_integer_value(v) <= hi)
        return json_integer_value(v);
    flag(c, "%s: \"%s\" %s", where, key, v ? "must be an integer in range" : "is missing");
    return lo;
}

static void need_bool(checker *c, const json_t *o, const char *where, const char *key) {
    const json_t *v = json_object_get(o, key);
    if (!v || !json_is_boolean(v)) flag(c, "%s: \"%s\" %s", where, key, v ? "must be true or false" : "is missing");
}

static void need_one_of(checker *c, const json_t *o, const char *where, const char *key, const char *const *names,
                        int n) {
    const char *s = get_str(c, o, where, key, 0);
    if (!s) return;
    for (int i = 0; i < n; i++)
        if (strcmp(s, names[i]) == 0) return;
    flag(c, "%s: \"%s\" has an unknown value \"%.32s\"", where, key, s);
}

/* A time span: both finite, 0 <= start <= end. */
static void need_span(checker *c, double start, double end, const char *where) {
    if (c->bad) return;
    if (!isfinite(start) || !isfinite(end) || start < 0 || end < start)
        flag(c, "%s: bad times start %g, end %g (need 0 <= start <= end)", where, start, end);
}

/* A probability: null or in [0, 1]. */
static void need_prob(checker *c, double p, const char *where) {
    if (!isnan(p) && !(p >= 0 && p <= 1)) flag(c, "%s: probability %g outside [0, 1]", where, p);
}

/* A non-negative finite number. */
static void need_nonneg(checker *c, double v, const char *where, const char *key) {
    if (!c->bad && !(isfinite(v) && v >= 0)) flag(c, "%s: \"%s\" must be >= 0, got %g", where, key, v);
}

/* ---------------------------------------------------------------- per type */

static void check_ready(checker *c, const json_t *o) {
    const char *p = get_str(c, o, "ready", "protocol", 0);
    if (p && strcmp(p, UZS_PROTOCOL_NAME) != 0) flag(c, "ready: protocol \"%.32s\" is not %s", p, UZS_PROTOCOL_NAME);
    const char *s = get_str(c, o, "ready", "session", 0);
    if (s && !s[0]) flag(c, "ready: \"session\" is empty");
    get_str(c, o, "ready", "id", 1);
    get_str(c, o, "ready", "model", 1);
    const json_t *opt = json_object_get(o, "options"), *lim = json_object_get(o, "limits");
    if (!json_is_object(opt)) {
        flag(c, "ready: \"options\" must be an object");
        return;
    }
    static const char *const formats[] = {"s16le", "f32le"}, *const tasks[] = {"transcribe", "translate"},
                             *const scripts[] = {"latin", "cyrillic", "as_decoded"};
    get_int(c, opt, "ready.options", "sample_rate", UZS_MIN_SAMPLE_RATE, UZS_MAX_SAMPLE_RATE);
    need_one_of(c, opt, "ready.options", "format", formats, 2);
    get_int(c, opt, "ready.options", "channels", 1, UZS_MAX_CHANNELS);
    get_str(c, opt, "ready.options", "language", 0);
    get_str(c, opt, "ready.options", "languages", 1);
    get_str(c, opt, "ready.options", "adapter", 1);
    need_bool(c, opt, "ready.options", "interim");
    need_bool(c, opt, "ready.options", "word_timestamps");
    need_one_of(c, opt, "ready.options", "task", tasks, 2);
    need_one_of(c, opt, "ready.options", "uz_script", scripts, 3);
    if (!json_is_object(lim)) {
        flag(c, "ready: \"limits\" must be an object");
        return;
    }
    get_int(c, lim, "ready.limits", "max_hello_bytes", 1, (json_int_t)1 << 32);
    get_int(c, lim, "ready.limits", "max_audio_frame_bytes", 1, (json_int_t)1 << 32);
    static const char *const secs[] = {"max_audio_seconds", "idle_timeout_seconds", "max_session_seconds"};
    for (int i = 0; i < 3; i++) {
        double v = get_num(c, lim, "ready.limits", secs[i], 1);
        if (!isnan(v) && !(v > 0 && isfinite(v))) flag(c, "ready.limits: \"%s\" must be > 0 or null", secs[i]);
    }
}

static void check_interim(checker *c, const json_t *o) {
    const char *text = get_str(c, o, "interim", "text", 0), *stable = get_str(c, o, "interim", "stable", 0),
               *unstable = get_str(c, o, "interim", "unstable", 0);
    if (text && stable && unstable) {
        size_t a = strlen(stable);
        if (strncmp(text, stable, a) != 0 || strcmp(text + a, unstable) != 0)
            flag(c, "interim: \"text\" is not \"stable\" followed by \"unstable\"");
    }
    double start = get_num(c, o, "interim", "start", 0), end = get_num(c, o, "interim", "end", 0);
    need_span(c, start, end, "interim");
    get_str(c, o, "interim", "language", 1);
}

static void check_final(checker *c, const json_t *o) {
    get_int(c, o, "final", "seq", 0, INT64_MAX);
    get_str(c, o, "final", "text", 0);
    double start = get_num(c, o, "final", "start", 0), end = get_num(c, o, "final", "end", 0);
    need_span(c, start, end, "final");
    get_str(c, o, "final", "language", 1);
    need_prob(c, get_num(c, o, "final", "language_prob", 1), "final.language_prob");
    const json_t *words = json_object_get(o, "words"), *switches = json_object_get(o, "switches");
    if (!json_is_array(words) || !json_is_array(switches)) {
        flag(c, "final: \"words\" and \"switches\" must be arrays");
        return;
    }
    double prev = start;
    for (size_t i = 0; i < json_array_size(words) && !c->bad; i++) {
        const json_t *w = json_array_get(words, i);
        char where[48];
        snprintf(where, sizeof where, "final.words[%zu]", i);
        if (!json_is_object(w)) {
            flag(c, "%s: must be an object", where);
            break;
        }
        get_str(c, w, where, "word", 0);
        double ws = get_num(c, w, where, "start", 0), we = get_num(c, w, where, "end", 0);
        need_span(c, ws, we, where);
        if (!c->bad && (ws < prev || we > end))
            flag(c, "%s: [%g, %g] out of order or outside the segment [%g, %g]", where, ws, we, start, end);
        prev = ws;
        need_prob(c, get_num(c, w, where, "prob", 1), where);
        get_str(c, w, where, "language", 1);
    }
    prev = start;
    for (size_t i = 0; i < json_array_size(switches) && !c->bad; i++) {
        const json_t *s = json_array_get(switches, i);
        char where[48];
        snprintf(where, sizeof where, "final.switches[%zu]", i);
        if (!json_is_object(s)) {
            flag(c, "%s: must be an object", where);
            break;
        }
        double t = get_num(c, s, where, "time", 0);
        const char *from = get_str(c, s, where, "from", 0), *to = get_str(c, s, where, "to", 0);
        if (!c->bad && !(t >= prev && t <= end)) flag(c, "%s: time %g out of order or outside the segment", where, t);
        if (from && to && strcmp(from, to) == 0) flag(c, "%s: \"from\" and \"to\" are both \"%.8s\"", where, from);
        prev = t;
    }
}

static void check_error(checker *c, const json_t *o) {
    const char *code = get_str(c, o, "error", "code", 0);
    if (code && uzs_error_code_from_name(code) == UZS_ERR_NONE) flag(c, "error: unknown code \"%.32s\"", code);
    get_str(c, o, "error", "message", 0);
    need_bool(c, o, "error", "fatal");
    const int has_start = json_object_get(o, "start") != NULL, has_end = json_object_get(o, "end") != NULL;
    if (has_start != has_end) flag(c, "error: \"start\" and \"end\" come together");
    if (has_start && has_end) need_span(c, get_num(c, o, "error", "start", 0), get_num(c, o, "error", "end", 0), "error");
}

static void check_end(checker *c, const json_t *o) {
    double a = get_num(c, o, "end", "audio_seconds", 0), t = get_num(c, o, "end", "transcribed_seconds", 0),
           e = get_num(c, o, "end", "error_seconds", 0);
    need_nonneg(c, a, "end", "audio_seconds");
    need_nonneg(c, t, "end", "transcribed_seconds");
    need_nonneg(c, e, "end", "error_seconds");
    /* every received second is transcribed or covered by an error (each figure rounded to 1 ms) */
    if (!c->bad && fabs(a - t - e) > 0.0015 + 1e-9)
        flag(c, "end: audio_seconds %g != transcribed_seconds %g + error_seconds %g", a, t, e);
    get_int(c, o, "end", "finals", 0, INT64_MAX);
    const json_t *tm = json_object_get(o, "timings");
    if (!json_is_object(tm)) {
        flag(c, "end: \"timings\" must be an object");
        return;
    }
    need_nonneg(c, get_num(c, tm, "end.timings", "wall_seconds", 0), "end.timings", "wall_seconds");
    need_nonneg(c, get_num(c, tm, "end.timings", "compute_seconds", 0), "end.timings", "compute_seconds");
    static const char *const opt[] = {"rtf", "latency_p50", "latency_p95"};
    for (int i = 0; i < 3; i++) {
        double v = get_num(c, tm, "end.timings", opt[i], 1);
        if (!isnan(v)) need_nonneg(c, v, "end.timings", opt[i]);
    }
}

uzs_msg_type uzs_msg_check(const char *line, size_t len, char *err, size_t err_size) {
    checker c = {{0}, 0};
    uzs_msg_type type = UZS_MSG_UNKNOWN;
    if (len && line[len - 1] == '\n') len--;
    json_error_t jerr;
    json_t *o = line ? json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr) : NULL;
    if (!o) {
        flag(&c, "not one JSON value: %s", line ? jerr.text : "NULL line");
    } else if (memchr(line, '\n', len)) {
        flag(&c, "a raw newline inside the line"); /* JSON lines are one line each */
    } else if (!json_is_object(o)) {
        flag(&c, "not a JSON object");
    } else {
        const char *t = get_str(&c, o, "message", "type", 0);
        for (int i = 1; t && i <= UZS_MSG_END; i++)
            if (strcmp(t, k_msg_names[i]) == 0) type = (uzs_msg_type)i;
        switch (type) {
        case UZS_MSG_READY: check_ready(&c, o); break;
        case UZS_MSG_INTERIM: check_interim(&c, o); break;
        case UZS_MSG_FINAL: check_final(&c, o); break;
        case UZS_MSG_ERROR: check_error(&c, o); break;
        case UZS_MSG_PONG: need_nonneg(&c, get_num(&c, o, "pong", "received", 0), "pong", "received"); break;
        case UZS_MSG_END: check_end(&c, o); break;
        default:
            if (t) flag(&c, "unknown message type \"%.32s\"", t);
        }
    }
    json_decref(o);
    if (c.bad) {
        if (err && err_size) snprintf(err, err_size, "%s", c.why);
        return UZS_MSG_UNKNOWN;
    }
    return type;
}
