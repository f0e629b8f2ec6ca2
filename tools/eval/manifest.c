/* manifest.c - the bench manifest reader: JSONL, one utterance a line (format: manifest.h,
 * docs/bench.md). Every bad line fails the whole manifest with "FILE:LINE: what is wrong"; keys
 * the format does not name are ignored, so manifests may carry extra annotations. */
#include "manifest.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UZE_MAX_LINE (1u << 20) /* bytes of one line, newline excluded */

/* ---------------------------------------------------------------- messages */

typedef struct {
    const char *name; /* the manifest, for messages */
    int line;
    char *err;
    size_t err_size;
} where;

/* "NAME:LINE: message" (or "NAME: message" for line 0) into err; returns -1. */
static int fail(const where *w, const char *fmt, ...) {
    if (!w->err || w->err_size == 0) return -1;
    int n = w->line > 0 ? snprintf(w->err, w->err_size, "%s:%d: ", w->name, w->line)
                        : snprintf(w->err, w->err_size, "%s: ", w->name);
    if (n >= 0 && (size_t)n < w->err_size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(w->err + n, w->err_size - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static const char *json_kind(const json_t *v) {
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER:
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

/* ---------------------------------------------------------------- fields */

/* "mixed" (when allowed) or 2-3 lower-case ASCII letters. */
static int valid_lang(const char *s, int allow_mixed) {
    if (allow_mixed && strcmp(s, "mixed") == 0) return 1;
    size_t n = strlen(s);
    if (n < 2 || n > 3) return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 'a' || s[i] > 'z') return 0;
    return 1;
}

/* The string field key of obj into *s. what names the object in messages ("" for the line). */
static int get_string(const where *w, json_t *obj, const char *key, const char *what, const char **s) {
    json_t *v = json_object_get(obj, key);
    if (!v) return fail(w, "%smissing \"%s\"", what, key);
    if (!json_is_string(v)) return fail(w, "%s\"%s\" must be a string, not %s", what, key, json_kind(v));
    *s = json_string_value(v);
    return 0;
}

static int get_number(const where *w, json_t *obj, const char *key, const char *what, double *x) {
    json_t *v = json_object_get(obj, key);
    if (!v) return fail(w, "%smissing \"%s\"", what, key);
    if (!json_is_number(v)) return fail(w, "%s\"%s\" must be a number, not %s", what, key, json_kind(v));
    *x = json_number_value(v);
    return 0;
}

static int get_lang(const where *w, json_t *obj, const char *key, const char *what, int allow_mixed, char out[8]) {
    const char *s;
    if (get_string(w, obj, key, what, &s) != 0) return -1;
    if (!valid_lang(s, allow_mixed))
        return fail(w, "%s\"%s\" is \"%.20s\", not a language code (2-3 lower-case letters%s)", what, key, s,
                    allow_mixed ? ", or \"mixed\"" : "");
    strcpy(out, s);
    return 0;
}

static char *dup_str(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

static int parse_segments(const where *w, json_t *arr, uze_utterance *u) {
    if (!json_is_array(arr)) return fail(w, "\"segments\" must be an array, not %s", json_kind(arr));
    size_t n = json_array_size(arr);
    if (n == 0) return 0;
    u->segs = calloc(n, sizeof *u->segs);
    if (!u->segs) return fail(w, "out of memory");
    for (size_t k = 0; k < n; k++) {
        json_t *e = json_array_get(arr, k);
        char what[48];
        snprintf(what, sizeof what, "segment %zu: ", k + 1);
        if (!json_is_object(e)) return fail(w, "%smust be an object, not %s", what, json_kind(e));
        uze_ref_segment *s = &u->segs[k];
        const char *text;
        if (get_lang(w, e, "language", what, 0, s->language) != 0 || get_number(w, e, "start", what, &s->start) != 0 ||
            get_number(w, e, "end", what, &s->end) != 0 || get_string(w, e, "text", what, &text) != 0)
            return -1;
        if (s->start < 0 || s->end < 0)
            return fail(w, "%snegative time (start %g s, end %g s)", what, s->start, s->end);
        if (s->start > s->end) return fail(w, "%sstart %g s > end %g s", what, s->start, s->end);
        if (k > 0 && s->start < u->segs[k - 1].start)
            return fail(w, "%sstarts at %g s, before segment %zu (%g s): segments out of time order", what, s->start, k,
                        u->segs[k - 1].start);
        if (!(s->text = dup_str(text))) return fail(w, "out of memory");
        u->n_segs = (int)k + 1;
    }
    return 0;
}

static int parse_switches(const where *w, json_t *arr, uze_utterance *u) {
    if (!json_is_array(arr)) return fail(w, "\"switches\" must be an array, not %s", json_kind(arr));
    size_t n = json_array_size(arr);
    if (n == 0) return 0;
    u->switches = calloc(n, sizeof *u->switches);
    if (!u->switches) return fail(w, "out of memory");
    for (size_t k = 0; k < n; k++) {
        json_t *e = json_array_get(arr, k);
        char what[48];
        snprintf(what, sizeof what, "switch %zu: ", k + 1);
        if (!json_is_object(e)) return fail(w, "%smust be an object, not %s", what, json_kind(e));
        uze_switch *s = &u->switches[k];
        if (get_number(w, e, "time", what, &s->time) != 0 || get_lang(w, e, "from", what, 0, s->from) != 0 ||
            get_lang(w, e, "to", what, 0, s->to) != 0)
            return -1;
        if (s->time < 0) return fail(w, "%snegative time %g s", what, s->time);
        if (strcmp(s->from, s->to) == 0) return fail(w, "%s\"from\" and \"to\" are both \"%s\"", what, s->from);
        if (k > 0 && s->time < u->switches[k - 1].time)
            return fail(w, "%sat %g s, before switch %zu (%g s): switches out of time order", what, s->time, k,
                        u->switches[k - 1].time);
        u->n_switches = (int)k + 1;
    }
    return 0;
}

/* base_dir + "/" + path, or path itself when it is absolute or there is no base_dir. */
static char *resolve(const char *base_dir, const char *path) {
    if (path[0] == '/' || !base_dir || !base_dir[0]) return dup_str(path);
    size_t nb = strlen(base_dir), np = strlen(path);
    int slash = base_dir[nb - 1] != '/';
    char *s = malloc(nb + (size_t)slash + np + 1);
    if (!s) return NULL;
    memcpy(s, base_dir, nb);
    if (slash) s[nb] = '/';
    memcpy(s + nb + (size_t)slash, path, np + 1);
    return s;
}

/* One utterance from an object line into u (zeroed by the caller). */
static int parse_utterance(const where *w, json_t *obj, const char *base_dir, uze_utterance *u) {
    const char *audio, *text, *id = NULL;
    if (get_string(w, obj, "audio", "", &audio) != 0 || get_string(w, obj, "text", "", &text) != 0 ||
        get_lang(w, obj, "language", "", 1, u->language) != 0)
        return -1;
    if (!audio[0]) return fail(w, "\"audio\" is empty");
    json_t *v = json_object_get(obj, "id");
    if (v && !json_is_null(v)) {
        if (!json_is_string(v)) return fail(w, "\"id\" must be a string, not %s", json_kind(v));
        id = json_string_value(v);
        if (!id[0]) return fail(w, "\"id\" is empty");
    }
    u->id = dup_str(id ? id : audio);
    u->audio = resolve(base_dir, audio);
    u->text = dup_str(text);
    if (!u->id || !u->audio || !u->text) return fail(w, "out of memory");
    if ((v = json_object_get(obj, "segments")) && !json_is_null(v) && parse_segments(w, v, u) != 0) return -1;
    if ((v = json_object_get(obj, "switches")) && !json_is_null(v) && parse_switches(w, v, u) != 0) return -1;
    return 0;
}

/* ---------------------------------------------------------------- duplicate ids */

static int cmp_by_id(const void *a, const void *b) {
    const uze_utterance *x = *(const uze_utterance *const *)a, *y = *(const uze_utterance *const *)b;
    int c = strcmp(x->id, y->id);
    return c ? c : (x->line > y->line) - (x->line < y->line);
}

/* Fails on the first line (in file order) whose id an earlier line already used; 0 when none. */
static int check_ids(const uze_manifest *m, const where *w0) {
    const uze_utterance **v = malloc((size_t)m->n * sizeof *v);
    if (!v) return fail(w0, "out of memory");
    for (int i = 0; i < m->n; i++) v[i] = &m->utt[i];
    qsort(v, (size_t)m->n, sizeof *v, cmp_by_id);
    const uze_utterance *dup = NULL, *first = NULL;
    int group = 0; /* v is sorted by id, then line: v[group] is the first line of v[i]'s id */
    for (int i = 1; i < m->n; i++) {
        if (strcmp(v[i]->id, v[i - 1]->id) != 0) {
            group = i;
            continue;
        }
        if (!dup || v[i]->line < dup->line) dup = v[i], first = v[group];
    }
    free(v);
    if (!dup) return 0;
    where w = *w0;
    w.line = dup->line;
    return fail(&w, "duplicate id \"%.200s\" (first on line %d)", dup->id, first->line);
}

/* ---------------------------------------------------------------- the manifest */

void uze_manifest_free(uze_manifest *m) {
    if (!m) return;
    for (int i = 0; i < m->n; i++) {
        uze_utterance *u = &m->utt[i];
        free(u->id);
        free(u->audio);
        free(u->text);
        for (int k = 0; k < u->n_segs; k++) free(u->segs[k].text);
        free(u->segs);
        free(u->switches);
    }
    free(m->utt);
    m->utt = NULL;
    m->n = 0;
}

static int is_blank_or_comment(const char *s, size_t n) {
    size_t i = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r')) i++;
    return i == n || s[i] == '#';
}

int uze_manifest_parse(const char *text, size_t len, const char *base_dir, const char *name, uze_manifest *out,
                       char *err, size_t err_size) {
    where w = {name ? name : "<manifest>", 0, err, err_size};
    if (err && err_size) err[0] = 0;
    out->utt = NULL;
    out->n = 0;
    int cap = 0;
    size_t pos = 0;
    while (pos < len) {
        w.line++;
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - line) : len - pos;
        pos += n + (nl != NULL);
        if (n > 0 && line[n - 1] == '\r') n--;
        if (n > UZE_MAX_LINE) goto fail_line_long;
        if (is_blank_or_comment(line, n)) continue;
        json_error_t jerr;
        json_t *obj = json_loadb(line, n, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
        if (!obj) {
            fail(&w, "invalid JSON: %s (column %d)", jerr.text, jerr.column);
            goto fail;
        }
        if (!json_is_object(obj)) {
            fail(&w, "expected a JSON object, not %s", json_kind(obj));
            json_decref(obj);
            goto fail;
        }
        if (out->n == cap) {
            int ncap = cap ? 2 * cap : 64;
            uze_utterance *g = realloc(out->utt, (size_t)ncap * sizeof *g);
            if (!g) {
                json_decref(obj);
                fail(&w, "out of memory");
                goto fail;
            }
            out->utt = g, cap = ncap;
        }
        uze_utterance *u = &out->utt[out->n++];
        memset(u, 0, sizeof *u);
        u->line = w.line;
        int rc = parse_utterance(&w, obj, base_dir, u);
        json_decref(obj);
        if (rc != 0) goto fail;
    }
    w.line = 0;
    if (out->n == 0) {
        fail(&w, "no utterances (the manifest is empty)");
        goto fail;
    }
    if (check_ids(out, &w) != 0) goto fail;
    return 0;
fail_line_long:
    fail(&w, "line longer than 1 MiB");
fail:
    uze_manifest_free(out);
    return -1;
}

int uze_manifest_load(const char *path, uze_manifest *out, char *err, size_t err_size) {
    where w = {path, 0, err, err_size};
    out->utt = NULL;
    out->n = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return fail(&w, "cannot open: %s", strerror(errno));
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        len += fread(buf + len, 1, cap - len, f);
        if (len < cap) break;
        char *g = realloc(buf, cap * 2);
        if (!g) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = g, cap *= 2;
    }
    const char *bad = !buf ? "out of memory" : ferror(f) ? "read error" : NULL;
    fclose(f);
    if (bad) {
        free(buf);
        return fail(&w, "%s", bad);
    }
    /* the manifest's directory: audio paths are relative to it */
    char *dir = dup_str(path);
    if (!dir) {
        free(buf);
        return fail(&w, "out of memory");
    }
    char *slash = strrchr(dir, '/');
    if (!slash)
        dir[0] = 0;
    else if (slash == dir)
        dir[1] = 0;
    else
        *slash = 0;
    int rc = uze_manifest_parse(buf, len, dir, path, out, err, err_size);
    free(dir);
    free(buf);
    return rc;
}
