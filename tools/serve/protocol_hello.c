/*
 * protocol_hello.c - the HELLO options of uzw-stream/1 (docs/protocol.md, "HELLO"): strict parsing
 * with Jansson (duplicate keys, unknown keys, wrong types and out-of-range values are all refused
 * with a message naming the field), the client's encoder (checked by parsing its own output), and
 * the names of the enumerated values.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"
#include "core/util.h" /* uzw_errf */

/* For messages: the first 32 bytes of s[n] with anything but printable ASCII (and '"') shown as
 * '?', then "..." if cut. Keeps client text from putting control bytes or broken UTF-8 in logs. */
static const char *shown(const char *s, size_t n, char *buf, size_t size) {
    size_t k = 0;
    for (; k < n && k < 32 && k + 4 < size; k++) buf[k] = (s[k] >= 0x20 && s[k] < 0x7f && s[k] != '"') ? s[k] : '?';
    if (k < n && k + 4 <= size) {
        memcpy(buf + k, "...", 3);
        k += 3;
    }
    buf[k] = 0;
    return buf;
}

static const char *const k_formats[] = {"s16le", "f32le"};
static const char *const k_tasks[] = {"transcribe", "translate"};
static const char *const k_scripts[] = {"latin", "cyrillic", "as_decoded"};

const char *uzs_pcm_format_name(uzs_pcm_format f) { return (unsigned)f < 2 ? k_formats[f] : NULL; }
const char *uzs_task_name(uzs_task t) { return (unsigned)t < 2 ? k_tasks[t] : NULL; }
const char *uzs_uz_script_name(uzs_uz_script s) { return (unsigned)s < 3 ? k_scripts[s] : NULL; }

/* Every key a HELLO may carry (anything else is refused). */
static const char *const k_keys[] = {"protocol", "sample_rate", "format",  "channels",        "language",
                                     "languages", "adapter",    "interim", "word_timestamps", "task",
                                     "uz_script", "api_key",    "id"};
#define N_KEYS (sizeof k_keys / sizeof k_keys[0])

void uzs_hello_defaults(uzs_hello *h) {
    memset(h, 0, sizeof *h);
    h->sample_rate = 16000;
    h->format = UZS_PCM_S16LE;
    h->channels = 1;
    strcpy(h->language, "auto");
    h->interim = 1;
    h->word_timestamps = 1;
    h->task = UZS_TASK_TRANSCRIBE;
    h->uz_script = UZS_SCRIPT_LATIN;
    h->frame_bytes = uzs_pcm_frame_bytes(h->format, h->channels);
}

void uzs_hello_forget_key(uzs_hello *h) {
    volatile char *p = h->api_key; /* volatile: the stores are not optimised away */
    for (size_t i = 0; i < sizeof h->api_key; i++) p[i] = 0;
}

/* ---------------------------------------------------------------- value checks */

/* A language code: 2 or 3 lowercase ASCII letters (every Whisper code has this shape). */
static int is_lang_code(const char *s, size_t n) {
    if (n < 2 || n > 3) return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 'a' || s[i] > 'z') return 0;
    return 1;
}

/* "uz,ru": 1..UZS_MAX_LANGUAGES codes, comma-separated, no spaces, no repeats. */
static int check_languages(const char *s, char *why, size_t why_size) {
    size_t n = strlen(s);
    if (n == 0) {
        snprintf(why, why_size, "is empty (use null for the server's default)");
        return -1;
    }
    if (n >= UZS_MAX_LANGUAGES_TEXT) {
        snprintf(why, why_size, "is %zu bytes long; at most %d", n, UZS_MAX_LANGUAGES_TEXT - 1);
        return -1;
    }
    const char *codes[UZS_MAX_LANGUAGES];
    size_t lens[UZS_MAX_LANGUAGES];
    int count = 0;
    for (const char *p = s;;) {
        const char *c = strchr(p, ',');
        size_t k = c ? (size_t)(c - p) : strlen(p);
        if (!is_lang_code(p, k)) {
            char buf[40];
            snprintf(why, why_size, "has \"%s\", which is not a language code (2-3 lowercase letters, "
                     "comma-separated, no spaces)", shown(p, k, buf, sizeof buf));
            return -1;
        }
        for (int i = 0; i < count; i++)
            if (lens[i] == k && memcmp(codes[i], p, k) == 0) {
                snprintf(why, why_size, "names \"%.*s\" twice", (int)k, p);
                return -1;
            }
        if (count == UZS_MAX_LANGUAGES) {
            snprintf(why, why_size, "names more than %d languages", UZS_MAX_LANGUAGES);
            return -1;
        }
        codes[count] = p;
        lens[count++] = k;
        if (!c) break;
        p = c + 1;
    }
    return 0;
}

/* A server-side adapter name: 1..64 of [A-Za-z0-9._-], starting with a letter or digit (a name,
 * never a path). */
static int is_adapter_name(const char *s, size_t n) {
    if (n < 1 || n >= UZS_MAX_ADAPTER_NAME) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-'))) return 0;
    }
    return 1;
}

/* An API key or a JWT: 1..4096 printable ASCII characters, no spaces. */
static int is_api_key(const char *s, size_t n) {
    if (n < 1 || n >= UZS_MAX_API_KEY) return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e) return 0;
    return 1;
}

/* A client id: 1..128 bytes of UTF-8 (Jansson has checked the encoding) without control characters. */
static int is_client_id(const char *s, size_t n) {
    if (n < 1 || n >= UZS_MAX_CLIENT_ID) return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f) return 0;
    return 1;
}

/* The JSON type of v, for messages. */
static const char *json_kind(const json_t *v) {
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number with a fraction";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

/* For messages: `the string "..."` (see shown()) or the JSON type. Never used on api_key. */
static const char *describe(const json_t *v, char *buf, size_t size) {
    if (!json_is_string(v)) return json_kind(v);
    char text[40];
    snprintf(buf, size, "the string \"%s\"", shown(json_string_value(v), json_string_length(v), text, sizeof text));
    return buf;
}

/* Index of s in names[n], or -1. */
static int pick(const char *s, const char *const *names, int n) {
    for (int i = 0; i < n; i++)
        if (strcmp(s, names[i]) == 0) return i;
    return -1;
}

/* ---------------------------------------------------------------- parsing */

/* The fields of obj into h (defaults already there). 0, or -1 with the reason in why. */
static int read_fields(json_t *obj, uzs_hello *h, char *why, size_t why_size) {
    json_t *v;
    const char *key;
    char shown_buf[40], desc[64];

    v = json_object_get(obj, "protocol");
    if (!v) {
        snprintf(why, why_size, "\"protocol\" is missing; send \"protocol\": \"%s\"", UZS_PROTOCOL_NAME);
        return -1;
    }
    if (!json_is_string(v) || strcmp(json_string_value(v), UZS_PROTOCOL_NAME) != 0) {
        if (json_is_string(v))
            snprintf(why, why_size, "protocol \"%s\" is not supported; this server speaks %s",
                     shown(json_string_value(v), json_string_length(v), shown_buf, sizeof shown_buf), UZS_PROTOCOL_NAME);
        else
            snprintf(why, why_size, "\"protocol\" must be the string \"%s\", got %s", UZS_PROTOCOL_NAME,
                     json_kind(v));
        return -1;
    }
    json_object_foreach(obj, key, v) {
        if (pick(key, k_keys, (int)N_KEYS) < 0) {
            snprintf(why, why_size, "unknown key \"%s\" (known: protocol, sample_rate, format, channels, "
                     "language, languages, adapter, interim, word_timestamps, task, uz_script, api_key, id)",
                     shown(key, strlen(key), shown_buf, sizeof shown_buf));
            return -1;
        }
    }

    v = json_object_get(obj, "sample_rate");
    if (!v) {
        snprintf(why, why_size, "\"sample_rate\" is missing (Hz, %d to %d)", UZS_MIN_SAMPLE_RATE, UZS_MAX_SAMPLE_RATE);
        return -1;
    }
    if (!json_is_integer(v) || json_integer_value(v) < UZS_MIN_SAMPLE_RATE ||
        json_integer_value(v) > UZS_MAX_SAMPLE_RATE) {
        if (json_is_integer(v))
            snprintf(why, why_size, "\"sample_rate\" must be from %d to %d Hz, got %lld", UZS_MIN_SAMPLE_RATE,
                     UZS_MAX_SAMPLE_RATE, (long long)json_integer_value(v));
        else
            snprintf(why, why_size, "\"sample_rate\" must be an integer (Hz), got %s", json_kind(v));
        return -1;
    }
    h->sample_rate = (int)json_integer_value(v);

    v = json_object_get(obj, "format");
    if (!v) {
        snprintf(why, why_size, "\"format\" is missing (\"s16le\" or \"f32le\")");
        return -1;
    }
    int f = json_is_string(v) ? pick(json_string_value(v), k_formats, 2) : -1;
    if (f < 0) {
        snprintf(why, why_size, "\"format\" must be \"s16le\" or \"f32le\", got %s",
                 describe(v, desc, sizeof desc));
        return -1;
    }
    h->format = (uzs_pcm_format)f;

    if ((v = json_object_get(obj, "channels"))) {
        if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > UZS_MAX_CHANNELS) {
            if (json_is_integer(v))
                snprintf(why, why_size, "\"channels\" must be 1 or 2, got %lld", (long long)json_integer_value(v));
            else
                snprintf(why, why_size, "\"channels\" must be 1 or 2, got %s", json_kind(v));
            return -1;
        }
        h->channels = (int)json_integer_value(v);
    }

    if ((v = json_object_get(obj, "language"))) {
        const char *s = json_is_string(v) ? json_string_value(v) : NULL;
        if (!s || (strcmp(s, "auto") != 0 && !is_lang_code(s, json_string_length(v)))) {
            snprintf(why, why_size, "\"language\" must be \"auto\" or a language code (2-3 lowercase letters), got %s",
                     describe(v, desc, sizeof desc));
            return -1;
        }
        strcpy(h->language, s);
    }

    if ((v = json_object_get(obj, "languages")) && !json_is_null(v)) {
        char reason[160];
        if (!json_is_string(v)) {
            snprintf(why, why_size, "\"languages\" must be a string such as \"uz,ru\" or null, got %s", json_kind(v));
            return -1;
        }
        if (strlen(json_string_value(v)) != json_string_length(v) ||
            check_languages(json_string_value(v), reason, sizeof reason) != 0) {
            snprintf(why, why_size, "\"languages\" %s", reason);
            return -1;
        }
        strcpy(h->languages, json_string_value(v));
    }
    if (strcmp(h->language, "auto") != 0 && h->languages[0]) {
        /* a fixed language must be one of the allowed ones */
        size_t k = strlen(h->language);
        int found = 0;
        for (const char *p = h->languages; p;) {
            if (strncmp(p, h->language, k) == 0 && (p[k] == ',' || p[k] == 0)) found = 1;
            p = strchr(p, ',');
            if (p) p++;
        }
        if (!found) {
            snprintf(why, why_size, "\"language\" \"%s\" is not one of \"languages\" \"%s\"", h->language,
                     h->languages);
            return -1;
        }
    }

    if ((v = json_object_get(obj, "adapter")) && !json_is_null(v)) {
        if (!json_is_string(v) || !is_adapter_name(json_string_value(v), json_string_length(v))) {
            snprintf(why, why_size, "\"adapter\" must be null or a name of 1 to %d characters [A-Za-z0-9._-] "
                     "starting with a letter or digit, got %s", UZS_MAX_ADAPTER_NAME - 1, describe(v, desc, sizeof desc));
            return -1;
        }
        strcpy(h->adapter, json_string_value(v));
    }

    static const char *const bools[] = {"interim", "word_timestamps"};
    int *bool_dst[] = {&h->interim, &h->word_timestamps};
    for (int i = 0; i < 2; i++) {
        if ((v = json_object_get(obj, bools[i]))) {
            if (!json_is_boolean(v)) {
                snprintf(why, why_size, "\"%s\" must be true or false, got %s", bools[i], json_kind(v));
                return -1;
            }
            *bool_dst[i] = json_is_true(v);
        }
    }

    if ((v = json_object_get(obj, "task"))) {
        int t = json_is_string(v) ? pick(json_string_value(v), k_tasks, 2) : -1;
        if (t < 0) {
            snprintf(why, why_size, "\"task\" must be \"transcribe\" or \"translate\", got %s",
                     describe(v, desc, sizeof desc));
            return -1;
        }
        h->task = (uzs_task)t;
    }

    if ((v = json_object_get(obj, "uz_script"))) {
        int t = json_is_string(v) ? pick(json_string_value(v), k_scripts, 3) : -1;
        if (t < 0) {
            snprintf(why, why_size, "\"uz_script\" must be \"latin\", \"cyrillic\" or \"as_decoded\", got %s",
                     describe(v, desc, sizeof desc));
            return -1;
        }
        h->uz_script = (uzs_uz_script)t;
    }

    if ((v = json_object_get(obj, "api_key")) && !json_is_null(v)) {
        if (!json_is_string(v) || !is_api_key(json_string_value(v), json_string_length(v))) {
            /* the key itself is never echoed */
            if (json_is_string(v))
                snprintf(why, why_size, "\"api_key\" must be null or 1 to %d printable ASCII characters without "
                         "spaces, got a string of %zu bytes that is not", UZS_MAX_API_KEY - 1, json_string_length(v));
            else
                snprintf(why, why_size, "\"api_key\" must be null or a string, got %s", json_kind(v));
            return -1;
        }
        strcpy(h->api_key, json_string_value(v));
    }

    if ((v = json_object_get(obj, "id")) && !json_is_null(v)) {
        if (!json_is_string(v) || !is_client_id(json_string_value(v), json_string_length(v))) {
            if (json_is_string(v))
                snprintf(why, why_size, "\"id\" must be null or 1 to %d bytes without control characters, got a "
                         "string of %zu bytes that is not", UZS_MAX_CLIENT_ID - 1, json_string_length(v));
            else
                snprintf(why, why_size, "\"id\" must be null or a string, got %s", json_kind(v));
            return -1;
        }
        strcpy(h->id, json_string_value(v));
    }

    h->frame_bytes = uzs_pcm_frame_bytes(h->format, h->channels);
    return 0;
}

int uzs_hello_parse(const void *json, size_t len, uzs_hello *out, char *err, size_t err_size) {
    uzs_hello_defaults(out);
    if (len == 0 || !json) {
        uzw_errf(err, err_size, "HELLO: the payload is empty; it must be a JSON object");
        return -1;
    }
    if (len > UZS_MAX_HELLO_BYTES) {
        uzw_errf(err, err_size, "HELLO: %zu bytes is over the limit of %u", len, UZS_MAX_HELLO_BYTES);
        return -1;
    }
    json_error_t jerr;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        uzw_errf(err, err_size, "HELLO: not valid JSON at byte %d: %s", jerr.position, jerr.text);
        return -1;
    }
    if (!json_is_object(root)) {
        uzw_errf(err, err_size, "HELLO: must be a JSON object, got %s", json_kind(root));
        json_decref(root);
        return -1;
    }
    char why[400];
    int rc = read_fields(root, out, why, sizeof why);
    json_decref(root);
    if (rc != 0) {
        uzs_hello_forget_key(out);
        uzs_hello_defaults(out);
        uzw_errf(err, err_size, "HELLO: %s", why);
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- encoding (client side) */

static json_t *str_or_null(const char *s) { return s[0] ? json_string(s) : json_null(); }

char *uzs_hello_encode(const uzs_hello *h, size_t *len, char *err, size_t err_size) {
    if (len) *len = 0;
    const char *fmt = uzs_pcm_format_name(h->format), *task = uzs_task_name(h->task),
               *script = uzs_uz_script_name(h->uz_script);
    if (!fmt || !task || !script) {
        uzw_errf(err, err_size, "HELLO: format, task or uz_script out of range");
        return NULL;
    }
    /* every string field must be NUL-terminated inside its array */
    if (!memchr(h->language, 0, sizeof h->language) || !memchr(h->languages, 0, sizeof h->languages) ||
        !memchr(h->adapter, 0, sizeof h->adapter) || !memchr(h->api_key, 0, sizeof h->api_key) ||
        !memchr(h->id, 0, sizeof h->id)) {
        uzw_errf(err, err_size, "HELLO: a string field is not NUL-terminated");
        return NULL;
    }
    json_t *o = json_object();
    int bad = !o;
    bad = bad || json_object_set_new(o, "protocol", json_string(UZS_PROTOCOL_NAME));
    bad = bad || json_object_set_new(o, "sample_rate", json_integer(h->sample_rate));
    bad = bad || json_object_set_new(o, "format", json_string(fmt));
    bad = bad || json_object_set_new(o, "channels", json_integer(h->channels));
    bad = bad || json_object_set_new(o, "language", json_string(h->language));
    bad = bad || json_object_set_new(o, "languages", str_or_null(h->languages));
    bad = bad || json_object_set_new(o, "adapter", str_or_null(h->adapter));
    bad = bad || json_object_set_new(o, "interim", json_boolean(h->interim));
    bad = bad || json_object_set_new(o, "word_timestamps", json_boolean(h->word_timestamps));
    bad = bad || json_object_set_new(o, "task", json_string(task));
    bad = bad || json_object_set_new(o, "uz_script", json_string(script));
    bad = bad || json_object_set_new(o, "api_key", str_or_null(h->api_key));
    bad = bad || json_object_set_new(o, "id", str_or_null(h->id));
    /* json_string() returns NULL for text that is not UTF-8; set_new then fails */
    char *s = bad ? NULL : json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!s) {
        uzw_errf(err, err_size, "HELLO: a string field is not valid UTF-8, or out of memory");
        return NULL;
    }
    /* what we send must be what a server accepts */
    size_t n = strlen(s);
    uzs_hello check;
    char why[512];
    int rc = uzs_hello_parse(s, n, &check, why, sizeof why);
    uzs_hello_forget_key(&check);
    if (rc != 0) {
        uzw_errf(err, err_size, "%s", why);
        free(s);
        return NULL;
    }
    if (len) *len = n;
    return s;
}
