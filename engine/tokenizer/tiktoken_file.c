/*
 * tiktoken_file.c - .tiktoken parser with its own strict base64 decoder (standard alphabet,
 * '=' padding optional; "=" alone is the empty token, as Python's b64decode reads it).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tiktoken_file.h"

static int b64_value(unsigned char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* Decode n base64 characters into dst (room for 3*n/4 bytes); returns bytes written or -1. */
static long b64_decode(const char *s, size_t n, uint8_t *dst) {
    while (n > 0 && s[n - 1] == '=') n--;
    if (n % 4 == 1) return -1;
    uint32_t acc = 0;
    int bits = 0;
    long w = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64_value((unsigned char)s[i]);
        if (v < 0) return -1;
        acc = (acc << 6 | (uint32_t)v) & 0xFFFFFF;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            dst[w++] = (uint8_t)(acc >> bits);
        }
    }
    if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return -1; /* non-zero leftover bits */
    return w;
}

void uzw_tiktoken_free(uzw_tiktoken *tk) {
    if (!tk) return;
    free(tk->tok);
    free(tk->len);
    free(tk->blob);
    memset(tk, 0, sizeof *tk);
}

int uzw_tiktoken_parse(const char *text, size_t len, uzw_tiktoken *out, char *err, size_t err_size) {
    if (!out || (!text && len)) {
        snprintf(err, err_size, "tiktoken: bad arguments");
        return -1;
    }
    memset(out, 0, sizeof *out);
    size_t lines = 0;
    for (size_t i = 0; i < len; i++) lines += text[i] == '\n';
    lines += len > 0 && text[len - 1] != '\n';
    if (lines == 0 || lines > INT_MAX / 2) {
        snprintf(err, err_size, "tiktoken: %zu lines", lines);
        return -1;
    }
    out->tok = malloc(sizeof(uint8_t *) * lines);
    out->len = malloc(sizeof(uint32_t) * lines);
    out->blob = malloc(len / 4 * 3 + 4);
    if (!out->tok || !out->len || !out->blob) {
        uzw_tiktoken_free(out);
        snprintf(err, err_size, "tiktoken: out of memory");
        return -1;
    }
    size_t at = 0, used = 0;
    int n = 0;
    while (at < len) {
        size_t end = at;
        while (end < len && text[end] != '\n') end++;
        size_t stop = end > at && text[end - 1] == '\r' ? end - 1 : end;
        const char *line = text + at, *sp = memchr(line, ' ', stop - at);
        if (!sp) {
            snprintf(err, err_size, "tiktoken: line %d has no space", n + 1);
            goto fail;
        }
        long w = b64_decode(line, (size_t)(sp - line), out->blob + used);
        if (w < 0) {
            snprintf(err, err_size, "tiktoken: line %d: bad base64", n + 1);
            goto fail;
        }
        long rank = -1;
        size_t ndig = (size_t)(text + stop - (sp + 1));
        if (ndig > 0 && ndig < 11) {
            rank = 0;
            for (size_t i = 0; i < ndig; i++) {
                char c = sp[1 + i];
                if (c < '0' || c > '9') {
                    rank = -1;
                    break;
                }
                rank = rank * 10 + (c - '0');
            }
        }
        if (rank != n) {
            snprintf(err, err_size, "tiktoken: line %d: rank is not %d (ranks must equal line order)", n + 1, n);
            goto fail;
        }
        out->len[n] = (uint32_t)w;
        used += (size_t)w;
        n++;
        at = end + 1;
    }
    used = 0; /* the tokens lie back to back in blob */
    for (int i = 0; i < n; i++) {
        out->tok[i] = out->blob + used;
        used += out->len[i];
    }
    out->n = n;
    return 0;
fail:
    uzw_tiktoken_free(out);
    return -1;
}

int uzw_tiktoken_load(const char *path, uzw_tiktoken *out, char *err, size_t err_size) {
    if (!path || !out) {
        snprintf(err, err_size, "tiktoken: bad arguments");
        return -1;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, err_size, "tiktoken: cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    char *buf = NULL;
    size_t size = 0, cap = 0;
    for (;;) {
        if (size == cap) {
            size_t ncap = cap ? cap * 2 : 1 << 20;
            char *nb = realloc(buf, ncap);
            if (!nb) {
                free(buf);
                fclose(f);
                snprintf(err, err_size, "tiktoken: out of memory reading %s", path);
                return -1;
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + size, 1, cap - size, f);
        size += got;
        if (got == 0) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        snprintf(err, err_size, "tiktoken: read error on %s", path);
        return -1;
    }
    int rc = uzw_tiktoken_parse(buf, size, out, err, err_size);
    free(buf);
    return rc;
}
