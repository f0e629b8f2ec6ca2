/*
 * import_hf_tok.c - an HF Whisper tokenizer folder into the import form: vocab.json (+ merges.txt,
 * + added_tokens.json), or tokenizer.json (model.vocab, model.merges, added_tokens). Vocabulary
 * strings use GPT-2's byte<->unicode map; added tokens are literal text.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "import_internal.h"

#define HF_MAX_ID (1 << 20)

typedef struct {
    const char **text; /* [n] text of each id (points into the JSON documents) */
    uint8_t *literal;  /* [n] 1: added token, literal text; 0: GPT-2 encoded */
    int n;
} hf_idmap;

static int hf_file_exists(const char *dir, const char *name, char *path, size_t n) {
    struct stat st;
    snprintf(path, n, "%s/%s", dir, name);
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static json_t *hf_load_json(const char *path, char *err, size_t err_size) {
    json_error_t jerr;
    json_t *j = json_load_file(path, 0, &jerr);
    if (!j) snprintf(err, err_size, "%s: invalid JSON: %s (line %d)", path, jerr.text, jerr.line);
    return j;
}

static int hf_id_of(const json_t *v, const char *what, const char *text, char *err, size_t err_size) {
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) >= HF_MAX_ID) {
        snprintf(err, err_size, "tokenizer: %s entry '%.60s' has no valid id", what, text);
        return -1;
    }
    return (int)json_integer_value(v);
}

/* Place text at id; a second, different text for the same id is an error. */
static int hf_put(hf_idmap *m, int id, const char *text, int literal, char *err, size_t err_size) {
    if (id >= m->n) {
        int n = id + 1;
        const char **t = realloc(m->text, (size_t)n * sizeof *t);
        if (!t) goto oom;
        m->text = t;
        uint8_t *l = realloc(m->literal, (size_t)n);
        if (!l) goto oom;
        m->literal = l;
        for (int i = m->n; i < n; i++) {
            m->text[i] = NULL;
            m->literal[i] = 0;
        }
        m->n = n;
    }
    if (m->text[id] && strcmp(m->text[id], text) != 0) {
        snprintf(err, err_size, "tokenizer: id %d is both '%.60s' and '%.60s'", id, m->text[id], text);
        return -1;
    }
    m->text[id] = text;
    m->literal[id] = m->literal[id] | (uint8_t)literal;
    return 0;
oom:
    snprintf(err, err_size, "tokenizer: out of memory");
    return -1;
}

static int hf_put_vocab(hf_idmap *m, const json_t *vocab, char *err, size_t err_size) {
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)vocab, k, v) {
        int id = hf_id_of(v, "vocab", k, err, err_size);
        if (id < 0 || hf_put(m, id, k, 0, err, err_size) != 0) return -1;
    }
    return 0;
}

/* added_tokens.json: {"<|endoftext|>": 50257, ...}; tokenizer.json: [{"id": .., "content": ..}, ...] */
static int hf_put_added(hf_idmap *m, const json_t *added, char *err, size_t err_size) {
    if (json_is_object(added)) {
        const char *k;
        const json_t *v;
        json_object_foreach((json_t *)added, k, v) {
            int id = hf_id_of(v, "added_tokens", k, err, err_size);
            if (id < 0 || hf_put(m, id, k, 1, err, err_size) != 0) return -1;
        }
        return 0;
    }
    if (!json_is_array(added)) {
        snprintf(err, err_size, "tokenizer: added_tokens is neither an object nor a list");
        return -1;
    }
    size_t i;
    const json_t *a;
    json_array_foreach(added, i, a) {
        const json_t *c = json_object_get(a, "content");
        if (!json_is_string(c)) {
            snprintf(err, err_size, "tokenizer: added_tokens[%zu] has no 'content' string", i);
            return -1;
        }
        int id = hf_id_of(json_object_get(a, "id"), "added_tokens", json_string_value(c), err, err_size);
        if (id < 0 || hf_put(m, id, json_string_value(c), 1, err, err_size) != 0) return -1;
    }
    return 0;
}

/* Every id from 0 up must be present; decode into im->tok. */
static int hf_fill_tokens(const hf_idmap *m, uzw_import *im, char *err, size_t err_size) {
    for (int id = 0; id < m->n; id++) {
        const char *s = m->text[id];
        if (!s) {
            snprintf(err, err_size, "tokenizer: token id %d is missing (ids must run from 0 without gaps)", id);
            return -1;
        }
        size_t len = strlen(s);
        uint8_t *bytes = malloc(len ? len : 1);
        if (!bytes) {
            snprintf(err, err_size, "tokenizer: out of memory");
            return -1;
        }
        int n = (int)len;
        if (m->literal[id]) memcpy(bytes, s, len);
        else n = uzw_gpt2_unicode_to_bytes(s, bytes);
        if (n < 0) {
            snprintf(err, err_size, "tokenizer: token %d '%.60s' uses a character outside GPT-2's byte encoding", id, s);
            free(bytes);
            return -1;
        }
        int rc = uzw_import_add_token(im, bytes, (uint32_t)n);
        free(bytes);
        if (rc != 0) {
            snprintf(err, err_size, "tokenizer: out of memory");
            return -1;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- merges */
static int hf_merge_pair(const json_t *vocab, const char *a, const char *b, int32_t *out, char *err, size_t err_size) {
    const json_t *ia = json_object_get(vocab, a), *ib = json_object_get(vocab, b);
    if (!json_is_integer(ia) || !json_is_integer(ib)) {
        snprintf(err, err_size, "tokenizer: merge '%.40s %.40s' names a piece missing from the vocabulary", a, b);
        return -1;
    }
    out[0] = (int32_t)json_integer_value(ia);
    out[1] = (int32_t)json_integer_value(ib);
    return 0;
}

/* "a b" -> ids; the line is modified in place. */
static int hf_merge_line(const json_t *vocab, char *line, int32_t *out, char *err, size_t err_size) {
    char *sp = strchr(line, ' ');
    if (!sp || sp == line || sp[1] == '\0' || strchr(sp + 1, ' ')) {
        snprintf(err, err_size, "tokenizer: merge '%.60s' is not two pieces separated by one space", line);
        return -1;
    }
    *sp = '\0';
    int rc = hf_merge_pair(vocab, line, sp + 1, out, err, err_size);
    *sp = ' ';
    return rc;
}

static int hf_merges_txt(const char *path, const json_t *vocab, uzw_import *im, char *err, size_t err_size) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, err_size, "%s: %s", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    int n = 0, ncap = 0, rc = 0, lineno = 0;
    while (rc == 0 && (got = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r')) line[--got] = '\0';
        if (got == 0 || (lineno == 1 && strncmp(line, "#version", 8) == 0)) continue;
        if (n == ncap) {
            ncap = ncap ? 2 * ncap : 4096;
            int32_t *mm = realloc(im->merges, (size_t)ncap * 2 * sizeof *mm);
            if (!mm) {
                snprintf(err, err_size, "tokenizer: out of memory");
                rc = -1;
                break;
            }
            im->merges = mm;
        }
        if (hf_merge_line(vocab, line, &im->merges[2 * n], err, err_size) != 0) rc = -1;
        else n++;
    }
    free(line);
    if (rc == 0 && ferror(f)) {
        snprintf(err, err_size, "%s: read error", path);
        rc = -1;
    }
    fclose(f);
    im->n_merges = n;
    if (rc == 0 && !im->merges) { /* an empty list is still a list */
        if (!(im->merges = malloc(2 * sizeof(int32_t)))) rc = -1;
    }
    return rc;
}

/* tokenizer.json: ["a b", ...] or [["a", "b"], ...] */
static int hf_merges_json(const json_t *merges, const json_t *vocab, uzw_import *im, char *err, size_t err_size) {
    size_t n = json_array_size(merges);
    if (!(im->merges = malloc((n ? n : 1) * 2 * sizeof(int32_t)))) {
        snprintf(err, err_size, "tokenizer: out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *m = json_array_get(merges, i);
        int rc;
        if (json_is_string(m)) {
            char *copy = strdup(json_string_value(m));
            if (!copy) {
                snprintf(err, err_size, "tokenizer: out of memory");
                return -1;
            }
            rc = hf_merge_line(vocab, copy, &im->merges[2 * i], err, err_size);
            free(copy);
        } else if (json_is_array(m) && json_array_size(m) == 2 && json_is_string(json_array_get(m, 0)) &&
                   json_is_string(json_array_get(m, 1))) {
            rc = hf_merge_pair(vocab, json_string_value(json_array_get(m, 0)), json_string_value(json_array_get(m, 1)),
                               &im->merges[2 * i], err, err_size);
        } else {
            snprintf(err, err_size, "tokenizer: merges[%zu] is neither \"a b\" nor [\"a\", \"b\"]", i);
            rc = -1;
        }
        if (rc != 0) return -1;
        im->n_merges = (int)i + 1;
    }
    return 0;
}

/* ---------------------------------------------------------------- entry point */
int uzw_hf_read_tokenizer(const char *dir, uzw_import *im, char *err, size_t err_size) {
    char path[1024];
    json_t *vocab_doc = NULL, *added_doc = NULL;
    const json_t *vocab = NULL, *added = NULL, *merges_json = NULL;
    hf_idmap m = {0};
    int rc = -1;
    char merges_txt[1024] = "";
    if (hf_file_exists(dir, "vocab.json", path, sizeof path)) {
        if (!(vocab_doc = hf_load_json(path, err, err_size))) goto done;
        vocab = vocab_doc;
        if (hf_file_exists(dir, "added_tokens.json", path, sizeof path)) {
            if (!(added_doc = hf_load_json(path, err, err_size))) goto done;
            added = added_doc;
        }
        if (!hf_file_exists(dir, "merges.txt", merges_txt, sizeof merges_txt)) merges_txt[0] = '\0';
    } else if (hf_file_exists(dir, "tokenizer.json", path, sizeof path)) {
        if (!(vocab_doc = hf_load_json(path, err, err_size))) goto done;
        const json_t *model = json_object_get(vocab_doc, "model");
        vocab = json_object_get(model, "vocab");
        merges_json = json_object_get(model, "merges");
        added = json_object_get(vocab_doc, "added_tokens");
    } else {
        snprintf(err, err_size, "%s: no tokenizer (neither vocab.json nor tokenizer.json)", dir);
        goto done;
    }
    if (!json_is_object(vocab)) {
        snprintf(err, err_size, "%s: the vocabulary is not a JSON object of token -> id", dir);
        goto done;
    }
    if (hf_put_vocab(&m, vocab, err, err_size) != 0) goto done;
    if (added && hf_put_added(&m, added, err, err_size) != 0) goto done;
    if (hf_fill_tokens(&m, im, err, err_size) != 0) goto done;
    if (merges_txt[0] && hf_merges_txt(merges_txt, vocab, im, err, err_size) != 0) goto done;
    if (json_is_array(merges_json) && hf_merges_json(merges_json, vocab, im, err, err_size) != 0) goto done;
    rc = 0;
done:
    free(m.text);
    free(m.literal);
    json_decref(vocab_doc);
    json_decref(added_doc);
    return rc;
}
