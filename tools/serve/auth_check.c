/* auth_check.c - checking one request's credentials: the Authorization header (or a bare token),
 * API keys compared in constant time over SHA-256 digests, JWTs handed to auth_jwt.c; the result
 * names, client messages, HTTP status and WWW-Authenticate values (rules: auth.h). */
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "auth_internal.h"

/* ---------------------------------------------------------------- names and messages */

static const char *const status_names[UZS_AUTH_N_STATUS] = {
    "ok", "missing", "malformed", "unknown_key", "bad_signature", "expired", "not_yet_valid", "wrong_alg", "internal",
};

/* what the client is told when the check has nothing more specific (never the credential itself) */
static const char *const status_messages[UZS_AUTH_N_STATUS] = {
    "authenticated",
    "authentication required: send Authorization: Bearer <API key or token>",
    "malformed credentials",
    "invalid API key",
    "invalid token signature",
    "token expired",
    "token not valid yet",
    "only HS256 tokens are accepted",
    "internal error while checking credentials",
};

const char *uzs_auth_status_name(uzs_auth_status s) {
    return (s >= 0 && s < UZS_AUTH_N_STATUS) ? status_names[s] : "invalid_status";
}

int uzs_auth_http_status(uzs_auth_status s) {
    if (s == UZS_AUTH_OK) return 200;
    if (s == UZS_AUTH_INTERNAL || s < 0 || s >= UZS_AUTH_N_STATUS) return 500;
    return 401;
}

const char *uzs_auth_www_authenticate(uzs_auth_status s) {
    switch (s) {
    case UZS_AUTH_MISSING: return "Bearer realm=\"uzwhisper\"";
    case UZS_AUTH_MALFORMED: return "Bearer realm=\"uzwhisper\", error=\"invalid_request\"";
    case UZS_AUTH_UNKNOWN_KEY:
    case UZS_AUTH_BAD_SIGNATURE:
    case UZS_AUTH_EXPIRED:
    case UZS_AUTH_NOT_YET_VALID:
    case UZS_AUTH_WRONG_ALG: return "Bearer realm=\"uzwhisper\", error=\"invalid_token\"";
    default: return NULL;
    }
}

void uzs_auth_fail(uzs_auth_result *res, uzs_auth_status s, const char *message, const char *detail_fmt, ...) {
    res->status = s;
    res->method = UZS_AUTH_METHOD_NONE;
    res->key_index = -1;
    res->subject[0] = 0;
    res->expires = 0;
    if (!message) message = (s >= 0 && s < UZS_AUTH_N_STATUS) ? status_messages[s] : "";
    snprintf(res->message, sizeof res->message, "%s", message);
    res->detail[0] = 0;
    if (detail_fmt) {
        va_list ap;
        va_start(ap, detail_fmt);
        vsnprintf(res->detail, sizeof res->detail, detail_fmt, ap);
        va_end(ap);
    }
}

/* ---------------------------------------------------------------- API keys */

/* Compare the key's digest with every stored digest: no early exit, and the index of the match is
 * picked with masks, so the work is the same whichever key (if any) matches. */
static uzs_auth_status check_api_key(const uzs_auth *a, const char *tok, size_t n, uzs_auth_result *res) {
    if (a->n_keys == 0) {
        uzs_auth_fail(res, UZS_AUTH_UNKNOWN_KEY, NULL, "an API key was presented but no keys are configured");
        return res->status;
    }
    unsigned char d[UZS_AUTH_DIGEST_LEN];
    if (!SHA256((const unsigned char *)tok, n, d)) {
        uzs_auth_fail(res, UZS_AUTH_INTERNAL, NULL, "SHA-256 failed");
        return res->status;
    }
    unsigned found = 0, idx = 0;
    for (int i = 0; i < a->n_keys; i++) {
        unsigned eq = (unsigned)(CRYPTO_memcmp(a->digests[i], d, UZS_AUTH_DIGEST_LEN) == 0);
        unsigned mask = 0u - eq;
        found |= eq;
        idx = (idx & ~mask) | ((unsigned)i & mask);
    }
    OPENSSL_cleanse(d, sizeof d);
    if (!found) {
        uzs_auth_fail(res, UZS_AUTH_UNKNOWN_KEY, NULL, "API key of %zu bytes not recognised", n);
        return res->status;
    }
    uzs_auth_fail(res, UZS_AUTH_OK, NULL, "API key #%u", idx);
    res->method = UZS_AUTH_METHOD_API_KEY;
    res->key_index = (int)idx;
    return UZS_AUTH_OK;
}

/* ---------------------------------------------------------------- the header */

static int blank(char c) { return c == ' ' || c == '\t'; }

uzs_auth_status uzs_auth_check_n(const uzs_auth *a, const char *s, size_t len, time_t now, uzs_auth_result *res) {
    if (!uzs_auth_enabled(a)) {
        uzs_auth_fail(res, UZS_AUTH_OK, "authentication is off", "no API keys and no JWT secret configured");
        res->method = UZS_AUTH_METHOD_OFF;
        return UZS_AUTH_OK;
    }
    if (!s) len = 0;
    if (len > UZS_AUTH_MAX_CREDENTIAL_LEN) {
        uzs_auth_fail(res, UZS_AUTH_MALFORMED, "credentials too long", "%zu bytes of credentials, more than %d", len,
                      UZS_AUTH_MAX_CREDENTIAL_LEN);
        return res->status;
    }
    size_t b = 0, e = len;
    while (b < e && blank(s[b])) b++;
    while (e > b && blank(s[e - 1])) e--;
    if (b == e) {
        uzs_auth_fail(res, UZS_AUTH_MISSING, NULL, "no credentials");
        return res->status;
    }
    /* the scheme: the first word when there are blanks inside */
    size_t w = b;
    while (w < e && !blank(s[w])) w++;
    size_t tb = b, te = e;
    if (w < e) {
        if (w - b != 6 || strncasecmp(s + b, "Bearer", 6) != 0) {
            uzs_auth_fail(res, UZS_AUTH_MALFORMED, "only the Bearer authentication scheme is accepted",
                          "credentials with a scheme other than Bearer");
            return res->status;
        }
        tb = w;
        while (tb < e && blank(s[tb])) tb++;
    } else if (e - b == 6 && strncasecmp(s + b, "Bearer", 6) == 0) {
        uzs_auth_fail(res, UZS_AUTH_MALFORMED, "no token after Bearer", "Bearer with no token");
        return res->status;
    }
    /* the token: RFC 6750 b64token characters, '=' only at the end; count the dots */
    size_t dots = 0, pad = 0;
    for (size_t i = tb; i < te; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '=') {
            pad++;
            continue;
        }
        if (pad || !uzs_auth_token_char(c)) {
            uzs_auth_fail(res, UZS_AUTH_MALFORMED, "the token has characters a Bearer token cannot have",
                          "byte 0x%02x at offset %zu of the token", c, i - tb);
            return res->status;
        }
        if (c == '.') dots++;
    }
    if (dots == 2) {
        if (!a->secret) {
            uzs_auth_fail(res, UZS_AUTH_UNKNOWN_KEY, "this server does not accept JSON Web Tokens",
                          "a JWT was presented but no JWT secret is configured");
            return res->status;
        }
        return uzs_auth_verify_jwt(a->secret, a->secret_len, s + tb, te - tb, now, res);
    }
    return check_api_key(a, s + tb, te - tb, res);
}

uzs_auth_status uzs_auth_check(const uzs_auth *a, const char *credentials, time_t now, uzs_auth_result *res) {
    return uzs_auth_check_n(a, credentials, credentials ? strlen(credentials) : 0, now, res);
}
