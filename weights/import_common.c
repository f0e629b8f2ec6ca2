/*
 * import_common.c - the converter intermediate form (import.h): tensors and vocabulary bookkeeping,
 * SHA-256 of source files, and the GPT-2 byte<->unicode inverse used by HF and CT2 vocabularies.
 */
#include "import.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IMPORT_MAX_TOKENS (1 << 24)

void uzw_import_init(uzw_import *im) { memset(im, 0, sizeof *im); }

void uzw_import_free(uzw_import *im) {
    if (!im) return;
    for (int i = 0; i < im->n_tokens; i++) free(im->tok[i]);
    free(im->tok);
    free(im->tok_len);
    free(im->merges);
    free(im->suppress);
    free(im->suppress_begin);
    free(im->align_heads);
    for (int i = 0; i < im->n_t; i++) free(im->t[i].data);
    free(im->t);
    memset(im, 0, sizeof *im);
}

uzw_import_tensor *uzw_import_find(uzw_import *im, const char *name) {
    for (int i = 0; i < im->n_t; i++)
        if (strcmp(im->t[i].name, name) == 0) return &im->t[i];
    return NULL;
}

/* Ownership of data passes to im even when this fails (data is then freed), so a caller never
 * frees data after calling it. */
int uzw_import_add(uzw_import *im, const char *name, int n_dims, const int64_t *dims, float *data,
                   char *err, size_t err_size) {
    if (!name || !data || strlen(name) >= UZW_MAX_NAME) {
        snprintf(err, err_size, "import: tensor name missing or longer than %d bytes, or no data", UZW_MAX_NAME - 1);
        free(data);
        return -1;
    }
    if (n_dims < 0 || n_dims > UZW_MAX_DIMS || (n_dims > 0 && !dims)) {
        snprintf(err, err_size, "import: tensor '%s' has %d dimensions (at most %d)", name, n_dims, UZW_MAX_DIMS);
        free(data);
        return -1;
    }
    for (int i = 0; i < n_dims; i++)
        if (dims[i] < 0) {
            snprintf(err, err_size, "import: tensor '%s' has a negative dimension", name);
            free(data);
            return -1;
        }
    if (uzw_import_find(im, name)) {
        snprintf(err, err_size, "import: tensor '%s' given twice", name);
        free(data);
        return -1;
    }
    if (im->n_t == im->cap_t) {
        int cap = im->cap_t ? 2 * im->cap_t : 64;
        uzw_import_tensor *t = realloc(im->t, (size_t)cap * sizeof *t);
        if (!t) {
            snprintf(err, err_size, "import: out of memory");
            free(data);
            return -1;
        }
        im->t = t;
        im->cap_t = cap;
    }
    uzw_import_tensor *t = &im->t[im->n_t++];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->n_dims = n_dims;
    for (int i = 0; i < n_dims; i++) t->dims[i] = dims[i];
    t->data = data;
    return 0;
}

int uzw_import_add_token(uzw_import *im, const uint8_t *bytes, uint32_t len) {
    int n = im->n_tokens;
    if (n >= IMPORT_MAX_TOKENS || (len > 0 && !bytes)) return -1;
    if (n == 0 || (n >= 64 && (n & (n - 1)) == 0)) { /* capacity is 64, then powers of two */
        size_t cap = n == 0 ? 64 : 2 * (size_t)n;
        uint8_t **tok = realloc(im->tok, cap * sizeof *tok);
        if (!tok) return -1;
        im->tok = tok;
        uint32_t *tl = realloc(im->tok_len, cap * sizeof *tl);
        if (!tl) return -1;
        im->tok_len = tl;
    }
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy) return -1;
    if (len) memcpy(copy, bytes, len);
    im->tok[n] = copy;
    im->tok_len[n] = len;
    im->n_tokens = n + 1;
    return 0;
}

/* ---------------------------------------------------------------- SHA-256 */
int uzw_sha256_files(const char *const *paths, int n, char out_hex[65], char *err, size_t err_size) {
    out_hex[0] = '\0';
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    uint8_t *buf = malloc(1 << 20);
    int rc = -1;
    if (!ctx || !buf || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        snprintf(err, err_size, "sha256: cannot set up the digest (out of memory?)");
        goto done;
    }
    for (int i = 0; i < n; i++) {
        FILE *f = fopen(paths[i], "rb");
        if (!f) {
            snprintf(err, err_size, "sha256: cannot open %s: %s", paths[i], strerror(errno));
            goto done;
        }
        size_t got;
        while ((got = fread(buf, 1, 1 << 20, f)) > 0)
            if (EVP_DigestUpdate(ctx, buf, got) != 1) break;
        int bad = ferror(f) || !feof(f);
        fclose(f);
        if (bad) {
            snprintf(err, err_size, "sha256: error reading %s", paths[i]);
            goto done;
        }
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    if (EVP_DigestFinal_ex(ctx, md, &md_len) != 1 || md_len != 32) {
        snprintf(err, err_size, "sha256: digest failed");
        goto done;
    }
    for (int i = 0; i < 32; i++) snprintf(out_hex + 2 * i, 3, "%02x", md[i]);
    rc = 0;
done:
    free(buf);
    EVP_MD_CTX_free(ctx);
    return rc;
}

/* ---------------------------------------------------------------- GPT-2 bytes_to_unicode inverse */
/* Bytes ! .. ~, ¡ .. ¬ and ® .. ÿ stand for themselves; the other 68 bytes, in increasing order,
 * are written as U+0100 + n. */
static int gpt2_is_printable(int b) { return (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || b >= 0xae; }

int uzw_gpt2_unicode_to_bytes(const char *s, uint8_t *out) {
    uint8_t shifted[68]; /* shifted[n] = the byte written as U+0100 + n */
    int n_shifted = 0;
    for (int b = 0; b < 256; b++)
        if (!gpt2_is_printable(b)) shifted[n_shifted++] = (uint8_t)b;

    const uint8_t *p = (const uint8_t *)s;
    int n = 0;
    while (*p) {
        uint32_t c;
        if (p[0] < 0x80) {
            c = p[0];
            p += 1;
        } else if ((p[0] & 0xe0) == 0xc0 && (p[1] & 0xc0) == 0x80) {
            c = (uint32_t)(p[0] & 0x1f) << 6 | (p[1] & 0x3f);
            if (c < 0x80) return -1; /* overlong */
            p += 2;
        } else {
            return -1; /* invalid UTF-8, or a code point above U+07FF: outside the mapping */
        }
        if (c < 256 && gpt2_is_printable((int)c)) out[n++] = (uint8_t)c;
        else if (c >= 256 && c < 256u + (uint32_t)n_shifted) out[n++] = shifted[c - 256];
        else return -1;
    }
    return n;
}
