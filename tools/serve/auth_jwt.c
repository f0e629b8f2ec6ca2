/* auth_jwt.c - verifying an HS256 JSON Web Token (RFC 7519 / RFC 7515 compact form):
 *   1. structure: exactly three canonical base64url parts (no padding), the whole within
 *      UZS_AUTH_MAX_CREDENTIAL_LEN bytes (libjwt 1.10 copies the token onto the stack);
 *   2. the header, decoded and parsed with duplicate names refused (so no second "alg" can hide
 *      behind the first): "alg" must be exactly "HS256", no "crit", "typ" absent or JWT;
 *   3. the signature: HMAC-SHA256 over "header.payload" compared in constant time with the 32
 *      decoded bytes (CRYPTO_memcmp), before any claim is read;
 *   4. libjwt (jwt_decode with the secret) verifies it again and parses the claims, which are read
 *      back from it: "exp" required, "nbf" optional, both within UZS_AUTH_LEEWAY_S; "sub" kept.
 * The order means that nothing an unauthenticated sender controls, beyond the header's alg and
 * typ, is looked at, and nothing about the claims of a forged token is revealed. */
#include <errno.h>
#include <jansson.h>
#include <jwt.h>
#include <math.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "auth_internal.h"

#define HS256_LEN 32

/* ---------------------------------------------------------------- base64url */

static int b64url_value(unsigned char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}

/* 1 when s[n] is canonical unpadded base64url: the alphabet, no 4k+1 length, and the unused low
 * bits of the last character zero (so each byte string has one spelling: no malleable tokens). */
static int b64url_valid(const char *s, size_t n) {
    if (n % 4 == 1) return 0; /* no length of whole bytes encodes to 4k+1 characters */
    for (size_t i = 0; i < n; i++)
        if (b64url_value((unsigned char)s[i]) < 0) return 0;
    if (n % 4 == 2 && (b64url_value((unsigned char)s[n - 1]) & 15)) return 0;
    if (n % 4 == 3 && (b64url_value((unsigned char)s[n - 1]) & 3)) return 0;
    return 1;
}

/* Decode s[n] (checked by b64url_valid) into out (room for n * 3 / 4 bytes); returns the length. */
static size_t b64url_decode(const char *s, size_t n, unsigned char *out) {
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        acc = (acc << 6) | (unsigned)b64url_value((unsigned char)s[i]);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    return o;
}

/* Decode a base64url part and parse it as a JSON object, refusing duplicate names and raw NUL
 * bytes (Jansson's json_loadb skips them, while libjwt's NUL-terminated parse stops at the first:
 * found by fuzz_auth; refusing them keeps both parsers reading the same text). NULL if not. */
static json_t *decode_json_part(const char *s, size_t n) {
    unsigned char *buf = malloc(n * 3 / 4 + 1);
    if (!buf) return NULL;
    size_t len = b64url_decode(s, n, buf);
    if (memchr(buf, 0, len)) {
        free(buf);
        return NULL;
    }
    json_error_t jerr;
    json_t *js = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &jerr);
    free(buf);
    if (js && !json_is_object(js)) {
        json_decref(js);
        js = NULL;
    }
    return js;
}

/* Copy a claim string for logs: printable ASCII kept, anything else as '?', truncated. */
static void copy_printable(char *dst, size_t cap, const char *src) {
    size_t o = 0;
    for (; src[0] && o + 1 < cap; src++) {
        unsigned char c = (unsigned char)src[0];
        dst[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    dst[o] = 0;
}

static long long clamp_ll(double v) {
    if (v >= 9.0e18) return 9000000000000000000LL;
    if (v <= -9.0e18) return -9000000000000000000LL;
    return (long long)floor(v);
}

/* ---------------------------------------------------------------- the check */

uzs_auth_status uzs_auth_verify_jwt(const unsigned char *secret, size_t secret_len, const char *tok, size_t len,
                                    time_t now, uzs_auth_result *res) {
    json_t *header = NULL, *payload = NULL, *claims = NULL;
    jwt_t *jwt = NULL;
    char *tokz = NULL, *grants = NULL;

    if (!secret || secret_len == 0 || secret_len > UZS_AUTH_MAX_SECRET_LEN) {
        uzs_auth_fail(res, UZS_AUTH_UNKNOWN_KEY, "this server does not accept JSON Web Tokens",
                      "no usable JWT secret");
        return res->status;
    }
    if (!tok || len > UZS_AUTH_MAX_CREDENTIAL_LEN) {
        uzs_auth_fail(res, UZS_AUTH_MALFORMED, "credentials too long", "JWT of %zu bytes", len);
        return res->status;
    }

    /* 1. three parts */
    const char *d1 = memchr(tok, '.', len);
    const char *d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - tok)) : NULL;
    if (!d1 || !d2 || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - tok))) {
        uzs_auth_fail(res, UZS_AUTH_MALFORMED, "a JSON Web Token has three parts separated by dots",
                      "JWT without exactly two dots");
        return res->status;
    }
    size_t hn = (size_t)(d1 - tok), pn = (size_t)(d2 - d1 - 1), sn = len - (size_t)(d2 + 1 - tok);
    if (hn == 0 || pn == 0 || !b64url_valid(tok, hn) || !b64url_valid(d1 + 1, pn) || !b64url_valid(d2 + 1, sn)) {
        uzs_auth_fail(res, UZS_AUTH_MALFORMED, "the token's parts are not base64url",
                      "JWT parts of %zu, %zu and %zu characters, not all base64url", hn, pn, sn);
        return res->status;
    }

    /* 2. the header: alg first */
    header = decode_json_part(tok, hn);
    if (!header) {
        uzs_auth_fail(res, UZS_AUTH_MALFORMED, "the token's header is not a JSON object",
                      "JWT header is not a JSON object (or repeats a name, or has a NUL byte)");
        goto out;
    }
    json_t *alg = json_object_get(header, "alg");
    if (!json_is_string(alg) || strcmp(json_string_value(alg), "HS256") != 0) {
        char shown[24] = "";
        if (json_is_string(alg)) copy_printable(shown, sizeof shown, json_string_value(alg));
        uzs_auth_fail(res, UZS_AUTH_WRONG_ALG, NULL, "JWT alg %s%s%s refused", json_is_string(alg) ? "\"" : "",
                      json_is_string(alg) ? shown : "missing or not a string", json_is_string(alg) ? "\"" : "");
        goto out;
    }
    if (json_object_get(header, "crit")) {
        uzs_auth_fail(res, UZS_AUTH_MALFORMED, "the token has critical header extensions this server does not know",
                      "JWT header with crit");
        goto out;
    }
    json_t *typ = json_object_get(header, "typ");
    if (typ && (!json_is_string(typ) || strcasecmp(json_string_value(typ), "JWT") != 0)) {
        uzs_auth_fail(res, UZS_AUTH_MALFORMED, "the token's typ is not JWT", "JWT header typ is not JWT");
        goto out;
    }

    /* 3. the signature, in constant time */
    if (sn != 43) { /* 32 bytes in base64url without padding */
        uzs_auth_fail(res, UZS_AUTH_BAD_SIGNATURE, NULL, "HS256 signature of %zu characters, not 43", sn);
        goto out;
    }
    unsigned char sig[HS256_LEN + 2], mac[EVP_MAX_MD_SIZE];
    unsigned mac_len = 0;
    if (b64url_decode(d2 + 1, sn, sig) != HS256_LEN) {
        uzs_auth_fail(res, UZS_AUTH_BAD_SIGNATURE, NULL, "HS256 signature is not 32 bytes");
        goto out;
    }
    if (!HMAC(EVP_sha256(), secret, (int)secret_len, (const unsigned char *)tok, (size_t)(d2 - tok), mac, &mac_len) ||
        mac_len != HS256_LEN) {
        uzs_auth_fail(res, UZS_AUTH_INTERNAL, NULL, "HMAC-SHA256 failed");
        goto out;
    }
    int sig_ok = CRYPTO_memcmp(mac, sig, HS256_LEN) == 0;
    OPENSSL_cleanse(mac, sizeof mac);
    if (!sig_ok) {
        uzs_auth_fail(res, UZS_AUTH_BAD_SIGNATURE, NULL, "HS256 signature does not match");
        goto out;
    }

    /* 4. the claims: our strict parse (an object, no repeated claim), then libjwt's */
    payload = decode_json_part(d1 + 1, pn);
    if (!payload) {
        uzs_auth_fail(res, UZS_AUTH_MALFORMED, "the token's claims are not a JSON object",
                      "JWT payload is not a JSON object (or repeats a claim, or has a NUL byte)");
        goto out;
    }
    tokz = malloc(len + 1);
    if (!tokz) {
        uzs_auth_fail(res, UZS_AUTH_INTERNAL, NULL, "out of memory");
        goto out;
    }
    memcpy(tokz, tok, len);
    tokz[len] = 0;
    int jrc = jwt_decode(&jwt, tokz, secret, (int)secret_len);
    if (jrc != 0 || !jwt) {
        uzs_auth_fail(res, jrc == ENOMEM ? UZS_AUTH_INTERNAL : UZS_AUTH_MALFORMED, NULL,
                      "libjwt refused a token whose signature holds (error %d)", jrc);
        goto out;
    }
    if (jwt_get_alg(jwt) != JWT_ALG_HS256) { /* cannot happen after step 2; checked all the same */
        uzs_auth_fail(res, UZS_AUTH_WRONG_ALG, NULL, "libjwt reports alg %s", jwt_alg_str(jwt_get_alg(jwt)));
        goto out;
    }
    grants = jwt_get_grants_json(jwt, NULL);
    json_error_t jerr;
    claims = grants ? json_loads(grants, 0, &jerr) : NULL;
    if (!json_is_object(claims)) {
        uzs_auth_fail(res, UZS_AUTH_INTERNAL, NULL, "could not read the claims back from libjwt");
        goto out;
    }
    json_t *exp = json_object_get(claims, "exp");
    if (!exp) {
        uzs_auth_fail(res, UZS_AUTH_MALFORMED, "the token has no exp (expiry) claim", "JWT without exp");
        goto out;
    }
    if (!json_is_number(exp)) {
        uzs_auth_fail(res, UZS_AUTH_MALFORMED, "the token's exp claim is not a number", "JWT exp not a number");
        goto out;
    }
    json_t *nbf = json_object_get(claims, "nbf");
    if (nbf && !json_is_number(nbf)) {
        uzs_auth_fail(res, UZS_AUTH_MALFORMED, "the token's nbf claim is not a number", "JWT nbf not a number");
        goto out;
    }
    double t = (double)now, exp_v = json_number_value(exp);
    if (t >= exp_v + UZS_AUTH_LEEWAY_S) {
        uzs_auth_fail(res, UZS_AUTH_EXPIRED, NULL, "JWT expired %.0f s ago (leeway %d s)", t - exp_v,
                      UZS_AUTH_LEEWAY_S);
        goto out;
    }
    if (nbf && t < json_number_value(nbf) - UZS_AUTH_LEEWAY_S) {
        uzs_auth_fail(res, UZS_AUTH_NOT_YET_VALID, NULL, "JWT valid only in %.0f s (leeway %d s)",
                      json_number_value(nbf) - t, UZS_AUTH_LEEWAY_S);
        goto out;
    }
    json_t *sub = json_object_get(claims, "sub");
    uzs_auth_fail(res, UZS_AUTH_OK, NULL, "JWT");
    res->method = UZS_AUTH_METHOD_JWT;
    res->expires = clamp_ll(exp_v);
    if (json_is_string(sub)) copy_printable(res->subject, sizeof res->subject, json_string_value(sub));
    if (res->subject[0]) snprintf(res->detail, sizeof res->detail, "JWT sub \"%s\"", res->subject);

out:
    json_decref(header);
    json_decref(payload);
    json_decref(claims);
    if (jwt) jwt_free(jwt);
    free(grants);
    if (tokz) {
        OPENSSL_cleanse(tokz, len);
        free(tokz);
    }
    return res->status;
}
