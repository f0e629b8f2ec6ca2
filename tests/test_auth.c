/*
 * test_auth.c - authentication of `uzwhisper serve` (tools/serve/auth.h):
 *   - keys files: good files (comments, blanks, CRLF, repeats), each kind of bad line named by its
 *     number, all-or-nothing loading, missing and empty files, file modes; keys from the
 *     environment; the JWT secret from a file and its minimum length;
 *   - API keys accepted and refused, the Authorization header forms, auth off;
 *   - JWTs made here with libjwt and by hand (signed with OpenSSL HMAC): valid, expired, nbf in
 *     the future, the leeway edges, wrong secret, tampered claims, alg none / HS384 / HS512 /
 *     RS256 (a real RSA signature) / "hs256" / a repeated alg, garbage, missing or mistyped exp,
 *     two dots but bad base64, crit and typ;
 *   - messages never carry the credential; concurrent checks from several threads;
 *   - cross-check: tokens made by PyJWT, an independent implementation, verify (skipped with a
 *     message when python3 cannot import jwt: pip install pyjwt).
 */
#include <criterion/criterion.h>
#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"
#include "testutil.h"

#define NOW ((time_t)1700000000) /* a fixed "now" for every check */
#define SECRET "0123456789abcdef0123456789abcdef-test-secret"
#define KEY_A "alpha-key-0123456789"
#define KEY_B "bravo_KEY.9876543210+/=="
#define KEY_C "charlie~key~abcdefgh"

/* ---------------------------------------------------------------- helpers */

static char tmpdir[256];

static void make_tmp(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/uzs-auth-XXXXXX");
    cr_assert(mkdtemp(tmpdir), "mkdtemp failed");
}

static void drop_tmp(void) {
    if (tmpdir[0]) tu_rmtree(tmpdir);
    tmpdir[0] = 0;
}

static const char *write_tmp(const char *name, const char *text, mode_t mode) {
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    cr_assert_eq(tu_write_file(path, text, strlen(text)), 0, "cannot write %s", path);
    cr_assert_eq(chmod(path, mode), 0);
    return path;
}

static uzs_auth *auth_with(const char *keys_text, const char *secret) {
    uzs_auth *a = uzs_auth_new();
    cr_assert(a);
    char err[256] = "";
    if (keys_text) cr_assert_eq(uzs_auth_add_keys_text(a, keys_text, strlen(keys_text), 0, "test", err, sizeof err), 0,
                                "%s", err);
    if (secret) cr_assert_eq(uzs_auth_set_jwt_secret(a, secret, strlen(secret), "test", err, sizeof err), 0, "%s", err);
    return a;
}

/* the credential must appear in neither the client message nor the log detail */
static void expect_no_leak(const uzs_auth_result *r, const char *cred) {
    if (!cred || strlen(cred) < 10) return; /* "Bearer" alone may well be named in a message */
    cr_expect(!strstr(r->message, cred), "message \"%s\" repeats the credential", r->message);
    cr_expect(!strstr(r->detail, cred), "detail \"%s\" repeats the credential", r->detail);
}

static uzs_auth_status check(const uzs_auth *a, const char *cred, uzs_auth_result *r) {
    uzs_auth_status s = uzs_auth_check(a, cred, NOW, r);
    cr_assert_eq(s, r->status);
    cr_assert(r->message[0], "empty message");
    expect_no_leak(r, cred);
    return s;
}

#define EXPECT_STATUS(a, cred, want)                                                                           \
    do {                                                                                                       \
        uzs_auth_result r_;                                                                                    \
        uzs_auth_status s_ = check((a), (cred), &r_);                                                          \
        cr_expect_eq(s_, (want), "%s: got %s (%s; %s), expected %s", #cred, uzs_auth_status_name(s_),        \
                     r_.message, r_.detail, uzs_auth_status_name(want));                                       \
    } while (0)

/* base64url without padding, through OpenSSL's encoder (not the code under test) */
static void b64url(const void *data, size_t n, char *out) {
    unsigned char *tmp = malloc(4 * ((n + 2) / 3) + 1);
    cr_assert(tmp);
    int len = EVP_EncodeBlock(tmp, data, (int)n);
    int o = 0;
    for (int i = 0; i < len; i++) {
        char c = (char)tmp[i];
        if (c == '=') break;
        out[o++] = c == '+' ? '-' : c == '/' ? '_' : c;
    }
    out[o] = 0;
    free(tmp);
}

/* A JWT from raw header and payload JSON texts, signed HS256 with key (or sig_override as the
 * third part when not NULL). */
static char *hand_jwt(const char *header, const char *payload, const char *key, const char *sig_override) {
    static char tok[4096];
    char h[1024], p[2048];
    b64url(header, strlen(header), h);
    b64url(payload, strlen(payload), p);
    int n = snprintf(tok, sizeof tok, "%s.%s", h, p);
    if (sig_override) {
        snprintf(tok + n, sizeof tok - (size_t)n, ".%s", sig_override);
        return tok;
    }
    unsigned char mac[32];
    unsigned mac_len = 0;
    cr_assert(HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)tok, (size_t)n, mac, &mac_len));
    char s[64];
    b64url(mac, mac_len, s);
    snprintf(tok + n, sizeof tok - (size_t)n, ".%s", s);
    return tok;
}

/* A JWT made by libjwt: claims as JSON, alg with its key. malloc'ed (free()). */
static char *lib_jwt(jwt_alg_t alg, const void *key, size_t key_len, const char *claims_json) {
    jwt_t *j = NULL;
    cr_assert_eq(jwt_new(&j), 0);
    cr_assert_eq(jwt_add_grants_json(j, claims_json), 0, "bad claims %s", claims_json);
    cr_assert_eq(jwt_set_alg(j, alg, key, (int)key_len), 0);
    char *t = jwt_encode_str(j);
    cr_assert(t, "jwt_encode_str failed");
    jwt_free(j);
    return t;
}

static char *hs256(const char *key, const char *claims_json) {
    return lib_jwt(JWT_ALG_HS256, key, strlen(key), claims_json);
}

static char *claims(const char *fmt, long long a, long long b) {
    static char buf[512];
    snprintf(buf, sizeof buf, fmt, a, b);
    return buf;
}

/* ---------------------------------------------------------------- keys files */

TestSuite(auth_keys, .init = make_tmp, .fini = drop_tmp);

Test(auth_keys, good_file) {
    const char *path = write_tmp("keys", "# API keys of the test\n"
                                         "\n"
                                         "   " KEY_A "   \n"
                                         "\t# an indented comment\n"
                                         KEY_B "\r\n"
                                         KEY_A "\n" /* repeated: kept once */
                                         "\t" KEY_C,
                                 0600);
    uzs_auth *a = uzs_auth_new();
    char err[256] = "";
    cr_assert_eq(uzs_auth_load_keys_file(a, path, err, sizeof err), 0, "%s", err);
    cr_expect_eq(uzs_auth_n_keys(a), 3);
    cr_expect(uzs_auth_enabled(a));
    cr_expect(!uzs_auth_has_jwt(a));
    cr_expect_null(uzs_auth_warning(a), "0600 file warned: %s", uzs_auth_warning(a));
    const char *keys[] = {KEY_A, KEY_B, KEY_C};
    for (int i = 0; i < 3; i++) {
        uzs_auth_result r;
        cr_expect_eq(check(a, keys[i], &r), UZS_AUTH_OK, "%s: %s", keys[i], r.message);
        cr_expect_eq(r.method, UZS_AUTH_METHOD_API_KEY);
        cr_expect_eq(r.key_index, i, "key %d has index %d", i, r.key_index);
    }
    uzs_auth_free(a);
}

static void expect_bad_file(const char *text, const char *line_tag, const char *reason) {
    const char *path = write_tmp("bad", text, 0600);
    uzs_auth *a = auth_with(KEY_C "\n", NULL); /* one key before: must survive a failed load */
    char err[256] = "";
    cr_expect_eq(uzs_auth_load_keys_file(a, path, err, sizeof err), -1, "accepted: %s", text);
    cr_expect(strstr(err, line_tag), "error \"%s\" does not name %s", err, line_tag);
    cr_expect(strstr(err, reason), "error \"%s\" does not say \"%s\"", err, reason);
    cr_expect(strstr(err, path), "error \"%s\" does not name the file", err);
    cr_expect_eq(uzs_auth_n_keys(a), 1, "a failed load changed the keys");
    uzs_auth_result r;
    cr_expect_eq(check(a, KEY_A, &r), UZS_AUTH_UNKNOWN_KEY, "a key before the bad line was kept");
    uzs_auth_free(a);
}

Test(auth_keys, bad_lines_are_named) {
    expect_bad_file(KEY_A "\nshort-key\n", "line 2", "at least 16");
    expect_bad_file("# c\n" KEY_A "\nabcdefgh\x01ijklmnopq\n", "line 3", "control character 0x01");
    expect_bad_file(KEY_A "\nabcdefgh\tijklmnopq\n", "line 2", "control character 0x09");
    expect_bad_file(KEY_A "\nabcdefgh\x7fijklmnopq\n", "line 2", "control character 0x7f");
    expect_bad_file("abcdefgh\xc3\xa9ijklmnopq\n", "line 1", "non-ASCII");
    expect_bad_file("abcdefgh ijklmnopq\n", "line 1", "' '");
    expect_bad_file("abcdefgh@ijklmnopq\n", "line 1", "'@'");
    expect_bad_file("abcdefgh=ijklmnopq\n", "line 1", "only at the end");
    expect_bad_file("abcdefgh.ijklm.nopq\n", "line 1", "two dots");
    char longkey[UZS_AUTH_MAX_KEY_LEN + 3];
    memset(longkey, 'k', UZS_AUTH_MAX_KEY_LEN + 1);
    longkey[UZS_AUTH_MAX_KEY_LEN + 1] = '\n';
    longkey[UZS_AUTH_MAX_KEY_LEN + 2] = 0;
    expect_bad_file(longkey, "line 1", "at most");
}

Test(auth_keys, missing_and_empty_files) {
    uzs_auth *a = uzs_auth_new();
    char err[256] = "", path[512];
    snprintf(path, sizeof path, "%s/does-not-exist", tmpdir);
    cr_expect_eq(uzs_auth_load_keys_file(a, path, err, sizeof err), -1);
    cr_expect(strstr(err, path) && strstr(err, "No such file"), "%s", err);
    cr_expect_eq(uzs_auth_load_keys_file(a, tmpdir, err, sizeof err), -1, "a folder was accepted");
    cr_expect(strstr(err, "not a regular file"), "%s", err);
    const char *empty = write_tmp("empty", "", 0600);
    cr_expect_eq(uzs_auth_load_keys_file(a, empty, err, sizeof err), 0, "%s", err);
    const char *comments = write_tmp("comments", "# nothing here\n\n   \n", 0600);
    cr_expect_eq(uzs_auth_load_keys_file(a, comments, err, sizeof err), 0, "%s", err);
    cr_expect_eq(uzs_auth_n_keys(a), 0);
    cr_expect(!uzs_auth_enabled(a), "no keys, yet auth is on");
    uzs_auth_free(a);
}

Test(auth_keys, file_modes) {
    char err[256] = "";
    uzs_auth *a = uzs_auth_new();
    const char *w = write_tmp("ww", KEY_A "\n", 0666);
    cr_expect_eq(uzs_auth_load_keys_file(a, w, err, sizeof err), -1, "a world-writable keys file was accepted");
    cr_expect(strstr(err, "write"), "%s", err);
    const char *r = write_tmp("wr", KEY_A "\n", 0644); /* a Kubernetes Secret volume's default */
    cr_expect_eq(uzs_auth_load_keys_file(a, r, err, sizeof err), 0, "%s", err);
    cr_expect(uzs_auth_warning(a) && strstr(uzs_auth_warning(a), "readable by every user"), "no warning for 0644");
    uzs_auth_free(a);
}

Test(auth_keys, environment) {
    char err[256] = "";
    setenv("UZS_TEST_KEYS", " " KEY_A " ," KEY_B "\n" KEY_C ",,", 1);
    setenv("UZS_TEST_SECRET", SECRET, 1);
    uzs_auth *a = uzs_auth_new();
    int added = 0;
    cr_assert_eq(uzs_auth_load_env(a, "UZS_TEST_KEYS", "UZS_TEST_SECRET", &added, err, sizeof err), 0, "%s", err);
    cr_expect_eq(added, 1);
    cr_expect_eq(uzs_auth_n_keys(a), 3);
    cr_expect(uzs_auth_has_jwt(a));
    EXPECT_STATUS(a, KEY_C, UZS_AUTH_OK);
    char *t = hs256(SECRET, claims("{\"exp\":%lld}", NOW + 60, 0));
    EXPECT_STATUS(a, t, UZS_AUTH_OK);
    free(t);
    uzs_auth_free(a);

    /* unset variables add nothing; a bad item is named */
    unsetenv("UZS_TEST_SECRET");
    setenv("UZS_TEST_KEYS", KEY_A ",tiny", 1);
    a = uzs_auth_new();
    cr_expect_eq(uzs_auth_load_env(a, "UZS_TEST_KEYS", "UZS_TEST_SECRET", &added, err, sizeof err), -1);
    cr_expect(strstr(err, "UZS_TEST_KEYS") && strstr(err, "item 2"), "%s", err);
    unsetenv("UZS_TEST_KEYS");
    cr_expect_eq(uzs_auth_load_env(a, "UZS_TEST_KEYS", "UZS_TEST_SECRET", &added, err, sizeof err), 0, "%s", err);
    cr_expect_eq(added, 0);
    cr_expect(!uzs_auth_enabled(a));
    uzs_auth_free(a);
}

Test(auth_keys, jwt_secret_file) {
    char err[256] = "";
    uzs_auth *a = uzs_auth_new();
    const char *p = write_tmp("secret", SECRET "\r\n\n", 0600);
    cr_assert_eq(uzs_auth_load_jwt_secret_file(a, p, err, sizeof err), 0, "%s", err);
    char *t = hs256(SECRET, claims("{\"exp\":%lld}", NOW + 60, 0)); /* signed without the newline */
    EXPECT_STATUS(a, t, UZS_AUTH_OK);
    free(t);
    cr_expect_eq(uzs_auth_load_jwt_secret_file(a, p, err, sizeof err), -1, "a second secret was accepted");
    cr_expect(strstr(err, "already"), "%s", err);
    uzs_auth_free(a);

    a = uzs_auth_new();
    const char *s = write_tmp("short", "only-31-bytes-of-secret-xxxxxxx\n", 0600);
    cr_expect_eq(uzs_auth_load_jwt_secret_file(a, s, err, sizeof err), -1, "a 31-byte secret was accepted");
    cr_expect(strstr(err, "31 bytes") && strstr(err, "32"), "%s", err);
    cr_expect(!uzs_auth_enabled(a));
    uzs_auth_free(a);
}

Test(auth_keys, many_keys_last_one_found) {
    size_t cap = 1000 * 24 + 1;
    char *text = malloc(cap), *p = text;
    for (int i = 0; i < 1000; i++) p += sprintf(p, "key-number-%08d-x\n", i);
    uzs_auth *a = auth_with(text, NULL);
    cr_expect_eq(uzs_auth_n_keys(a), 1000);
    uzs_auth_result r;
    cr_expect_eq(check(a, "key-number-00000999-x", &r), UZS_AUTH_OK);
    cr_expect_eq(r.key_index, 999);
    cr_expect_eq(check(a, "key-number-00000000-x", &r), UZS_AUTH_OK);
    cr_expect_eq(r.key_index, 0);
    cr_expect_eq(check(a, "key-number-00001000-x", &r), UZS_AUTH_UNKNOWN_KEY);
    uzs_auth_free(a);
    free(text);
}

/* ---------------------------------------------------------------- API keys and header forms */

Test(auth_check, api_keys) {
    uzs_auth *a = auth_with(KEY_A "\n" KEY_B "\n", NULL);
    EXPECT_STATUS(a, KEY_A, UZS_AUTH_OK);
    EXPECT_STATUS(a, KEY_B, UZS_AUTH_OK);
    EXPECT_STATUS(a, "alpha-key-0123456788", UZS_AUTH_UNKNOWN_KEY);  /* last byte differs */
    EXPECT_STATUS(a, "alpha-key-012345678", UZS_AUTH_UNKNOWN_KEY);   /* a prefix */
    EXPECT_STATUS(a, KEY_A "0", UZS_AUTH_UNKNOWN_KEY);               /* longer */
    EXPECT_STATUS(a, "ALPHA-KEY-0123456789", UZS_AUTH_UNKNOWN_KEY);  /* keys are case-sensitive */
    EXPECT_STATUS(a, "x", UZS_AUTH_UNKNOWN_KEY);
    uzs_auth_result r;
    check(a, "Bearer alpha-key-0123456788", &r);
    cr_expect_str_eq(r.message, "invalid API key");
    cr_expect_eq(r.method, UZS_AUTH_METHOD_NONE);
    cr_expect_eq(r.key_index, -1);
    uzs_auth_free(a);
}

Test(auth_check, header_forms) {
    uzs_auth *a = auth_with(KEY_A "\n", NULL);
    EXPECT_STATUS(a, "Bearer " KEY_A, UZS_AUTH_OK);
    EXPECT_STATUS(a, "bearer " KEY_A, UZS_AUTH_OK);
    EXPECT_STATUS(a, "BEARER    " KEY_A, UZS_AUTH_OK);
    EXPECT_STATUS(a, " \tBearer\t" KEY_A " \t", UZS_AUTH_OK);
    EXPECT_STATUS(a, KEY_A, UZS_AUTH_OK);          /* bare: the TCP handshake's api_key */
    EXPECT_STATUS(a, "  " KEY_A "  ", UZS_AUTH_OK);
    EXPECT_STATUS(a, NULL, UZS_AUTH_MISSING);
    EXPECT_STATUS(a, "", UZS_AUTH_MISSING);
    EXPECT_STATUS(a, " \t ", UZS_AUTH_MISSING);
    EXPECT_STATUS(a, "Bearer", UZS_AUTH_MALFORMED);
    EXPECT_STATUS(a, "Bearer   ", UZS_AUTH_MALFORMED);
    EXPECT_STATUS(a, "Basic YWxhZGRpbjpvcGVuc2VzYW1l", UZS_AUTH_MALFORMED);
    EXPECT_STATUS(a, "Bearerx " KEY_A, UZS_AUTH_MALFORMED);
    EXPECT_STATUS(a, "Bearer " KEY_A " extra", UZS_AUTH_MALFORMED);
    EXPECT_STATUS(a, "Bearer alpha-key-0123\"456789", UZS_AUTH_MALFORMED);
    EXPECT_STATUS(a, "Bearer alpha=key-0123456789", UZS_AUTH_MALFORMED);
    EXPECT_STATUS(a, "Bearer\r\n" KEY_A, UZS_AUTH_MALFORMED);
    uzs_auth_result r;
    /* a NUL inside (a JSON string can hold one): malformed, not truncated to the valid key */
    const char nul[] = KEY_A "\0junk";
    cr_expect_eq(uzs_auth_check_n(a, nul, sizeof nul - 1, NOW, &r), UZS_AUTH_MALFORMED, "%s", r.message);
    cr_expect_eq(uzs_auth_check_n(a, nul, strlen(KEY_A), NOW, &r), UZS_AUTH_OK, "%s", r.message);
    /* too long */
    size_t big = UZS_AUTH_MAX_CREDENTIAL_LEN + 10;
    char *huge = malloc(big + 1);
    memset(huge, 'a', big);
    huge[big] = 0;
    cr_expect_eq(uzs_auth_check(a, huge, NOW, &r), UZS_AUTH_MALFORMED);
    cr_expect(strstr(r.message, "too long"), "%s", r.message);
    free(huge);
    uzs_auth_free(a);
}

Test(auth_check, auth_off) {
    uzs_auth *a = uzs_auth_new();
    uzs_auth_result r;
    cr_expect(!uzs_auth_enabled(a));
    const char *creds[] = {NULL, "", "garbage", "Basic abc", "Bearer x.y.z"};
    for (int i = 0; i < 5; i++) {
        cr_expect_eq(uzs_auth_check(a, creds[i], NOW, &r), UZS_AUTH_OK);
        cr_expect_eq(r.method, UZS_AUTH_METHOD_OFF);
    }
    cr_expect_eq(uzs_auth_check(NULL, "anything", NOW, &r), UZS_AUTH_OK);
    cr_expect_eq(r.method, UZS_AUTH_METHOD_OFF);
    uzs_auth_free(a);
    uzs_auth_free(NULL);
}

Test(auth_check, names_and_http) {
    const char *want[] = {"ok",          "missing",       "malformed", "unknown_key", "bad_signature",
                          "expired",     "not_yet_valid", "wrong_alg", "internal"};
    for (int s = 0; s < UZS_AUTH_N_STATUS; s++) cr_expect_str_eq(uzs_auth_status_name((uzs_auth_status)s), want[s]);
    cr_expect_eq(uzs_auth_http_status(UZS_AUTH_OK), 200);
    cr_expect_eq(uzs_auth_http_status(UZS_AUTH_EXPIRED), 401);
    cr_expect_eq(uzs_auth_http_status(UZS_AUTH_MISSING), 401);
    cr_expect_eq(uzs_auth_http_status(UZS_AUTH_INTERNAL), 500);
    cr_expect_str_eq(uzs_auth_www_authenticate(UZS_AUTH_MISSING), "Bearer realm=\"uzwhisper\"");
    cr_expect(strstr(uzs_auth_www_authenticate(UZS_AUTH_BAD_SIGNATURE), "error=\"invalid_token\""));
    cr_expect(strstr(uzs_auth_www_authenticate(UZS_AUTH_MALFORMED), "error=\"invalid_request\""));
    cr_expect_null(uzs_auth_www_authenticate(UZS_AUTH_OK));
}

/* ---------------------------------------------------------------- JWTs */

Test(auth_jwt, valid_and_claims) {
    uzs_auth *a = auth_with(KEY_A "\n", SECRET);
    char *t = hs256(SECRET, claims("{\"sub\":\"alice\",\"exp\":%lld,\"iat\":%lld}", NOW + 3600, NOW));
    uzs_auth_result r;
    cr_expect_eq(check(a, t, &r), UZS_AUTH_OK, "%s (%s)", r.message, r.detail);
    cr_expect_eq(r.method, UZS_AUTH_METHOD_JWT);
    cr_expect_str_eq(r.subject, "alice");
    cr_expect_eq(r.expires, (long long)NOW + 3600);
    cr_expect_eq(r.key_index, -1);
    char hdr[4200];
    snprintf(hdr, sizeof hdr, "Bearer %s", t);
    EXPECT_STATUS(a, hdr, UZS_AUTH_OK);
    free(t);
    /* exp as a real number; a sub that is not a string is ignored; control bytes in sub masked */
    EXPECT_STATUS(a, hand_jwt("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", "{\"exp\":1700000100.5,\"sub\":7}", SECRET, NULL),
                  UZS_AUTH_OK);
    check(a, hand_jwt("{\"alg\":\"HS256\"}", "{\"exp\":1700000100,\"sub\":\"a\\nb\\u00e9\"}", SECRET, NULL), &r);
    cr_expect_eq(r.status, UZS_AUTH_OK, "%s", r.detail);
    cr_expect_str_eq(r.subject, "a?b??");
    uzs_auth_free(a);
}

Test(auth_jwt, time_claims_and_leeway) {
    uzs_auth *a = auth_with(NULL, SECRET);
    struct {
        long long exp, nbf; /* nbf 0: absent */
        uzs_auth_status want;
    } cases[] = {
        {NOW - 3600, 0, UZS_AUTH_EXPIRED},
        {NOW - UZS_AUTH_LEEWAY_S, 0, UZS_AUTH_EXPIRED},     /* now == exp + leeway: expired */
        {NOW - UZS_AUTH_LEEWAY_S + 1, 0, UZS_AUTH_OK},      /* within the leeway             */
        {NOW, 0, UZS_AUTH_OK},
        {NOW + 60, NOW + 3600, UZS_AUTH_NOT_YET_VALID},
        {NOW + 3600, NOW + UZS_AUTH_LEEWAY_S + 1, UZS_AUTH_NOT_YET_VALID},
        {NOW + 3600, NOW + UZS_AUTH_LEEWAY_S, UZS_AUTH_OK}, /* now == nbf - leeway: valid   */
        {NOW + 3600, NOW - 10, UZS_AUTH_OK},
        {NOW - 3600, NOW + 3600, UZS_AUTH_EXPIRED},         /* both wrong: expiry reported */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *t = cases[i].nbf ? hs256(SECRET, claims("{\"exp\":%lld,\"nbf\":%lld}", cases[i].exp, cases[i].nbf))
                               : hs256(SECRET, claims("{\"exp\":%lld}", cases[i].exp, 0));
        uzs_auth_result r;
        check(a, t, &r);
        cr_expect_eq(r.status, cases[i].want, "case %zu: got %s (%s), expected %s", i, uzs_auth_status_name(r.status),
                     r.detail, uzs_auth_status_name(cases[i].want));
        free(t);
    }
    uzs_auth_free(a);
}

Test(auth_jwt, signatures) {
    uzs_auth *a = auth_with(KEY_A "\n", SECRET);
    const char *other = "another-secret-of-at-least-32-bytes!!";
    char *t = hs256(other, claims("{\"exp\":%lld}", NOW + 60, 0));
    EXPECT_STATUS(a, t, UZS_AUTH_BAD_SIGNATURE);
    free(t);
    /* tampered claims under the original signature */
    t = hs256(SECRET, claims("{\"exp\":%lld,\"sub\":\"alice\"}", NOW + 60, 0));
    char *dot = strchr(t, '.') + 1;
    dot[2] = dot[2] == 'A' ? 'B' : 'A';
    EXPECT_STATUS(a, t, UZS_AUTH_BAD_SIGNATURE);
    free(t);
    /* a signature of the wrong length, and an empty one */
    const char *h = "{\"alg\":\"HS256\"}", *p = "{\"exp\":1700000060}";
    EXPECT_STATUS(a, hand_jwt(h, p, NULL, "c2lnbmF0dXJl"), UZS_AUTH_BAD_SIGNATURE);
    EXPECT_STATUS(a, hand_jwt(h, p, NULL, ""), UZS_AUTH_BAD_SIGNATURE);
    /* a JWT where only API keys are configured */
    uzs_auth *k = auth_with(KEY_A "\n", NULL);
    uzs_auth_result r;
    check(k, hand_jwt(h, p, SECRET, NULL), &r);
    cr_expect_eq(r.status, UZS_AUTH_UNKNOWN_KEY);
    cr_expect(strstr(r.message, "JSON Web Tokens"), "%s", r.message);
    uzs_auth_free(k);
    uzs_auth_free(a);
}

/* An RS256 token with a real RSA signature (key made here). */
static char *rs256_token(void) {
    EVP_PKEY *pk = EVP_RSA_gen(2048);
    cr_assert(pk, "RSA key generation failed");
    BIO *bio = BIO_new(BIO_s_mem());
    cr_assert(PEM_write_bio_PrivateKey(bio, pk, NULL, NULL, 0, NULL, NULL));
    char *pem = NULL;
    long n = BIO_get_mem_data(bio, &pem);
    char *t = lib_jwt(JWT_ALG_RS256, pem, (size_t)n, claims("{\"exp\":%lld}", NOW + 60, 0));
    BIO_free(bio);
    EVP_PKEY_free(pk);
    return t;
}

Test(auth_jwt, algorithms_refused) {
    uzs_auth *a = auth_with(NULL, SECRET);
    const char *c = claims("{\"exp\":%lld}", NOW + 60, 0);
    char *t = lib_jwt(JWT_ALG_NONE, NULL, 0, c);
    cr_expect(t[strlen(t) - 1] == '.', "alg none token should end with an empty signature: %s", t);
    EXPECT_STATUS(a, t, UZS_AUTH_WRONG_ALG);
    free(t);
    t = lib_jwt(JWT_ALG_HS384, SECRET, strlen(SECRET), c);
    EXPECT_STATUS(a, t, UZS_AUTH_WRONG_ALG);
    free(t);
    t = lib_jwt(JWT_ALG_HS512, SECRET, strlen(SECRET), c);
    EXPECT_STATUS(a, t, UZS_AUTH_WRONG_ALG);
    free(t);
    t = rs256_token();
    EXPECT_STATUS(a, t, UZS_AUTH_WRONG_ALG);
    free(t);
    /* signed correctly with the secret, yet the header does not say exactly HS256 */
    const char *p = "{\"exp\":1700000060}";
    EXPECT_STATUS(a, hand_jwt("{\"alg\":\"hs256\"}", p, SECRET, NULL), UZS_AUTH_WRONG_ALG);
    EXPECT_STATUS(a, hand_jwt("{\"alg\":\"none\"}", p, SECRET, NULL), UZS_AUTH_WRONG_ALG);
    EXPECT_STATUS(a, hand_jwt("{\"typ\":\"JWT\"}", p, SECRET, NULL), UZS_AUTH_WRONG_ALG);
    EXPECT_STATUS(a, hand_jwt("{\"alg\":256}", p, SECRET, NULL), UZS_AUTH_WRONG_ALG);
    EXPECT_STATUS(a, hand_jwt("{\"alg\":\"HS256 \"}", p, SECRET, NULL), UZS_AUTH_WRONG_ALG);
    /* a repeated alg (the classic parser-differential trick) is refused outright */
    EXPECT_STATUS(a, hand_jwt("{\"alg\":\"none\",\"alg\":\"HS256\"}", p, SECRET, NULL), UZS_AUTH_MALFORMED);
    EXPECT_STATUS(a, hand_jwt("{\"alg\":\"HS256\",\"alg\":\"HS256\"}", p, SECRET, NULL), UZS_AUTH_MALFORMED);
    uzs_auth_result r;
    check(a, hand_jwt("{\"alg\":\"none\"}", p, SECRET, NULL), &r);
    cr_expect_str_eq(r.message, "only HS256 tokens are accepted");
    uzs_auth_free(a);
}

Test(auth_jwt, malformed_tokens) {
    uzs_auth *a = auth_with(NULL, SECRET);
    const char *h = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
    /* structure and base64url */
    EXPECT_STATUS(a, "a.b.c", UZS_AUTH_MALFORMED);              /* 1 character cannot be base64url */
    EXPECT_STATUS(a, "abcd.efgh.ijkl", UZS_AUTH_MALFORMED);     /* decodes, but not JSON */
    EXPECT_STATUS(a, ".eyJleHAiOjF9.abc", UZS_AUTH_MALFORMED);  /* empty header */
    EXPECT_STATUS(a, "eyJhbGciOiJIUzI1NiJ9..abc", UZS_AUTH_MALFORMED);
    EXPECT_STATUS(a, "eyJhbGciOiJIUzI1NiJ9=.eyJleHAiOjF9.abcd", UZS_AUTH_MALFORMED); /* '=' inside */
    EXPECT_STATUS(a, "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjF9.abcd=", UZS_AUTH_MALFORMED); /* padding */
    EXPECT_STATUS(a, "eyJhbGci+iJIUzI1NiJ9.eyJleHAiOjF9.abcd", UZS_AUTH_MALFORMED);  /* base64, not url */
    EXPECT_STATUS(a, "eyJhbGci/iJIUzI1NiJ9.eyJleHAiOjF9.abcd", UZS_AUTH_MALFORMED);
    EXPECT_STATUS(a, "e$J.x.y", UZS_AUTH_MALFORMED);
    {   /* a non-canonical spelling of the right signature (unused low bits set in its last character) */
        char t[1024];
        snprintf(t, sizeof t, "%s", hand_jwt(h, "{\"exp\":1700000060}", SECRET, NULL));
        EXPECT_STATUS(a, t, UZS_AUTH_OK);
        char *last = t + strlen(t) - 1;
        const char *alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        int v = (int)(strchr(alphabet, *last) - alphabet);
        *last = alphabet[v ^ 1]; /* 43 characters: the last one carries 4 bits + 2 unused */
        uzs_auth_result rr;
        check(a, t, &rr);
        cr_expect_eq(rr.status, UZS_AUTH_MALFORMED, "non-canonical signature: %s", uzs_auth_status_name(rr.status));
        cr_expect(strstr(rr.detail, "base64url"), "refused for the wrong reason: %s", rr.detail);
    }
    /* header JSON that is not an object, crit, typ */
    EXPECT_STATUS(a, hand_jwt("[\"HS256\"]", "{\"exp\":1700000060}", SECRET, NULL), UZS_AUTH_MALFORMED);
    EXPECT_STATUS(a, hand_jwt("{\"alg\":\"HS256\",\"crit\":[\"b64\"]}", "{\"exp\":1700000060}", SECRET, NULL),
                  UZS_AUTH_MALFORMED);
    EXPECT_STATUS(a, hand_jwt("{\"alg\":\"HS256\",\"typ\":\"at+jwt\"}", "{\"exp\":1700000060}", SECRET, NULL),
                  UZS_AUTH_MALFORMED);
    EXPECT_STATUS(a, hand_jwt("{\"alg\":\"HS256\",\"typ\":\"jwt\"}", "{\"exp\":1700000060}", SECRET, NULL),
                  UZS_AUTH_OK);
    /* claims, signed correctly */
    uzs_auth_result r;
    check(a, hand_jwt(h, "{\"sub\":\"alice\"}", SECRET, NULL), &r);
    cr_expect_eq(r.status, UZS_AUTH_MALFORMED);
    cr_expect(strstr(r.message, "no exp"), "%s", r.message);
    EXPECT_STATUS(a, hand_jwt(h, "{\"exp\":\"1700000060\"}", SECRET, NULL), UZS_AUTH_MALFORMED);
    EXPECT_STATUS(a, hand_jwt(h, "{\"exp\":true}", SECRET, NULL), UZS_AUTH_MALFORMED);
    EXPECT_STATUS(a, hand_jwt(h, "{\"exp\":null}", SECRET, NULL), UZS_AUTH_MALFORMED);
    EXPECT_STATUS(a, hand_jwt(h, "{\"exp\":1700000060,\"nbf\":\"0\"}", SECRET, NULL), UZS_AUTH_MALFORMED);
    EXPECT_STATUS(a, hand_jwt(h, "{\"exp\":1700000060,\"exp\":1800000000}", SECRET, NULL), UZS_AUTH_MALFORMED);
    EXPECT_STATUS(a, hand_jwt(h, "[1700000060]", SECRET, NULL), UZS_AUTH_MALFORMED);
    EXPECT_STATUS(a, hand_jwt(h, "not json", SECRET, NULL), UZS_AUTH_MALFORMED);
    EXPECT_STATUS(a, hand_jwt(h, "{\"exp\":1e400}", SECRET, NULL), UZS_AUTH_MALFORMED);
    /* a raw NUL byte in the claims or the header (fuzz_auth found that Jansson's length-based
     * parse skips it where libjwt's stops): refused before either parser sees it */
    {
        char hb[64], pb[64], tok[256];
        const char payload_nul[] = "{\"exp\":175\0\n,\"nbf\":1}", header_nul[] = "{\"alg\":\"HS256\"\0}";
        b64url(h, strlen(h), hb);
        b64url(payload_nul, sizeof payload_nul - 1, pb);
        snprintf(tok, sizeof tok, "%s.%s", hb, pb);
        unsigned char mac[32];
        unsigned ml = 0;
        HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET), (const unsigned char *)tok, strlen(tok), mac, &ml);
        char sb[64];
        b64url(mac, ml, sb);
        strcat(tok, ".");
        strcat(tok, sb);
        check(a, tok, &r);
        cr_expect_eq(r.status, UZS_AUTH_MALFORMED, "NUL in the claims: %s (%s)", uzs_auth_status_name(r.status),
                     r.detail);
        cr_expect(!strstr(r.detail, "libjwt"), "%s", r.detail);
        b64url(header_nul, sizeof header_nul - 1, hb);
        b64url("{\"exp\":1700000060}", 18, pb);
        snprintf(tok, sizeof tok, "%s.%s.%s", hb, pb, sb); /* the signature does not matter: the header comes first */
        EXPECT_STATUS(a, tok, UZS_AUTH_MALFORMED);
    }
    EXPECT_STATUS(a, hand_jwt(h, "{\"exp\":1e300}", SECRET, NULL), UZS_AUTH_OK);
    /* the lower-level entry point on its own */
    const char *t = hand_jwt(h, "{\"exp\":1700000060}", SECRET, NULL);
    cr_expect_eq(uzs_auth_verify_jwt((const unsigned char *)SECRET, strlen(SECRET), t, strlen(t), NOW, &r),
                 UZS_AUTH_OK, "%s", r.detail);
    cr_expect_eq(uzs_auth_verify_jwt(NULL, 0, t, strlen(t), NOW, &r), UZS_AUTH_UNKNOWN_KEY);
    cr_expect_eq(uzs_auth_verify_jwt((const unsigned char *)SECRET, strlen(SECRET), "abc", 3, NOW, &r),
                 UZS_AUTH_MALFORMED);
    cr_expect_eq(uzs_auth_verify_jwt((const unsigned char *)SECRET, strlen(SECRET), "a.b.c.d", 7, NOW, &r),
                 UZS_AUTH_MALFORMED);
    uzs_auth_free(a);
}

/* ---------------------------------------------------------------- threads */

typedef struct {
    const uzs_auth *a;
    const char *jwt;
    int bad;
} thread_arg;

static void *check_many(void *p) {
    thread_arg *t = p;
    for (int i = 0; i < 2000; i++) {
        uzs_auth_result r;
        const char *cred = (i % 3 == 0) ? KEY_B : (i % 3 == 1) ? t->jwt : "wrong-key-1234567890";
        uzs_auth_status want = (i % 3 == 2) ? UZS_AUTH_UNKNOWN_KEY : UZS_AUTH_OK;
        if (uzs_auth_check(t->a, cred, NOW, &r) != want) t->bad++;
    }
    return NULL;
}

Test(auth_check, concurrent_checks) {
    uzs_auth *a = auth_with(KEY_A "\n" KEY_B "\n", SECRET);
    char *jwt = hs256(SECRET, claims("{\"exp\":%lld}", NOW + 60, 0));
    pthread_t th[4];
    thread_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (thread_arg){a, jwt, 0};
        cr_assert_eq(pthread_create(&th[i], NULL, check_many, &args[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        cr_expect_eq(args[i].bad, 0, "thread %d: %d wrong results", i, args[i].bad);
    }
    free(jwt);
    uzs_auth_free(a);
}

/* ---------------------------------------------------------------- PyJWT cross-check */

/* Make a token with PyJWT: algorithm alg, key, claims as a Python dict literal. Skips the test
 * when python3 has no jwt module. */
static void pyjwt(const char *alg, const char *key, const char *claims_py, char *out, size_t cap) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "python3 -c 'import sys, warnings\n"
             "warnings.simplefilter(\"ignore\")\n"
             "try:\n import jwt\n"
             "except ImportError:\n print(\"no-pyjwt\"); sys.exit(77)\n"
             "print(jwt.encode(%s, sys.argv[1], algorithm=sys.argv[2]))' '%s' '%s'",
             claims_py, key, alg);
    int rc = tu_run(cmd, out, cap);
    if (rc == 77 || rc == 127)
        cr_skip_test("PyJWT is not importable by python3 (pip install pyjwt): the cross-check needs it");
    cr_assert_eq(rc, 0, "PyJWT failed: %s", out);
    out[strcspn(out, "\r\n")] = 0;
}

Test(auth_jwt, pyjwt_tokens_verify) {
    uzs_auth *a = auth_with(NULL, SECRET);
    char tok[2048];
    pyjwt("HS256", SECRET, "{\"sub\": \"bob\", \"exp\": 1700003600, \"nbf\": 1699999000, \"iat\": 1699999000}", tok,
          sizeof tok);
    uzs_auth_result r;
    cr_expect_eq(check(a, tok, &r), UZS_AUTH_OK, "PyJWT token %s: %s (%s)", tok, r.message, r.detail);
    cr_expect_str_eq(r.subject, "bob");
    cr_expect_eq(r.expires, 1700003600LL);
    pyjwt("HS256", SECRET, "{\"sub\": \"bob\", \"exp\": 1699990000}", tok, sizeof tok);
    EXPECT_STATUS(a, tok, UZS_AUTH_EXPIRED);
    pyjwt("HS256", SECRET, "{\"exp\": 1700003600, \"nbf\": 1700001000}", tok, sizeof tok);
    EXPECT_STATUS(a, tok, UZS_AUTH_NOT_YET_VALID);
    pyjwt("HS256", "a-different-secret-of-32-bytes-or-more", "{\"exp\": 1700003600}", tok, sizeof tok);
    EXPECT_STATUS(a, tok, UZS_AUTH_BAD_SIGNATURE);
    pyjwt("HS512", SECRET, "{\"exp\": 1700003600}", tok, sizeof tok);
    EXPECT_STATUS(a, tok, UZS_AUTH_WRONG_ALG);
    pyjwt("HS256", SECRET, "{\"sub\": \"carol\", \"exp\": 1700003600.25, \"roles\": [\"asr\"], \"x\": {\"y\": 1}}", tok,
          sizeof tok);
    cr_expect_eq(check(a, tok, &r), UZS_AUTH_OK, "%s (%s)", r.message, r.detail);
    cr_expect_str_eq(r.subject, "carol");
    uzs_auth_free(a);
}
