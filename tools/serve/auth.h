/* auth.h - who may use `uzwhisper serve`: API keys and HS256 JSON Web Tokens behind
 * `Authorization: Bearer <token>` (HTTP, WebSocket) or the api_key of the TCP handshake.
 *
 * Credentials
 *   - API keys: loaded from a file (`--api-keys FILE`: one key per line; blank lines and lines whose
 *     first non-blank character is '#' are ignored; spaces and tabs around a key are trimmed) and/or
 *     from an environment variable (UZWHISPER_API_KEYS: keys separated by commas or newlines; what a
 *     Kubernetes Secret exposes through `env.valueFrom.secretKeyRef`). A key is 16 to
 *     UZS_AUTH_MAX_KEY_LEN bytes of the RFC 6750 token characters (letters, digits, - . _ ~ + /,
 *     then '=' padding only at the end), so it can always be sent in a Bearer header; a key that
 *     would look like a JWT (exactly two dots) is refused. The first bad line is refused with its
 *     number and the whole load fails (the server must not start with half its keys). Repeated keys
 *     are kept once.
 *   - Keys are stored only as SHA-256 digests. A presented key is hashed and compared with
 *     CRYPTO_memcmp against every stored digest with no early exit, so the time taken does not
 *     depend on which key (if any) matched, nor on how many bytes of it were right.
 *   - JWT secret: one HS256 secret from a file (`--jwt-secret-file FILE`: its whole content) or from
 *     UZWHISPER_JWT_SECRET; trailing CR, LF, spaces and tabs are trimmed from either. RFC 7518
 *     section 3.2 requires an HS256 key of at least 256 bits, so a secret shorter than 32 bytes is
 *     refused.
 *   - File permissions: a keys or secret file that anyone may WRITE is refused (anyone could add a
 *     key). A world-READABLE file is accepted, because Kubernetes mounts Secret volumes 0644 by
 *     default, but it is reported by uzs_auth_warning() for the server to log.
 *
 * Checking (uzs_auth_check)
 *   - Accepts "Bearer <token>" (scheme case-insensitive, one or more spaces or tabs before the
 *     token, surrounding blanks ignored) or a bare token (the TCP handshake's api_key). Any other
 *     scheme ("Basic ...") is malformed. Longer than UZS_AUTH_MAX_CREDENTIAL_LEN bytes: malformed.
 *   - A token with exactly two dots is a JWT, anything else an API key.
 *   - JWT order of checks: the header is decoded and its "alg" must be exactly "HS256" (alg "none",
 *     "hs256", HS384/512, RS*, ES* and a missing alg are refused as wrong_alg; a "crit" header or a
 *     "typ" other than JWT is malformed) BEFORE anything else of the token is read; then the
 *     signature is recomputed with HMAC-SHA256 and compared in constant time (CRYPTO_memcmp over
 *     the 32 raw bytes); only a token whose signature holds is handed to libjwt (which verifies it
 *     again and parses the claims). Claims: "exp" (a number) is required and must satisfy
 *     now < exp + UZS_AUTH_LEEWAY_S; "nbf", if present, must satisfy now >= nbf - UZS_AUTH_LEEWAY_S;
 *     "sub", if a string, is returned (truncated to fit) for logs and metrics. "iss", "aud" and
 *     "iat" are not checked (one secret = one issuer; add an audience option if that changes).
 *   - Every result carries a message safe to send to a client: it never contains the token, a key
 *     or the secret, nor tells how close a guess was. res->detail adds server-side context for
 *     logs (e.g. how long ago a token expired), also free of secrets.
 *   - Auth is OFF when no key and no secret are configured: every request passes (status ok,
 *     method UZS_AUTH_METHOD_OFF). The server should warn about it at start.
 *
 * Threads: load everything first; after that an uzs_auth is read-only and uzs_auth_check may be
 * called from any number of threads at once. To rotate keys, build a new uzs_auth and swap it in.
 */
#ifndef UZS_AUTH_H
#define UZS_AUTH_H

#include <stddef.h>
#include <time.h>

#define UZS_AUTH_MIN_KEY_LEN 16            /* bytes */
#define UZS_AUTH_MAX_KEY_LEN 512           /* bytes */
#define UZS_AUTH_MAX_KEYS 10000            /* keys in one uzs_auth */
#define UZS_AUTH_MIN_SECRET_LEN 32         /* bytes: 256 bits, RFC 7518 section 3.2 */
#define UZS_AUTH_MAX_SECRET_LEN 4096       /* bytes */
#define UZS_AUTH_MAX_FILE_SIZE (1 << 20)   /* bytes of a keys or secret file */
#define UZS_AUTH_MAX_CREDENTIAL_LEN 8192   /* bytes of a header value or bare token */
#define UZS_AUTH_LEEWAY_S 30               /* seconds of clock skew allowed on exp and nbf */

#define UZS_AUTH_DEFAULT_KEYS_ENV "UZWHISPER_API_KEYS"
#define UZS_AUTH_DEFAULT_SECRET_ENV "UZWHISPER_JWT_SECRET"

typedef struct uzs_auth uzs_auth;

typedef enum {
    UZS_AUTH_OK = 0,
    UZS_AUTH_MISSING,       /* no credentials at all                                   */
    UZS_AUTH_MALFORMED,     /* not a Bearer header, bad characters, bad JWT structure,
                               missing or mistyped claims                              */
    UZS_AUTH_UNKNOWN_KEY,   /* an API key that is not configured (or JWTs not enabled) */
    UZS_AUTH_BAD_SIGNATURE, /* a well-formed HS256 JWT whose signature does not match  */
    UZS_AUTH_EXPIRED,       /* now >= exp + leeway                                     */
    UZS_AUTH_NOT_YET_VALID, /* now < nbf - leeway                                      */
    UZS_AUTH_WRONG_ALG,     /* a JWT whose alg is not exactly HS256                    */
    UZS_AUTH_INTERNAL,      /* out of memory or a crypto library failure               */
    UZS_AUTH_N_STATUS
} uzs_auth_status;

typedef enum {
    UZS_AUTH_METHOD_NONE = 0, /* not authenticated          */
    UZS_AUTH_METHOD_OFF,      /* auth is off: nothing needed */
    UZS_AUTH_METHOD_API_KEY,
    UZS_AUTH_METHOD_JWT,
} uzs_auth_method;

typedef struct {
    uzs_auth_status status;
    uzs_auth_method method;
    int key_index;       /* API key: its index in load order (0-based) for logs; -1 otherwise */
    char subject[128];   /* JWT: the "sub" claim when it is a string (truncated), else ""   */
    long long expires;   /* JWT: the "exp" claim (seconds since the epoch); 0 otherwise     */
    char message[128];   /* safe to send to the client                                      */
    char detail[192];    /* for the server's log; never contains the token, key or secret   */
} uzs_auth_result;

/* An empty uzs_auth (auth off until keys or a secret are added). NULL when out of memory. */
uzs_auth *uzs_auth_new(void);
/* Wipes the digests and the secret, then frees. NULL is fine. */
void uzs_auth_free(uzs_auth *a);

/* Add the keys of a keys file (format above). On error nothing from this file is kept, and err
 * names the file and the line. Returns 0 / -1. */
int uzs_auth_load_keys_file(uzs_auth *a, const char *path, char *err, size_t err_size);
/* Add keys from text: sep_commas = 0: one key per line (the file format, '#' comments);
 * sep_commas = 1: keys separated by commas or newlines (the environment format, no comments).
 * source names the text in messages ("UZWHISPER_API_KEYS", a path). All or nothing. 0 / -1. */
int uzs_auth_add_keys_text(uzs_auth *a, const char *text, size_t len, int sep_commas, const char *source,
                           char *err, size_t err_size);
/* Set the HS256 secret (len bytes, any bytes allowed). Fails if one is already set or it is
 * shorter than UZS_AUTH_MIN_SECRET_LEN. source names it in messages. 0 / -1. */
int uzs_auth_set_jwt_secret(uzs_auth *a, const void *secret, size_t len, const char *source, char *err,
                            size_t err_size);
/* The secret from a file: its content with trailing CR, LF, spaces and tabs trimmed. 0 / -1. */
int uzs_auth_load_jwt_secret_file(uzs_auth *a, const char *path, char *err, size_t err_size);
/* Read keys_var (NULL: UZWHISPER_API_KEYS; comma/newline separated) and secret_var (NULL:
 * UZWHISPER_JWT_SECRET; trailing blanks and newlines trimmed) from the environment; an unset or
 * empty variable adds nothing. *added (may be NULL) gets 1 if anything was added. Call before
 * starting threads (getenv). 0 / -1. */
int uzs_auth_load_env(uzs_auth *a, const char *keys_var, const char *secret_var, int *added, char *err,
                      size_t err_size);

/* 1 when at least one key or a secret is configured (auth on). */
int uzs_auth_enabled(const uzs_auth *a);
/* Number of distinct API keys; whether a JWT secret is set. */
int uzs_auth_n_keys(const uzs_auth *a);
int uzs_auth_has_jwt(const uzs_auth *a);
/* A warning collected while loading (e.g. a world-readable keys file), or NULL. */
const char *uzs_auth_warning(const uzs_auth *a);

/* Check credentials: an Authorization header value or a bare token, NUL-terminated (NULL or empty:
 * missing). now: the current time (time(NULL)), passed in so tests control it. Fills res (never
 * NULL) and returns res->status. a == NULL means auth off. */
uzs_auth_status uzs_auth_check(const uzs_auth *a, const char *credentials, time_t now, uzs_auth_result *res);
/* The same on len bytes that need not be NUL-terminated (a JSON string may hold a NUL byte: that
 * is malformed). */
uzs_auth_status uzs_auth_check_n(const uzs_auth *a, const char *credentials, size_t len, time_t now,
                                 uzs_auth_result *res);

/* The JWT check alone (what uzs_auth_check does for a token with two dots): token[len], the HS256
 * secret[secret_len]. Fills res (method JWT on success). */
uzs_auth_status uzs_auth_verify_jwt(const unsigned char *secret, size_t secret_len, const char *token, size_t len,
                                    time_t now, uzs_auth_result *res);

/* "ok", "missing", "malformed", "unknown_key", "bad_signature", "expired", "not_yet_valid",
 * "wrong_alg", "internal": stable names for logs and metric labels. */
const char *uzs_auth_status_name(uzs_auth_status s);
/* The HTTP status for a result: 200 for ok, 401 for a credential problem, 500 for internal. */
int uzs_auth_http_status(uzs_auth_status s);
/* The WWW-Authenticate header value to send with a 401 (RFC 6750 section 3): a missing credential
 * gets `Bearer realm="uzwhisper"`, a bad one `Bearer realm="uzwhisper", error="invalid_token"` or
 * error="invalid_request" for a malformed header. NULL for ok and internal. */
const char *uzs_auth_www_authenticate(uzs_auth_status s);

#endif
