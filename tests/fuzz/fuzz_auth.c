/*
 * fuzz_auth.c - libFuzzer target for the credential checks of `uzwhisper serve` (tools/serve/auth.h),
 * against an auth with three API keys and an HS256 secret. The first byte picks what the rest is:
 *   0: an Authorization header value or bare token, checked as is (uzs_auth_check_n);
 *   1: "HEADER-JSON\nPAYLOAD-JSON": base64url-encoded and signed here with the secret, so the
 *      checks after the signature (claims, libjwt) are reached: such a token can never be
 *      refused for its signature, and libjwt must never refuse one whose signature holds;
 *   2: a keys file (3: the comma-separated environment form) loaded into a fresh auth.
 * Properties (abort on violation): a status in range with a message; ok comes with a method and,
 * for an API key, the credential holds that key; a refusal has method none; the credential is
 * never repeated in the message or the detail; a failed keys load leaves no key and says why.
 * Seeds: tests/fuzz/corpus_auth/ (tests/fuzz/gen_corpus_auth.py). Run: tools/fuzz.sh.
 */
#define _GNU_SOURCE /* memmem */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"

#define NOW ((time_t)1700000000)
#define SECRET "fuzz-secret-0123456789abcdef0123456789"

static const char *const keys[] = {"fuzz-key-alpha-0123", "fuzz_key.bravo+/==", "fuzz~key~charlie~~"};
static uzs_auth *auth; /* built once, read-only afterwards */

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    auth = uzs_auth_new();
    char text[256], err[256];
    snprintf(text, sizeof text, "# fuzz keys\n%s\n%s\n%s\n", keys[0], keys[1], keys[2]);
    if (!auth || uzs_auth_add_keys_text(auth, text, strlen(text), 0, "fuzz", err, sizeof err) ||
        uzs_auth_set_jwt_secret(auth, SECRET, strlen(SECRET), "fuzz", err, sizeof err))
        abort();
    return 0;
}

static int contains(const char *hay, const char *needle, size_t n) {
    size_t h = strlen(hay);
    for (size_t i = 0; n && i + n <= h; i++)
        if (memcmp(hay + i, needle, n) == 0) return 1;
    return 0;
}

static void check_result(const char *cred, size_t len, uzs_auth_status s, const uzs_auth_result *r) {
    if (s != r->status || s < 0 || s >= UZS_AUTH_N_STATUS) abort();
    if (!r->message[0] || strlen(r->message) >= sizeof r->message || strlen(r->detail) >= sizeof r->detail) abort();
    if (s == UZS_AUTH_OK) {
        if (r->method == UZS_AUTH_METHOD_API_KEY) {
            if (r->key_index < 0 || r->key_index > 2) abort();
            if (!memmem(cred, len, keys[r->key_index], strlen(keys[r->key_index]))) abort();
        } else if (r->method == UZS_AUTH_METHOD_JWT) {
            if (r->key_index != -1 || r->expires + UZS_AUTH_LEEWAY_S + 1 <= NOW) abort(); /* expires: floor(exp) */
        } else {
            abort(); /* auth is on: OFF is impossible */
        }
    } else {
        if (r->method != UZS_AUTH_METHOD_NONE || r->key_index != -1 || r->subject[0]) abort();
        if (uzs_auth_http_status(s) == 401 && !uzs_auth_www_authenticate(s)) abort();
    }
    /* the credential (a blank-free run of 16 bytes or more) is never echoed */
    if (len >= 16 && !memchr(cred, ' ', len) && !memchr(cred, '\t', len) && !memchr(cred, 0, len) &&
        (contains(r->message, cred, len) || contains(r->detail, cred, len)))
        abort();
}

static void b64url(const unsigned char *in, size_t n, char *out) {
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0, i = 0;
    for (; i + 2 < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
        out[o++] = tab[v >> 18], out[o++] = tab[(v >> 12) & 63], out[o++] = tab[(v >> 6) & 63], out[o++] = tab[v & 63];
    }
    if (n - i == 1) {
        unsigned v = (unsigned)in[i] << 16;
        out[o++] = tab[v >> 18], out[o++] = tab[(v >> 12) & 63];
    } else if (n - i == 2) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
        out[o++] = tab[v >> 18], out[o++] = tab[(v >> 12) & 63], out[o++] = tab[(v >> 6) & 63];
    }
    out[o] = 0;
}

/* mode 1: sign "header\npayload" into a token and check it as a Bearer header */
static void signed_token(const uint8_t *d, size_t n) {
    const uint8_t *nl = memchr(d, '\n', n);
    size_t hn = nl ? (size_t)(nl - d) : n, pn = nl ? n - hn - 1 : 0;
    if (hn > 3000 || pn > 3000) return;
    size_t cap = 7 + 4 * (hn + pn) / 3 + 64 + 8;
    char *tok = malloc(cap);
    if (!tok) return;
    memcpy(tok, "Bearer ", 7);
    char *p = tok + 7;
    b64url(d, hn, p);
    p += strlen(p);
    *p++ = '.';
    b64url(nl ? nl + 1 : d, pn, p);
    p += strlen(p);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned mac_len = 0;
    if (!HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET), (const unsigned char *)tok + 7, (size_t)(p - tok - 7), mac,
              &mac_len))
        abort();
    *p++ = '.';
    b64url(mac, mac_len, p);
    size_t len = strlen(tok);
    uzs_auth_result r;
    uzs_auth_status s = uzs_auth_check_n(auth, tok, len, NOW, &r);
    check_result(tok + 7, len - 7, s, &r);
    if (s == UZS_AUTH_BAD_SIGNATURE || s == UZS_AUTH_UNKNOWN_KEY || s == UZS_AUTH_INTERNAL) abort();
    if (s == UZS_AUTH_MALFORMED && strstr(r.detail, "libjwt refused")) abort(); /* libjwt and we disagree */
    free(tok);
}

static void keys_text(const uint8_t *d, size_t n, int commas) {
    uzs_auth *a = uzs_auth_new();
    if (!a) return;
    char err[256] = "";
    int rc = uzs_auth_add_keys_text(a, (const char *)d, n, commas, "fuzz", err, sizeof err);
    if (rc != 0 && (uzs_auth_n_keys(a) != 0 || strncmp(err, "fuzz: ", 6) != 0)) abort();
    if (rc == 0 && uzs_auth_n_keys(a) > (int)(n / UZS_AUTH_MIN_KEY_LEN) + 1) abort();
    if (uzs_auth_enabled(a) != (uzs_auth_n_keys(a) > 0)) abort();
    uzs_auth_free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    const uint8_t *d = data + 1;
    size_t n = size - 1;
    switch (data[0] & 3) {
    case 0: {
        uzs_auth_result r;
        uzs_auth_status s = uzs_auth_check_n(auth, (const char *)d, n, NOW, &r);
        check_result((const char *)d, n, s, &r);
        break;
    }
    case 1: signed_token(d, n); break;
    case 2: keys_text(d, n, 0); break;
    case 3: keys_text(d, n, 1); break;
    }
    return 0;
}
