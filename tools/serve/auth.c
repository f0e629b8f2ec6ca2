/* auth.c - the uzs_auth object: API keys (stored as SHA-256 digests) and the HS256 secret, loaded
 * from files, text or the environment (formats and rules: auth.h). The checks themselves are in
 * auth_check.c (header parsing, key lookup) and auth_jwt.c (tokens). */
#include "auth.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth_internal.h"
#include "core/util.h" /* uzw_errf */

/* ---------------------------------------------------------------- object */

uzs_auth *uzs_auth_new(void) { return calloc(1, sizeof(uzs_auth)); }

void uzs_auth_free(uzs_auth *a) {
    if (!a) return;
    if (a->digests) {
        OPENSSL_cleanse(a->digests, (size_t)a->cap_keys * UZS_AUTH_DIGEST_LEN);
        free(a->digests);
    }
    if (a->secret) {
        OPENSSL_cleanse(a->secret, a->secret_len);
        free(a->secret);
    }
    OPENSSL_cleanse(a, sizeof *a);
    free(a);
}

int uzs_auth_enabled(const uzs_auth *a) { return a && (a->n_keys > 0 || a->secret != NULL); }
int uzs_auth_n_keys(const uzs_auth *a) { return a ? a->n_keys : 0; }
int uzs_auth_has_jwt(const uzs_auth *a) { return a && a->secret != NULL; }
const char *uzs_auth_warning(const uzs_auth *a) { return a && a->warning[0] ? a->warning : NULL; }

/* ---------------------------------------------------------------- key syntax */

/* RFC 6750 b64token: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" */
int uzs_auth_token_char(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~' || c == '+' || c == '/';
}

/* 1 when key[len] is an acceptable key; 0 with the reason in why. */
static int key_syntax_ok(const char *key, size_t len, char *why, size_t why_size) {
    if (len < UZS_AUTH_MIN_KEY_LEN) {
        snprintf(why, why_size, "the key is %zu bytes long; at least %d are required", len, UZS_AUTH_MIN_KEY_LEN);
        return 0;
    }
    if (len > UZS_AUTH_MAX_KEY_LEN) {
        snprintf(why, why_size, "the key is %zu bytes long; at most %d are allowed", len, UZS_AUTH_MAX_KEY_LEN);
        return 0;
    }
    size_t n_pad = 0, dots = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)key[i];
        if (c < 0x20 || c == 0x7f) {
            snprintf(why, why_size, "control character 0x%02x at column %zu", c, i + 1);
            return 0;
        }
        if (c >= 0x80) {
            snprintf(why, why_size, "non-ASCII byte 0x%02x at column %zu", c, i + 1);
            return 0;
        }
        if (c == '=') {
            n_pad++;
            continue;
        }
        if (n_pad) {
            snprintf(why, why_size, "'=' is allowed only at the end of a key (column %zu)", i + 1 - n_pad);
            return 0;
        }
        if (!uzs_auth_token_char(c)) {
            snprintf(why, why_size,
                     "character '%c' at column %zu is not allowed (keys use letters, digits and - . _ ~ + /)", c,
                     i + 1);
            return 0;
        }
        if (c == '.') dots++;
    }
    if (dots == 2) {
        snprintf(why, why_size, "the key has exactly two dots, so it would be taken for a JWT");
        return 0;
    }
    return 1;
}

/* ---------------------------------------------------------------- adding keys */

static int is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

static int add_digest(unsigned char (**arr)[UZS_AUTH_DIGEST_LEN], int *n, int *cap, const unsigned char *d) {
    for (int i = 0; i < *n; i++)
        if (memcmp((*arr)[i], d, UZS_AUTH_DIGEST_LEN) == 0) return 0; /* a repeat: kept once */
    if (*n == *cap) {
        int ncap = *cap ? *cap * 2 : 16;
        unsigned char(*na)[UZS_AUTH_DIGEST_LEN] = calloc((size_t)ncap, UZS_AUTH_DIGEST_LEN);
        if (!na) return -1;
        if (*arr) {
            memcpy(na, *arr, (size_t)*n * UZS_AUTH_DIGEST_LEN);
            OPENSSL_cleanse(*arr, (size_t)*cap * UZS_AUTH_DIGEST_LEN);
            free(*arr);
        }
        *arr = na;
        *cap = ncap;
    }
    memcpy((*arr)[*n], d, UZS_AUTH_DIGEST_LEN);
    (*n)++;
    return 0;
}

int uzs_auth_add_keys_text(uzs_auth *a, const char *text, size_t len, int sep_commas, const char *source,
                           char *err, size_t err_size) {
    if (!a || (!text && len)) {
        uzw_errf(err, err_size, "uzs_auth_add_keys_text: no auth object or text");
        return -1;
    }
    if (!source) source = "keys";
    /* the new keys go into a copy of the list, swapped in only when every item is good */
    unsigned char(*arr)[UZS_AUTH_DIGEST_LEN] = NULL;
    int n = 0, cap = 0, rc = -1;
    for (int i = 0; i < a->n_keys; i++)
        if (add_digest(&arr, &n, &cap, a->digests[i])) goto oom;
    size_t pos = 0;
    int item = 0;
    while (pos < len) {
        size_t end = pos;
        while (end < len && text[end] != '\n' && !(sep_commas && text[end] == ',')) end++;
        item++;
        size_t s = pos, e = end;
        pos = end + 1;
        while (s < e && is_blank(text[s])) s++;
        while (e > s && is_blank(text[e - 1])) e--;
        if (s == e) continue;
        if (!sep_commas && text[s] == '#') continue;
        char why[160];
        if (!key_syntax_ok(text + s, e - s, why, sizeof why)) {
            uzw_errf(err, err_size, "%s: %s %d: %s", source, sep_commas ? "item" : "line", item, why);
            goto done;
        }
        unsigned char d[UZS_AUTH_DIGEST_LEN];
        SHA256((const unsigned char *)text + s, e - s, d);
        int r = add_digest(&arr, &n, &cap, d);
        OPENSSL_cleanse(d, sizeof d);
        if (r) goto oom;
        if (n > UZS_AUTH_MAX_KEYS) {
            uzw_errf(err, err_size, "%s: more than %d keys", source, UZS_AUTH_MAX_KEYS);
            goto done;
        }
    }
    if (a->digests) {
        OPENSSL_cleanse(a->digests, (size_t)a->cap_keys * UZS_AUTH_DIGEST_LEN);
        free(a->digests);
    }
    a->digests = arr;
    a->n_keys = n;
    a->cap_keys = cap;
    return 0;
oom:
    uzw_errf(err, err_size, "%s: out of memory", source);
done:
    if (arr) {
        OPENSSL_cleanse(arr, (size_t)cap * UZS_AUTH_DIGEST_LEN);
        free(arr);
    }
    return rc;
}

/* ---------------------------------------------------------------- files */

/* Read a whole keys/secret file (malloc'ed into *data, size *size; wipe and free it). Refuses what
 * is not a regular file, too big or world-writable; notes a world-readable one in a->warning. */
static int read_secret_file(uzs_auth *a, const char *path, const char *what, char **data, size_t *size, char *err,
                            size_t err_size) {
    *data = NULL;
    *size = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        uzw_errf(err, err_size, "%s %s: %s", what, path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        uzw_errf(err, err_size, "%s %s: %s", what, path, strerror(errno));
        close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        uzw_errf(err, err_size, "%s %s: not a regular file", what, path);
        close(fd);
        return -1;
    }
    if (st.st_mode & S_IWOTH) {
        uzw_errf(err, err_size, "%s %s: every user may write to it (mode %04o); chmod o-w it", what, path,
                (unsigned)(st.st_mode & 07777));
        close(fd);
        return -1;
    }
    if (st.st_size > UZS_AUTH_MAX_FILE_SIZE) {
        uzw_errf(err, err_size, "%s %s: %lld bytes, more than the %d allowed", what, path, (long long)st.st_size,
                UZS_AUTH_MAX_FILE_SIZE);
        close(fd);
        return -1;
    }
    char *buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        uzw_errf(err, err_size, "%s %s: out of memory", what, path);
        close(fd);
        return -1;
    }
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            uzw_errf(err, err_size, "%s %s: %s", what, path, strerror(errno));
            OPENSSL_cleanse(buf, got);
            free(buf);
            close(fd);
            return -1;
        }
        if (r == 0) break; /* shrank while reading: take what is there */
        got += (size_t)r;
    }
    close(fd);
    buf[got] = 0;
    if ((st.st_mode & S_IROTH) && !a->warning[0])
        snprintf(a->warning, sizeof a->warning,
                 "%s %s is readable by every user (mode %04o): chmod 600 it unless it is a Kubernetes Secret volume",
                 what, path, (unsigned)(st.st_mode & 07777));
    *data = buf;
    *size = got;
    return 0;
}

int uzs_auth_load_keys_file(uzs_auth *a, const char *path, char *err, size_t err_size) {
    if (!a || !path) {
        uzw_errf(err, err_size, "uzs_auth_load_keys_file: no auth object or path");
        return -1;
    }
    char *data;
    size_t size;
    if (read_secret_file(a, path, "API keys file", &data, &size, err, err_size)) return -1;
    int rc = uzs_auth_add_keys_text(a, data, size, 0, path, err, err_size);
    OPENSSL_cleanse(data, size);
    free(data);
    return rc;
}

/* ---------------------------------------------------------------- the JWT secret */

int uzs_auth_set_jwt_secret(uzs_auth *a, const void *secret, size_t len, const char *source, char *err,
                            size_t err_size) {
    if (!source) source = "JWT secret";
    if (!a || (!secret && len)) {
        uzw_errf(err, err_size, "uzs_auth_set_jwt_secret: no auth object or secret");
        return -1;
    }
    if (a->secret) {
        uzw_errf(err, err_size, "%s: a JWT secret is already set (only one is used)", source);
        return -1;
    }
    if (len < UZS_AUTH_MIN_SECRET_LEN) {
        uzw_errf(err, err_size, "%s: the JWT secret is %zu bytes; HS256 needs at least %d (RFC 7518 3.2)", source, len,
                UZS_AUTH_MIN_SECRET_LEN);
        return -1;
    }
    if (len > UZS_AUTH_MAX_SECRET_LEN) {
        uzw_errf(err, err_size, "%s: the JWT secret is %zu bytes; at most %d are allowed", source, len,
                UZS_AUTH_MAX_SECRET_LEN);
        return -1;
    }
    a->secret = malloc(len);
    if (!a->secret) {
        uzw_errf(err, err_size, "%s: out of memory", source);
        return -1;
    }
    memcpy(a->secret, secret, len);
    a->secret_len = len;
    return 0;
}

int uzs_auth_load_jwt_secret_file(uzs_auth *a, const char *path, char *err, size_t err_size) {
    if (!a || !path) {
        uzw_errf(err, err_size, "uzs_auth_load_jwt_secret_file: no auth object or path");
        return -1;
    }
    char *data;
    size_t size;
    if (read_secret_file(a, path, "JWT secret file", &data, &size, err, err_size)) return -1;
    size_t n = size;
    while (n > 0 && data[n - 1] && strchr("\n\r \t", data[n - 1])) n--;
    int rc = uzs_auth_set_jwt_secret(a, data, n, path, err, err_size);
    OPENSSL_cleanse(data, size);
    free(data);
    return rc;
}

/* ---------------------------------------------------------------- environment */

int uzs_auth_load_env(uzs_auth *a, const char *keys_var, const char *secret_var, int *added, char *err,
                      size_t err_size) {
    if (added) *added = 0;
    if (!a) {
        uzw_errf(err, err_size, "uzs_auth_load_env: no auth object");
        return -1;
    }
    if (!keys_var) keys_var = UZS_AUTH_DEFAULT_KEYS_ENV;
    if (!secret_var) secret_var = UZS_AUTH_DEFAULT_SECRET_ENV;
    const char *keys = getenv(keys_var);
    if (keys && keys[0]) {
        int before = a->n_keys;
        if (uzs_auth_add_keys_text(a, keys, strlen(keys), 1, keys_var, err, err_size)) return -1;
        if (added && a->n_keys > before) *added = 1;
    }
    const char *secret = getenv(secret_var);
    if (secret && secret[0]) {
        size_t n = strlen(secret); /* a Secret made with `echo` ends in a newline: trimmed as in files */
        while (n > 0 && strchr("\n\r \t", secret[n - 1])) n--;
        if (uzs_auth_set_jwt_secret(a, secret, n, secret_var, err, err_size)) return -1;
        if (added) *added = 1;
    }
    return 0;
}
