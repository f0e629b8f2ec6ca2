/*
 * import_ct2_meta.c - the rest of a CTranslate2 Whisper directory: the vocabulary (vocabulary.json,
 * a JSON list of token strings in id order, or the older vocabulary.txt, one per line; tokenizer.json
 * as a last resort), config.json (suppress_ids, suppress_ids_begin, alignment_heads, lang_ids), and
 * the directory entry point uzw_import_ct2(). Token strings are in GPT-2 byte-unicode form, except
 * specials such as "<|endoftext|>", which are literal text.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "import.h"
#include "import_formats.h"
#include "import_internal.h"

#define CT2_MAX_TOKENS (1 << 20)
#define CT2_MAX_TOKEN_CHARS 65536

/* ---------------------------------------------------------------- vocabulary */

/* One token string (len bytes, not NUL-terminated) appended to im as raw bytes. */
static int add_token(uzw_import *im, const char *s, size_t len, char *err, size_t err_size) {
    int id = im->n_tokens;
    if (len > CT2_MAX_TOKEN_CHARS || memchr(s, 0, len)) {
        snprintf(err, err_size, "ct2: vocabulary token %d is longer than %d bytes or holds a NUL", id,
                 CT2_MAX_TOKEN_CHARS);
        return -1;
    }
    char *z = malloc(len + 1);
    uint8_t *bytes = malloc(len + 1);
    if (!z || !bytes) {
        free(z);
        free(bytes);
        snprintf(err, err_size, "ct2: out of memory reading the vocabulary");
        return -1;
    }
    memcpy(z, s, len);
    z[len] = '\0';
    int n = uzw_gpt2_unicode_to_bytes(z, bytes);
    int literal = len >= 4 && s[0] == '<' && s[1] == '|' && s[len - 2] == '|' && s[len - 1] == '>';
    int rc = 0;
    if (n < 0 && !literal) {
        snprintf(err, err_size, "ct2: vocabulary token %d \"%.40s\" is not in GPT-2 byte-unicode form", id, z);
        rc = -1;
    } else if (uzw_import_add_token(im, n < 0 ? (const uint8_t *)s : bytes, n < 0 ? (uint32_t)len : (uint32_t)n)) {
        snprintf(err, err_size, "ct2: cannot add vocabulary token %d (out of memory or too many tokens)", id);
        rc = -1;
    }
    free(z);
    free(bytes);
    return rc;
}

int uzw_ct2_parse_vocab(const char *text, size_t size, uzw_ct2_vocab_kind kind, uzw_import *im, char *err,
                        size_t err_size) {
    if (kind == UZW_CT2_VOCAB_TXT) {
        size_t pos = 0;
        while (pos < size) {
            const char *nl = memchr(text + pos, '\n', size - pos);
            size_t end = nl ? (size_t)(nl - text) : size, len = end - pos;
            if (len > 0 && text[pos + len - 1] == '\r') len--;
            if (im->n_tokens >= CT2_MAX_TOKENS) {
                snprintf(err, err_size, "ct2: vocabulary.txt has more than %d lines", CT2_MAX_TOKENS);
                return -1;
            }
            if (add_token(im, text + pos, len, err, err_size)) return -1;
            pos = end + 1; /* a final newline ends the last token; it does not start an empty one */
        }
        if (im->n_tokens == 0) {
            snprintf(err, err_size, "ct2: vocabulary.txt is empty");
            return -1;
        }
        return 0;
    }
    json_error_t je;
    json_t *doc = json_loadb(text, size, JSON_ALLOW_NUL, &je);
    if (!doc) {
        snprintf(err, err_size, "ct2: vocabulary.json is not valid JSON (line %d: %s)", je.line, je.text);
        return -1;
    }
    int rc = 0;
    size_t n = json_is_array(doc) ? json_array_size(doc) : 0;
    if (n == 0 || n > CT2_MAX_TOKENS) {
        snprintf(err, err_size, "ct2: vocabulary.json must be a non-empty JSON list of at most %d token strings",
                 CT2_MAX_TOKENS);
        rc = -1;
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        const json_t *t = json_array_get(doc, i);
        if (!json_is_string(t)) {
            snprintf(err, err_size, "ct2: vocabulary.json entry %zu is not a string", i);
            rc = -1;
        } else {
            rc = add_token(im, json_string_value(t), json_string_length(t), err, err_size);
        }
    }
    json_decref(doc);
    return rc;
}

/* ---------------------------------------------------------------- config.json */

/* A JSON list of token ids into a malloc'ed array; *out NULL when the key is absent, null, or the
 * "-1" default marker. An empty list stays an empty (non-NULL) list: suppress nothing. */
static int id_list(const json_t *cfg, const char *key, int32_t n_vocab, int32_t **out, int *n_out, char *err,
                   size_t err_size) {
    *out = NULL;
    *n_out = 0;
    const json_t *a = json_object_get(cfg, key);
    if (!a || json_is_null(a)) return 0;
    size_t n = json_is_array(a) ? json_array_size(a) : 0;
    if (!json_is_array(a) || n > (size_t)n_vocab) {
        snprintf(err, err_size, "ct2: config.json %s must be a list of at most %d token ids", key, n_vocab);
        return -1;
    }
    if (n == 1 && json_is_integer(json_array_get(a, 0)) && json_integer_value(json_array_get(a, 0)) == -1) return 0;
    int32_t *ids = malloc((n ? n : 1) * sizeof *ids);
    if (!ids) {
        snprintf(err, err_size, "ct2: out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *v = json_array_get(a, i);
        json_int_t x = json_is_integer(v) ? json_integer_value(v) : -1;
        if (x < 0 || x >= n_vocab) {
            snprintf(err, err_size, "ct2: config.json %s[%zu] is not a token id below n_vocab %d", key, i, n_vocab);
            free(ids);
            return -1;
        }
        ids[i] = (int32_t)x;
    }
    *out = ids;
    *n_out = (int)n;
    return 0;
}

static int cmp_i32(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* lang_ids, when listed, must be exactly the language tokens the vocabulary gives (SOT+1 .. SOT+n_lang). */
static int check_lang_ids(const json_t *cfg, const uzw_import *im, char *err, size_t err_size) {
    int32_t *ids;
    int n;
    if (id_list(cfg, "lang_ids", im->dims.n_vocab, &ids, &n, err, err_size)) return -1;
    if (!ids || n == 0) { /* absent or empty: the converter found no language tokens; nothing to check */
        free(ids);
        return 0;
    }
    uzw_special_ids sp;
    char e2[256];
    int rc = 0;
    if (uzw_import_specials(im, &sp, e2, sizeof e2)) {
        snprintf(err, err_size, "ct2: cannot check config.json lang_ids against the vocabulary: %s", e2);
        rc = -1;
    } else if (n != sp.n_lang) {
        snprintf(err, err_size, "ct2: config.json lang_ids lists %d languages but the vocabulary has %d", n, sp.n_lang);
        rc = -1;
    } else {
        qsort(ids, (size_t)n, sizeof *ids, cmp_i32);
        for (int i = 0; i < n && rc == 0; i++)
            if (ids[i] != sp.first_lang + i) {
                snprintf(err, err_size, "ct2: config.json lang_ids has %d where the vocabulary's language %d is %d",
                         ids[i], i, sp.first_lang + i);
                rc = -1;
            }
    }
    free(ids);
    return rc;
}

static int align_heads(const json_t *cfg, uzw_import *im, char *err, size_t err_size) {
    const json_t *a = json_object_get(cfg, "alignment_heads");
    if (!a || json_is_null(a)) return 0;
    int L = im->dims.n_text_layer, H = im->dims.n_text_head;
    size_t n = json_is_array(a) ? json_array_size(a) : 0;
    if (!json_is_array(a) || n > (size_t)L * (size_t)H) {
        snprintf(err, err_size, "ct2: config.json alignment_heads must be a list of at most %d [layer, head] pairs",
                 L * H);
        return -1;
    }
    int32_t *p = malloc((n ? n : 1) * 2 * sizeof *p);
    if (!p) {
        snprintf(err, err_size, "ct2: out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(a, i);
        const json_t *l = json_array_get(e, 0), *h = json_array_get(e, 1);
        json_int_t lv = json_is_integer(l) ? json_integer_value(l) : -1;
        json_int_t hv = json_is_integer(h) ? json_integer_value(h) : -1;
        if (!json_is_array(e) || json_array_size(e) != 2 || lv < 0 || lv >= L || hv < 0 || hv >= H) {
            snprintf(err, err_size, "ct2: config.json alignment_heads[%zu] is not a [layer, head] pair within %d x %d",
                     i, L, H);
            free(p);
            return -1;
        }
        p[2 * i] = (int32_t)lv;
        p[2 * i + 1] = (int32_t)hv;
    }
    free(im->align_heads);
    im->align_heads = p;
    im->n_align_heads = (int)n;
    return 0;
}

int uzw_ct2_parse_config(const char *text, size_t size, uzw_import *im, char *err, size_t err_size) {
    json_error_t je;
    json_t *cfg = json_loadb(text, size, 0, &je);
    if (!cfg || !json_is_object(cfg)) {
        if (cfg) snprintf(err, err_size, "ct2: config.json is not a JSON object");
        else snprintf(err, err_size, "ct2: config.json is not valid JSON (line %d: %s)", je.line, je.text);
        json_decref(cfg);
        return -1;
    }
    int32_t *s = NULL, *sb = NULL;
    int ns = 0, nsb = 0, rc = -1;
    if (id_list(cfg, "suppress_ids", im->dims.n_vocab, &s, &ns, err, err_size) ||
        id_list(cfg, "suppress_ids_begin", im->dims.n_vocab, &sb, &nsb, err, err_size) ||
        align_heads(cfg, im, err, err_size) || check_lang_ids(cfg, im, err, err_size))
        goto done;
    if (s) {
        free(im->suppress);
        im->suppress = s, im->n_suppress = ns, s = NULL;
    }
    if (sb) {
        free(im->suppress_begin);
        im->suppress_begin = sb, im->n_suppress_begin = nsb, sb = NULL;
    }
    rc = 0;
done:
    free(s);
    free(sb);
    json_decref(cfg);
    return rc;
}

int uzw_import_ct2_mem(const uzw_ct2_input *in, uzw_import *im, char *err, size_t err_size) {
    if (uzw_ct2_parse_model(in->model, in->model_size, im, err, err_size)) return -1;
    if (in->vocab && uzw_ct2_parse_vocab(in->vocab, in->vocab_size, in->vocab_kind, im, err, err_size)) return -1;
    if (in->config && uzw_ct2_parse_config(in->config, in->config_size, im, err, err_size)) return -1;
    return 0;
}

/* ---------------------------------------------------------------- directory */

static int join(char *out, size_t n, const char *dir, const char *name) {
    return snprintf(out, n, "%s/%s", dir, name) < (int)n ? 0 : -1;
}

int uzw_import_ct2(const char *dir, uzw_import *im, char *err, size_t err_size) {
    char model[4096], config[4096], vocab[4096];
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, err_size, "ct2: %s is not a directory (a CTranslate2 model is a folder holding model.bin, "
                                "config.json and vocabulary.json)", dir);
        return -1;
    }
    if (join(model, sizeof model, dir, "model.bin") || join(config, sizeof config, dir, "config.json") ||
        join(vocab, sizeof vocab, dir, "vocabulary.json")) {
        snprintf(err, err_size, "ct2: directory path too long");
        return -1;
    }
    uzw_ct2_vocab_kind kind = UZW_CT2_VOCAB_JSON;
    int have_vocab = access(vocab, R_OK) == 0;
    if (!have_vocab) {
        join(vocab, sizeof vocab, dir, "vocabulary.txt");
        kind = UZW_CT2_VOCAB_TXT;
        have_vocab = access(vocab, R_OK) == 0;
    }
    int have_config = access(config, R_OK) == 0;
    uzw_fmap mm = {0}, mc = {0}, mv = {0};
    int rc = -1;
    if (uzw_fmap_open(model, &mm, err, err_size) || (have_config && uzw_fmap_open(config, &mc, err, err_size)) ||
        (have_vocab && uzw_fmap_open(vocab, &mv, err, err_size)))
        goto done;
    uzw_ct2_input in = {mm.data, mm.size, have_config ? (const char *)mc.data : NULL, mc.size,
                        have_vocab ? (const char *)mv.data : NULL, mv.size, kind};
    /* the vocabulary must be in place before config.json's lang_ids are checked */
    uzw_ct2_input model_only = in;
    model_only.config = NULL;
    if (uzw_import_ct2_mem(&model_only, im, err, err_size)) goto done;
    if (!have_vocab) {
        char e2[512];
        if (uzw_hf_read_tokenizer(dir, im, e2, sizeof e2)) {
            snprintf(err, err_size, "ct2: %s has no vocabulary.json or vocabulary.txt, and its tokenizer.json could "
                                    "not be read: %s", dir, e2);
            goto done;
        }
    }
    if (have_config && uzw_ct2_parse_config(in.config, in.config_size, im, err, err_size)) goto done;
    const char *path = model;
    if (uzw_sha256_files(&path, 1, im->source_sha256, err, err_size)) goto done;
    snprintf(im->source_files, sizeof im->source_files, "model.bin%s%s", have_config ? ",config.json" : "",
             !have_vocab ? ",tokenizer.json" : kind == UZW_CT2_VOCAB_JSON ? ",vocabulary.json" : ",vocabulary.txt");
    snprintf(im->source_format, sizeof im->source_format, "ct2");
    rc = 0;
done:
    uzw_fmap_close(&mm);
    uzw_fmap_close(&mc);
    uzw_fmap_close(&mv);
    return rc;
}
