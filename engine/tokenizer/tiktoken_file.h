/*
 * tiktoken_file.h - read OAI's .tiktoken BPE rank files (one line per token: base64 of the token
 * bytes, a space, the rank; the rank must equal the line number from 0) into the arrays that
 * uzw_tokenizer_new takes.
 */
#ifndef UZW_TIKTOKEN_FILE_H
#define UZW_TIKTOKEN_FILE_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int n;               /* V: number of tokens (ranks 0..V-1) */
    const uint8_t **tok; /* (V) token bytes, pointing into blob (a valid pointer even when empty) */
    uint32_t *len;       /* (V) */
    uint8_t *blob;       /* all token bytes, back to back */
} uzw_tiktoken;

/* Parse text (len bytes, not necessarily NUL-terminated). 0 or -1 with a message in err. */
int uzw_tiktoken_parse(const char *text, size_t len, uzw_tiktoken *out, char *err, size_t err_size);
/* Read and parse a file. */
int uzw_tiktoken_load(const char *path, uzw_tiktoken *out, char *err, size_t err_size);
void uzw_tiktoken_free(uzw_tiktoken *tk);

#endif
