/* auth_internal.h - the inside of uzs_auth, shared by auth.c, auth_check.c and auth_jwt.c only. */
#ifndef UZS_AUTH_INTERNAL_H
#define UZS_AUTH_INTERNAL_H

#include <stddef.h>

#include "auth.h"

#define UZS_AUTH_DIGEST_LEN 32 /* SHA-256 */

struct uzs_auth {
    unsigned char (*digests)[UZS_AUTH_DIGEST_LEN]; /* (n_keys, 32) SHA-256 of each API key, load order */
    int n_keys, cap_keys;
    unsigned char *secret;                         /* (secret_len) HS256 key, or NULL            */
    size_t secret_len;
    char warning[320];                             /* first load warning, or ""                  */
};

/* 1 for a character of RFC 6750's b64token other than the '=' padding. */
int uzs_auth_token_char(unsigned char c);

/* Fill res for a status: method NONE, the status's standard client message, detail (printf). */
void uzs_auth_fail(uzs_auth_result *res, uzs_auth_status s, const char *message, const char *detail_fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
